import CLMDB

/// A position in one database, valid inside the `withCursor` closure that made it.
/// Every move returns the entry it lands on, or nil past either end.
public struct Cursor {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let cursor: OpaquePointer
    let database: Database

    public mutating func first() throws(LMDBError) -> Entry? { try move(MDB_FIRST) }
    public mutating func last() throws(LMDBError) -> Entry? { try move(MDB_LAST) }
    public mutating func next() throws(LMDBError) -> Entry? { try move(MDB_NEXT) }
    public mutating func previous() throws(LMDBError) -> Entry? { try move(MDB_PREV) }

    /// Moves to the first entry whose key is greater than or equal to `key`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        return try result(mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE), k, v)
    }

    /// Moves to the first entry whose big-endian integer key is at least `key`.
    public mutating func seek(atLeast key: UInt64) throws(LMDBError) -> Entry? {
        try key.withBigEndianBytes { bytes throws(LMDBError) in try seek(atLeast: bytes) }
    }

    private mutating func move(_ op: MDB_cursor_op) throws(LMDBError) -> Entry? {
        var k = MDB_val()
        var v = MDB_val()
        return try result(mdb_cursor_get(cursor, &k, &v, op), k, v)
    }

    private func result(_ rc: Int32, _ k: MDB_val, _ v: MDB_val) throws(LMDBError) -> Entry? {
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get", context: database.name)
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}
