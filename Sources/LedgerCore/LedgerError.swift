import LMDB
import LedgerValues

/// Every error the ledger reports: what kind of failure it is (which decides the exit code a
/// script sees), one line saying what is wrong, and, for batch input, the line it came from.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input is not acceptable: bad JSON, a missing field, a bad date, an unknown value.
        case invalidInput
        /// There is no ledger (or no such event) where one was named.
        case notFound
        /// The append lost a race or reused an id: nothing was written; a script may retry.
        case conflict
        /// The storage failed: LMDB, the disk, the file system.
        case storage
        /// The ledger does not verify.
        case verificationFailed
        /// A writing command met a ledger opened read-only.
        case readOnly
        /// A projection cannot answer until it is rebuilt.
        case stale
    }

    public var kind: Kind
    public var message: String
    /// The 1-based line of batch input the error is about.
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    /// The message as one line: control characters in it (a key or value quoted from the
    /// input may hold any) are shown escaped.
    public var description: String {
        if let line { return "line \(line): \(MessageText.oneLine(message))" }
        return MessageText.oneLine(message)
    }

    /// The same error, said of batch line `line`.
    func at(line: Int?) -> LedgerError {
        var copy = self
        if copy.line == nil { copy.line = line }
        return copy
    }

    static func storage(_ error: LMDBError, doing what: String) -> LedgerError {
        if error.isDiskFull {
            return LedgerError(.storage, "\(what): the disk is full (\(error.operation)); nothing was written")
        }
        if error.isCorrupted {
            return LedgerError(.storage, "\(what): the ledger file is damaged (LMDB: \(error.message), in \(error.context ?? error.operation)); "
                                   + "run 'civic-ledger verify' on a backup or restore one")
        }
        if error.isOutOfMemory && error.operation == "mdb_env_open" {
            return LedgerError(.storage, "\(what): the ledger file cannot be mapped into memory (\(error.message)); "
                                   + "its header may be damaged: run 'civic-ledger verify' on a backup or restore one")
        }
        return LedgerError(.storage, "\(what): \(error)")
    }
}
