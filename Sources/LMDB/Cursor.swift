import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A position in one database, valid inside the `withCursor` closure that made it.
/// Every move returns the entry it lands on, or nil past either end. Not copyable: copies
/// would share the buffer that holds the key the cursor is on.
public struct Cursor: ~Copyable {
    public typealias Entry = (key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer)

    let cursor: OpaquePointer
    let database: Database
    /// The transaction's state, where a write records a full map.
    let state: TransactionState
    /// The key the cursor is on, copied (the first `positionCount` bytes): each step must move
    /// past it in key order. A damaged file can link its B-tree pages in a loop, and a scan
    /// would then never end. Room for LMDB's largest key, so a step copies without allocating
    /// (an 8-byte key, a seq, as one word).
    private let position: UnsafeMutableRawBufferPointer
    private var positionCount = 0
    /// Where `putAscending` stands against the keys the database held before.
    private var ascending = Ascending.notStarted
    private enum Ascending {
        case notStarted
        /// Not past the database's last key yet.
        case before(lastKey: [UInt8])
        /// Past it: every key from here on sorts after every key it held.
        case past
    }
    static let maxKeySize = 511

    init(cursor: OpaquePointer, database: Database, state: TransactionState, position: UnsafeMutableRawBufferPointer) {
        self.cursor = cursor
        self.database = database
        self.state = state
        self.position = position
    }

    public mutating func first() throws(LMDBError) -> Entry? { try move(MDB_FIRST) }
    public mutating func last() throws(LMDBError) -> Entry? { try move(MDB_LAST) }
    public mutating func next() throws(LMDBError) -> Entry? { try step(MDB_NEXT, forward: true) }
    public mutating func previous() throws(LMDBError) -> Entry? { try step(MDB_PREV, forward: false) }

    /// Moves to the first entry whose key is greater than or equal to `key`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val()
        return try remember(try result(mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE), k, v))
    }

    /// Moves to the first entry whose big-endian integer key is at least `key`.
    public mutating func seek(atLeast key: UInt64) throws(LMDBError) -> Entry? {
        try key.withBigEndianBytes { bytes throws(LMDBError) in try seek(atLeast: bytes) }
    }

    /// Stores `value` under `key` and moves there. Puts in key order are cheaper than
    /// `Transaction.put`: LMDB finds the place on the cursor's page without a descent from the
    /// root when it can.
    public mutating func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: PutOptions = []) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try state.record(mdb_cursor_put(cursor, &k, &v, options.rawValue), "mdb_cursor_put", database)
        state.bytesPut += key.count + value.count
        positionCount = 0  // the position the next step checks against is the one it lands on
    }

    /// Makes room for a `count`-byte value under `key`, moves there, and lets `fill` write it
    /// in place (`MDB_RESERVE`), which saves assembling the value in a buffer first. With
    /// `.append`, a cursor kept on the last page appends without a descent from the root,
    /// which a put through the transaction (`mdb_put`) makes on every call.
    public mutating func put(key: UnsafeRawBufferPointer, reserving count: Int, options: PutOptions = [],
                             fill: (UnsafeMutableRawBufferPointer) -> Void) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: count, mv_data: nil)
        try state.record(mdb_cursor_put(cursor, &k, &v, options.rawValue | UInt32(MDB_RESERVE)), "mdb_cursor_put", database)
        state.bytesPut += key.count + count
        positionCount = 0
        fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: count))
    }

    /// Stores `value` under `key`, for puts whose keys come in ascending order. Those that
    /// sort after every key the database held before go in with MDB_APPEND, which takes the
    /// last page as it is instead of searching the tree for the place.
    public mutating func putAscending(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, options: PutOptions = []) throws(LMDBError) {
        if case .notStarted = ascending {
            ascending = try last().map { .before(lastKey: Array($0.key)) } ?? .past
        }
        if case .before(let lastKey) = ascending, lastKey.withUnsafeBytes({ Database.keyOrder(key, $0) }) > 0 {
            ascending = .past
        }
        if case .past = ascending {
            try put(key: key, value: value, options: options.union(.append))
        } else {
            try put(key: key, value: value, options: options)
        }
    }

    private mutating func move(_ op: MDB_cursor_op) throws(LMDBError) -> Entry? {
        var k = MDB_val()
        var v = MDB_val()
        return try remember(try result(mdb_cursor_get(cursor, &k, &v, op), k, v))
    }

    /// A move to the next or previous entry, whose key must come after (or before) the one
    /// the cursor was on, in LMDB's default order: bytes compared, then the shorter first.
    private mutating func step(_ op: MDB_cursor_op, forward: Bool) throws(LMDBError) -> Entry? {
        var k = MDB_val()
        var v = MDB_val()
        guard let entry = try result(mdb_cursor_get(cursor, &k, &v, op), k, v) else { return nil }
        // LMDB keys are never empty: an empty position is no position yet.
        if positionCount > 0 {
            let order: Int
            if positionCount == 8, entry.key.count == 8 {
                // Integer keys (seqs), the common case: one word compare, no memcmp call.
                let new = UInt64(bigEndian: entry.key.loadUnaligned(as: UInt64.self))
                let old = UInt64(bigEndian: position.load(as: UInt64.self))
                order = new == old ? 0 : new > old ? 1 : -1
            } else {
                order = Database.keyOrder(entry.key, UnsafeRawBufferPointer(rebasing: position[..<positionCount]))
            }
            guard forward ? order > 0 : order < 0 else {
                throw LMDBError(code: MDB_CORRUPTED, operation: "mdb_cursor_get", context: database.name,
                                detail: "MDB_CORRUPTED: keys out of order")
            }
        }
        return try remember(entry)
    }

    private mutating func remember(_ entry: Entry?) throws(LMDBError) -> Entry? {
        if let entry {
            positionCount = min(entry.key.count, Cursor.maxKeySize)
            if positionCount == 8 {
                position.storeBytes(of: entry.key.loadUnaligned(as: UInt64.self), as: UInt64.self)
            } else if positionCount > 0, let key = entry.key.baseAddress {
                memcpy(position.baseAddress!, key, positionCount)
            }
        }
        return entry
    }

    private func result(_ rc: Int32, _ k: MDB_val, _ v: MDB_val) throws(LMDBError) -> Entry? {
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "mdb_cursor_get", context: database.name)
        return (UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}
