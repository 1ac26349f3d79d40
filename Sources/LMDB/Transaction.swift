import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A transaction handed to a `read` or `write` closure. It is valid only inside that closure,
/// and so is every buffer it returns: copy what must outlive it.
public struct Transaction {
    let txn: OpaquePointer
    let state: TransactionState
    /// True for a read transaction, where every write fails with `EACCES`.
    public let isReadOnly: Bool

    init(txn: OpaquePointer, isReadOnly: Bool, state: TransactionState) {
        self.txn = txn
        self.isReadOnly = isReadOnly
        self.state = state
    }

    /// Opens a named database inside this transaction (creating it in a write transaction
    /// when `create` is set); nil when it does not exist. The handle outlives the transaction
    /// only if the transaction commits.
    public func openDatabase(named name: String, create: Bool) throws(LMDBError) -> Database? {
        var dbi: MDB_dbi = 0
        let rc = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
        if rc == MDB_NOTFOUND { return nil }
        if rc == MDB_MAP_FULL { state.mapFull = true }  // creating one needs a page too
        try check(rc, "mdb_dbi_open", context: name)
        return Database(name: name, dbi: dbi)
    }

    /// Deletes a named database and closes its handle.
    public func dropDatabase(_ database: Database) throws(LMDBError) {
        try state.record(mdb_drop(txn, database.dbi, 1), "mdb_drop", database)
    }

    /// The value stored under `key`, or nil.
    public func get(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        let rc = mdb_get(txn, database.dbi, &k, &v)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_get", context: database.name)
        return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// The value stored under the big-endian integer `key`, or nil.
    public func get(_ database: Database, key: UInt64) throws(LMDBError) -> UnsafeRawBufferPointer? {
        try key.withBigEndianBytes { bytes throws(LMDBError) in try get(database, key: bytes) }
    }

    /// Stores `value` under `key`.
    public func put(_ database: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                    options: PutOptions = []) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try state.record(mdb_put(txn, database.dbi, &k, &v, options.rawValue), "mdb_put", database)
        state.bytesPut += key.count + value.count
    }

    /// Stores `value` under `key` unless the key is there already; then returns the value
    /// stored (one B-tree descent for "look up, else insert").
    public func insertIfAbsent(_ database: Database, key: UnsafeRawBufferPointer,
                               value: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        let rc = mdb_put(txn, database.dbi, &k, &v, UInt32(MDB_NOOVERWRITE))
        if rc == MDB_KEYEXIST { return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size) }
        try state.record(rc, "mdb_put", database)
        state.bytesPut += key.count + value.count
        return nil
    }

    /// Deletes the value under `key`; returns false when there was none.
    @discardableResult
    public func delete(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc = mdb_del(txn, database.dbi, &k, nil)
        if rc == MDB_NOTFOUND { return false }
        try state.record(rc, "mdb_del", database)
        return true
    }

    /// Entry count and page use of `database`.
    public func statistics(_ database: Database) throws(LMDBError) -> DatabaseStatistics {
        var stat = MDB_stat()
        try check(mdb_stat(txn, database.dbi, &stat), "mdb_stat", context: database.name)
        return DatabaseStatistics(entries: stat.ms_entries, depth: Int(stat.ms_depth),
                                  pages: stat.ms_branch_pages &+ stat.ms_leaf_pages &+ stat.ms_overflow_pages,
                                  pageSize: Int(stat.ms_psize))
    }

    /// Runs `body` with a cursor over `database`, closed when `body` returns.
    public func withCursor<T, E: Error>(_ database: Database, _ body: (inout Cursor) throws(E) -> T) throws -> T {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, database.dbi, &cursor), "mdb_cursor_open", context: database.name)
        guard let cursor else { throw LMDBError(code: EINVAL, operation: "mdb_cursor_open", context: database.name) }
        // Room for the key the cursor is on (LMDB's largest), kept outside the cursor value so
        // a step copies into it without Swift's copy-on-write checks.
        let position = UnsafeMutableRawBufferPointer.allocate(byteCount: Cursor.maxKeySize, alignment: 8)
        defer {
            mdb_cursor_close(cursor)
            position.deallocate()
        }
        var wrapper = Cursor(cursor: cursor, database: database, state: state, position: position)
        return try body(&wrapper)
    }

}

/// What a write closure's transaction learned that the writer loop must act on.
final class TransactionState {
    var mapFull = false
    /// Key and value bytes put so far: how big the commit will be.
    var bytesPut = 0

    /// Throws for a failed write, remembering a full map: LMDB has then poisoned the
    /// transaction, and the writer must grow the map and retry whatever the closure made of
    /// the error.
    func record(_ rc: Int32, _ operation: String, _ database: Database) throws(LMDBError) {
        guard rc != MDB_SUCCESS else { return }
        if rc == MDB_MAP_FULL { mapFull = true }
        throw LMDBError(code: rc, operation: operation, context: database.name)
    }
}
