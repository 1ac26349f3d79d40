import CLMDB
import CSQLite
import LedgerCore
import LedgerValues

/// The key/value pairs the ledger wrote, precomputed, so the baselines measure storage alone.
struct StoredRow {
    let seq: UInt64
    let id: [UInt8]
    let stream: [UInt8]
    let version: UInt64
    /// 32-byte hash ‖ canonical bytes, as the ledger stores it.
    let value: [UInt8]
}

/// Raw LMDB: the ledger's record bytes put by seq with MDB_APPEND and, `withIndexes`, the
/// same index puts the ledger makes, as it makes them (after the records, through one cursor
/// per index: the id index sorted, then stream by stream in key order its stream-index entries
/// and its head); one transaction, one commit. The ceiling for the ledger's storage.
func rawLMDBAppend(_ rows: [StoredRow], directory: String, withIndexes: Bool) -> Double {
    var env: OpaquePointer?
    mdb_env_create(&env)
    mdb_env_set_maxdbs(env, 8)
    mdb_env_set_mapsize(env, 8 << 30)
    precondition(mdb_env_open(env, directory, UInt32(MDB_NOTLS), 0o600) == 0)
    defer { mdb_env_close(env) }
    func put(_ cursor: OpaquePointer?, _ key: UnsafeRawBufferPointer, _ value: UInt64, _ flags: UInt32 = 0) {
        var bigEndian = value.bigEndian
        withUnsafeMutableBytes(of: &bigEndian) { v in
            var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
            var value = MDB_val(mv_size: 8, mv_data: v.baseAddress)
            precondition(mdb_cursor_put(cursor, &k, &value, flags) == 0)
        }
    }
    func cursor(_ txn: OpaquePointer?, _ database: MDB_dbi) -> OpaquePointer? {
        var cursor: OpaquePointer?
        precondition(mdb_cursor_open(txn, database, &cursor) == 0)
        return cursor
    }
    return measure {
        var txn: OpaquePointer?
        mdb_txn_begin(env, nil, 0, &txn)
        var events: MDB_dbi = 0, ids: MDB_dbi = 0, streamEvents: MDB_dbi = 0, streams: MDB_dbi = 0
        mdb_dbi_open(txn, "events", UInt32(MDB_CREATE), &events)
        mdb_dbi_open(txn, "ids", UInt32(MDB_CREATE), &ids)
        mdb_dbi_open(txn, "stream-events", UInt32(MDB_CREATE), &streamEvents)
        mdb_dbi_open(txn, "streams", UInt32(MDB_CREATE), &streams)
        var streamSeqs: [[UInt8]: (first: UInt64, seqs: [UInt64])] = [:]
        var idEntries = IndexEntries(capacity: withIndexes ? rows.count : 0)
        for row in rows {
            var seq = row.seq.bigEndian
            withUnsafeMutableBytes(of: &seq) { seqBytes in
                var key = MDB_val(mv_size: 8, mv_data: seqBytes.baseAddress)
                row.value.withUnsafeBytes { value in
                    var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
                    precondition(mdb_put(txn, events, &key, &v, UInt32(MDB_APPEND)) == 0)
                }
            }
            guard withIndexes else { continue }
            row.id.withUnsafeBytes { idEntries.add($0, value: row.seq) }
            streamSeqs[row.stream, default: (row.version, [])].seqs.append(row.seq)
        }
        idEntries.sort()
        let idCursor = cursor(txn, ids)
        idEntries.forEach { key, seq in put(idCursor, key, seq, UInt32(MDB_NOOVERWRITE)) }
        mdb_cursor_close(idCursor)
        let streamEventsCursor = cursor(txn, streamEvents), streamsCursor = cursor(txn, streams)
        for stream in streamSeqs.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let (first, seqs) = streamSeqs[stream]!
            var key = stream + [0] + [UInt8](repeating: 0, count: 8)  // stream ‖ 0x00 ‖ version
            for (offset, seq) in seqs.enumerated() {
                withUnsafeBytes(of: (first + UInt64(offset)).bigEndian) { key.replaceSubrange((stream.count + 1)..., with: $0) }
                key.withUnsafeBytes { put(streamEventsCursor, $0, seq) }
            }
            stream.withUnsafeBytes { put(streamsCursor, $0, first + UInt64(seqs.count) - 1) }
        }
        mdb_cursor_close(streamEventsCursor)
        mdb_cursor_close(streamsCursor)
        precondition(mdb_txn_commit(txn) == 0)
    }
}

/// SQLite in WAL mode (synchronous=FULL, durable like the ledger's commit): the same rows into
/// a table with a unique id index and a (stream, version) index, one transaction.
func sqliteAppend(_ rows: [StoredRow], directory: String) -> Double {
    var db: OpaquePointer?
    precondition(sqlite3_open(directory + "/bench.sqlite", &db) == SQLITE_OK)
    defer { sqlite3_close(db) }
    func exec(_ sql: String) { precondition(sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK, sql) }
    exec("PRAGMA journal_mode=WAL")
    exec("PRAGMA synchronous=FULL")
    exec("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream TEXT NOT NULL, version INTEGER NOT NULL, record BLOB NOT NULL)")
    exec("CREATE UNIQUE INDEX events_stream ON events (stream, version)")
    return measure {
        exec("BEGIN")
        var statement: OpaquePointer?
        sqlite3_prepare_v2(db, "INSERT INTO events (seq, id, stream, version, record) VALUES (?, ?, ?, ?, ?)", -1, &statement, nil)
        for row in rows {
            sqlite3_bind_int64(statement, 1, Int64(row.seq))
            row.id.withUnsafeBytes { _ = sqlite3_bind_text(statement, 2, $0.baseAddress, Int32($0.count), nil) }
            row.stream.withUnsafeBytes { _ = sqlite3_bind_text(statement, 3, $0.baseAddress, Int32($0.count), nil) }
            sqlite3_bind_int64(statement, 4, Int64(row.version))
            row.value.withUnsafeBytes { _ = sqlite3_bind_blob(statement, 5, $0.baseAddress, Int32($0.count), nil) }
            precondition(sqlite3_step(statement) == SQLITE_DONE)
            sqlite3_reset(statement)
        }
        sqlite3_finalize(statement)
        exec("COMMIT")
    }
}
