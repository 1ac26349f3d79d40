import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import LedgerSchemas
import LedgerValues

/// A batch's events in order, in chunks that may still be being prepared while the writer
/// takes the first ones: preparing (parsing, validating, canonicalising) runs in the
/// background and the write transaction waits for each chunk only when it gets to it.
///
/// The background has one thread fewer than the machine has cores: the writer, which is the
/// slowest part, keeps a core of its own. When it gets to a chunk a worker is still preparing,
/// it prepares the next chunk no one has started instead of waiting, so no core idles either.
///
/// A chunk is prepared once and kept, so the writer can go over the batch again when the map
/// has to grow and the transaction starts over.
///
/// A background worker checks lines against a copy of the event catalog of its own, the
/// writer against the program's (`EventCatalog.shared`): looking a type up and validating take
/// and drop references to the catalog's objects, and with one catalog for both threads those
/// reference counts went back and forth between the cores' caches on every event. (A line the
/// tape declines is prepared through its draft, against the program's catalog.)
public final class PreparedBatch: Sendable {
    /// The number of events (non-blank lines).
    public let count: Int
    /// About how many bytes the batch's records take: what the map must have room for.
    let estimatedBytes: Int
    private let chunks: [Chunk]
    /// The first chunk no one has been handed yet (workers and the waiting writer take them in
    /// order from here).
    private let nextChunk = Atomic<Int>(0)

    /// One chunk's events, or the error of its first bad line. Whoever comes first prepares
    /// it: a background worker, or the writer when it needs the chunk before any worker has
    /// started it (so the writer never waits on a thread pool that has no thread to spare).
    private final class Chunk: @unchecked Sendable {
        private let claimed: Atomic<Bool>
        private let finished: Atomic<Bool>
        private let done = DispatchSemaphore(value: 0)
        private let work: (@Sendable (EventCatalog) -> Result<[PreparedEvent], LedgerError>)?
        // Written once by whoever claimed the chunk before `finished` is set and `done`
        // signalled, read only after either.
        private var result: Result<[PreparedEvent], LedgerError> = .success([])

        init(_ work: @escaping @Sendable (EventCatalog) -> Result<[PreparedEvent], LedgerError>) {
            claimed = Atomic(false)
            finished = Atomic(false)
            self.work = work
        }

        init(ready events: [PreparedEvent]) {
            claimed = Atomic(true)
            finished = Atomic(true)
            work = nil
            result = .success(events)
            done.signal()
        }

        var isFinished: Bool { finished.load(ordering: .acquiring) }

        /// Prepares the chunk here, with `catalog`, unless someone has started it; whether it did.
        @discardableResult
        func prepareUnlessStarted(with catalog: EventCatalog) -> Bool {
            guard let work, claimed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
            result = work(catalog)
            finished.store(true, ordering: .releasing)
            done.signal()
            return true
        }

        func wait(preparingWith catalog: EventCatalog) -> Result<[PreparedEvent], LedgerError> {
            prepareUnlessStarted(with: catalog)
            done.wait()
            done.signal()  // leaves it open for the next wait
            return result
        }
    }

    /// Events already prepared, as one chunk.
    public init(_ events: [PreparedEvent]) {
        count = events.count
        estimatedBytes = events.reduce(0) { $0 + $1.recordBytes }
        chunks = [Chunk(ready: events)]
    }

    /// Starts preparing `lines` of `input` in the background.
    /// `inBackground` false leaves every chunk to the writer (for tests: the path a writer takes
    /// when no worker has started a chunk it needs).
    init(preparing input: [UInt8], lines: [(number: Int, range: Range<Int>)], today: EffectiveTime, validation: DataValidation,
         inBackground: Bool = true) {
        count = lines.count
        // A record is about its line's size plus the fields the ledger adds.
        estimatedBytes = input.count + lines.count * PreparedEvent.ledgerFieldBytes
        // Small chunks let the writer start early; a small batch is one chunk.
        let chunkSize = lines.count >= 4096 ? max(1024, lines.count / 64) : max(lines.count, 1)
        let work = { @Sendable (index: Int, catalog: EventCatalog) in
            let range = index * chunkSize..<min((index + 1) * chunkSize, lines.count)
            return Result { () throws(LedgerError) in
                var prepared: [PreparedEvent] = []
                prepared.reserveCapacity(range.count)
                var tape = JSONTape()
                let output = ReusableBuffer<UInt8>(capacity: 1024)
                try input.withUnsafeBufferPointer { input throws(LedgerError) in
                    for (number, line) in lines[range] {
                        let bytes = UnsafeBufferPointer(rebasing: input[line])
                        if let event = PreparedEvent.fromTape(bytes, number: number, today: today, validation: validation,
                                                              catalog: catalog, tape: &tape, output: output) {
                            prepared.append(event)
                            continue
                        }
                        do throws(LedgerError) {
                            let draft = try EventDraft(json: bytes)
                            prepared.append(try PreparedEvent(draft, line: number, today: today, validation: validation))
                        } catch {
                            throw error.at(line: number)
                        }
                    }
                }
                return prepared
            }
        }
        let chunks = (0..<(lines.count + chunkSize - 1) / chunkSize).map { index in Chunk { work(index, $0) } }
        self.chunks = chunks
        // A small batch is prepared by the writer as it takes it.
        if inBackground, chunks.count > 1 {
            let workers = max(1, min(chunks.count, sysconf(Int32(_SC_NPROCESSORS_ONLN)) - 1))
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: workers) { _ in
                    lazy var catalog = EventCatalog.embedded()  // made when the worker gets a chunk
                    while let next = self.takeNextChunk() { chunks[next].prepareUnlessStarted(with: catalog) }
                }
            }
        }
    }

    /// The first chunk no one has been handed yet, now handed to the caller; nil when all have been.
    private func takeNextChunk() -> Int? {
        let next = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
        return next < chunks.count ? next : nil
    }

    var chunkCount: Int { chunks.count }

    /// The events of chunk `index`, waiting for them if need be; the error of its first bad
    /// line if it has one.
    func events(inChunk index: Int) throws(LedgerError) -> [PreparedEvent] {
        let chunk = chunks[index]
        if !chunk.prepareUnlessStarted(with: .shared) {
            // Someone else is preparing it: prepare a later one meanwhile rather than wait.
            while !chunk.isFinished, let other = takeNextChunk() { chunks[other].prepareUnlessStarted(with: .shared) }
        }
        return try chunk.wait(preparingWith: .shared).get()
    }

    /// Every event, once all are prepared; else the error of the first bad line.
    public func allEvents() throws(LedgerError) -> [PreparedEvent] {
        var all: [PreparedEvent] = []
        all.reserveCapacity(count)
        for index in chunks.indices { all.append(contentsOf: try events(inChunk: index)) }
        return all
    }

    /// The error of the first bad line, once all are prepared; nil when every line is good.
    public func firstInputError() -> LedgerError? {
        for chunk in chunks { if case .failure(let error) = chunk.wait(preparingWith: .shared) { return error } }
        return nil
    }
}
