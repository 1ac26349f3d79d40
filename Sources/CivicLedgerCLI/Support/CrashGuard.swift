import LMDB
import LedgerValues
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns a memory fault into one line on standard error and exit 74.
///
/// LMDB trusts the pages of its file: a damaged B-tree page (a flipped page number, node
/// offset or size) can make it read outside the map, and the process dies of SIGSEGV or
/// SIGBUS with nothing a script can act on. The handler runs on its own stack, does only
/// async-signal-safe calls (`write`, `_exit`), and says what happened and what to do. One
/// of LMDB's own consistency checks failing on such a page (it would abort) is said the same
/// way.
enum CrashGuard {
    nonisolated(unsafe) private static var segv: UnsafeMutableBufferPointer<UInt8>?
    nonisolated(unsafe) private static var bus: UnsafeMutableBufferPointer<UInt8>?

    /// Installs the handlers for the whole process; call once, first thing.
    static func install() {
        segv = message("SIGSEGV")
        bus = message("SIGBUS")
        // The main thread's alternate stack, so that even a fault on an exhausted stack gets
        // its line out.
        let size = 64 << 10
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        stack.ss_size = size
        stack.ss_flags = 0
        sigaltstack(&stack, nil)

        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { signal, _, _ in
            if let text = signal == SIGBUS ? CrashGuard.bus : CrashGuard.segv {
                _ = write(2, text.baseAddress, text.count)
            }
            _exit(74)
        }
        action.sa_flags = SA_SIGINFO | SA_ONSTACK
        sigemptyset(&action.sa_mask)
        sigaction(SIGSEGV, &action, nil)
        sigaction(SIGBUS, &action, nil)

        Environment.assertionHandler = { message in
            Output.error("civic-ledger: error: the ledger file is damaged (LMDB: \(MessageText.quote(message, limit: 200))); "
                         + "run 'civic-ledger verify' on a backup or restore one")
            _exit(74)
        }
    }

    private static func message(_ signal: String) -> UnsafeMutableBufferPointer<UInt8> {
        // Most likely a damaged file (LMDB trusts its pages), but a fault can also be a bug.
        let text = "civic-ledger: error: the program faulted (\(signal)) reading the ledger, which is most likely damaged; "
            + "run 'civic-ledger verify' and restore a backup if it fails\n"
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: text.utf8.count)
        _ = buffer.initialize(from: text.utf8)
        return buffer
    }
}
