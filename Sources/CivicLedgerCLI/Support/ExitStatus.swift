import ArgumentParser
import LedgerCore
import LedgerValues

/// The exit codes every command uses (sysexits.h numbers where one fits), documented in
/// `--help` and the README. Scripts branch on them.
enum ExitStatus {
    static let ok: Int32 = 0
    static let verificationFailed: Int32 = 1
    static let usage: Int32 = 64
    static let invalidInput: Int32 = 65
    static let notFound: Int32 = 66
    static let storage: Int32 = 74
    static let conflict: Int32 = 75
    static let stale: Int32 = 69
    static let readOnly: Int32 = 77

    static let table = """
        Exit codes:
          0   ok
          1   verification failed (verify); an instance is invalid (schema validate)
          64  usage: unknown option, missing argument
          65  invalid input: bad JSON, missing field, bad date, value out of range
          66  not found: no ledger (append needs --create), no such event or file
          69  a projection is stale: run 'civic-ledger rebuild' (or --auto-rebuild)
          74  storage or I/O error: LMDB, disk full, permissions
          75  conflict: stale expected version, id reused with other content
          77  read-only: a writing command on a ledger opened --read-only
        """

    static func code(for kind: LedgerError.Kind) -> Int32 {
        switch kind {
        case .invalidInput: return invalidInput
        case .notFound: return notFound
        case .conflict: return conflict
        case .storage: return storage
        case .verificationFailed: return verificationFailed
        case .readOnly: return readOnly
        case .stale: return stale
        }
    }
}

extension ParsableCommand {
    /// Runs `body`; a `LedgerError` becomes one line on standard error and its exit code.
    func reportingErrors(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as LedgerError {
            Output.standardOutput.flush()
            ProgressBar.endLine()
            Output.error("civic-ledger: \(error)")
            throw ExitCode(ExitStatus.code(for: error.kind))
        }
    }
}
