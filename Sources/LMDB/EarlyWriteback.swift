import CLMDB
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Starts the disk on a big commit's pages while LMDB is still writing the rest.
///
/// LMDB commits by writing every dirty page to the file, then waiting for the disk
/// (`fdatasync`). For a transaction of hundreds of megabytes the wait is a quarter of a second
/// or more, spent after the last page is written. This helper, on another thread, asks the
/// kernel every few milliseconds to start writing the pages written so far
/// (`sync_file_range`), so the disk works while LMDB copies, and less is left for the final
/// wait. It changes no data and no guarantee: the commit is durable by LMDB's own sync, as
/// before.
final class EarlyWriteback: Sendable {
    /// Below this many bytes put in a transaction, the commit is too short to gain.
    static let threshold = 16 << 20
    /// LMDB keeps up to 131,072 dirty pages (512 MiB of 4 KiB pages) of a transaction in
    /// memory and writes ("spills") some before the commit past that. A write announced at
    /// three quarters of that or more starts the helper with the transaction; a smaller one
    /// writes nothing before its commit.
    static let spillingTransaction = 384 << 20

    private static let waiting = 0, running = 1, finished = 2
    /// `waiting` until the helper runs, `running` while it does, `finished` once `finish` was
    /// called: a helper the thread pool starts only after that does nothing.
    private let state = Atomic<Int>(EarlyWriteback.waiting)
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let firstCallMade = DispatchSemaphore(value: 0)
    /// How many of its requests the kernel accepted.
    private let accepted = Atomic<Int>(0)

    /// Starts asking for writeback of `fileDescriptor`'s dirty pages until `finish`.
    init(fileDescriptor: Int32) {
        DispatchQueue.global().async { [self] in
            guard state.compareExchange(expected: Self.waiting, desired: Self.running, ordering: .acquiringAndReleasing).exchanged else { return }
            var first = true
            while state.load(ordering: .acquiring) == Self.running {
                if civic_start_writeback(fileDescriptor) == 0 { accepted.add(1, ordering: .relaxed) }
                if first { firstCallMade.signal() }
                first = false
                _ = wake.wait(timeout: .now() + .milliseconds(5))
            }
            stopped.signal()
        }
    }

    /// Waits until the helper has made its first request (for tests, which cannot otherwise
    /// tell a helper that never ran from one that ran too late to matter).
    func waitForFirstCall() { firstCallMade.wait() }

    /// Stops the helper; if it has started, waits until it has made its last call (so none is
    /// made on a descriptor the environment may close afterwards). Returns how many of its
    /// requests the kernel accepted.
    @discardableResult
    func finish() -> Int {
        guard state.exchange(Self.finished, ordering: .acquiringAndReleasing) == Self.running else { return 0 }
        wake.signal()
        stopped.wait()
        return accepted.load(ordering: .relaxed)
    }
}
