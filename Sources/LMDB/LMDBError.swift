import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An error returned by LMDB, with the LMDB return code, LMDB's own message, the operation that
/// failed and, where it helps, what it was working on (a path, a database name).
public struct LMDBError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The LMDB return code (`MDB_MAP_FULL`, `MDB_NOTFOUND`, …) or an `errno` value.
    public var code: Int32
    /// The LMDB function or step that failed, e.g. `mdb_txn_commit`.
    public var operation: String
    /// What the operation was working on, if anything useful can be said.
    public var context: String?
    /// What went wrong, when this layer found it rather than LMDB (LMDB's text for the
    /// code would say something else).
    public var detail: String?

    public init(code: Int32, operation: String, context: String? = nil, detail: String? = nil) {
        self.code = code
        self.operation = operation
        self.context = context
        self.detail = detail
    }

    /// LMDB's text for the code (it falls back to `strerror` for system errors).
    public var message: String { detail ?? String(cString: mdb_strerror(code)) }

    public var description: String {
        var text = "\(operation): \(message) (code \(code))"
        if let context { text += " [\(context)]" }
        return text
    }

    /// The map is full: the transaction is dead and the map must grow before a retry.
    public var isMapFull: Bool { code == MDB_MAP_FULL }
    /// Another process grew the map: adopt its size, then retry.
    public var isMapResized: Bool { code == MDB_MAP_RESIZED }
    /// The key (or, from `mdb_dbi_open`, the database) is not there.
    public var isNotFound: Bool { code == MDB_NOTFOUND }
    /// The key is there already (a put with `.noOverwrite`).
    public var isKeyExists: Bool { code == MDB_KEYEXIST }
    /// LMDB found its file damaged: a page of the wrong kind or past the end, or no valid
    /// header.
    public var isCorrupted: Bool {
        code == MDB_CORRUPTED || code == MDB_PAGE_NOTFOUND || code == MDB_INVALID || code == MDB_VERSION_MISMATCH
    }
    /// Memory could not be had: from `mdb_env_open`, the map did not fit in the address space.
    public var isOutOfMemory: Bool { code == ENOMEM }
    /// The disk (not the map) has no room left.
    public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
}

/// Throws an `LMDBError` unless `code` is `MDB_SUCCESS`.
@inline(__always)
func check(_ code: Int32, _ operation: @autoclosure () -> String, context: @autoclosure () -> String? = nil) throws(LMDBError) {
    if code != MDB_SUCCESS {
        throw LMDBError(code: code, operation: operation(), context: context())
    }
}
