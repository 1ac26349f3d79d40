import LMDB
import LedgerCore

extension Ledger {
    /// A stream's events from the log (through the stream index), below seq `limit`.
    package func streamEvents(_ txn: Transaction, _ stream: String, below limit: UInt64 = .max) throws -> [EntityEvent] {
        var events: [EntityEvent] = []
        try forEachSeq(txn, of: stream, below: limit) { seq in
            if let raw = try txn.get(databases.events, key: seq) { events.append(EntityEvent(try EventRecord.decode(raw))) }
        }
        return events
    }

    /// Calls `body` with the seq of each of a stream's events below `limit`, in stream order.
    func forEachSeq(_ txn: Transaction, of stream: String, below limit: UInt64, _ body: (UInt64) throws -> Void) throws {
        var prefix = Array(stream.utf8)
        prefix.append(0)
        try txn.withCursor(databases.streamEvents) { cursor in
            var entry = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let current = entry, current.key.count == prefix.count + 8, current.key.starts(with: prefix) {
                if let seq = UInt64(bigEndianBytes: current.value), seq < limit { try body(seq) }
                entry = try cursor.next()
            }
        }
    }

    /// Calls `body` with each stream (in name order) and its events from the log, a chunk of
    /// streams per short read transaction.
    package func forEachStream(_ body: (String, [EntityEvent]) throws -> Void) throws {
        var after: [UInt8]?
        while true {
            // The next chunk starts after the last key read, as stored: a key that is not
            // UTF-8 (a damaged file) does not come back as itself from the decoded name.
            let (chunk, lastKey): ([(String, [EntityEvent])], [UInt8]?) = try environment.read { txn in
                try txn.withCursor(databases.streams) { cursor in
                    var found: [(String, [EntityEvent])] = []
                    var lastKey: [UInt8]?
                    var entry = try after.map { key in try (key + [0]).withUnsafeBytes { try cursor.seek(atLeast: $0) } } ?? cursor.first()
                    while let current = entry, found.count < 256 {
                        let stream = String(decoding: current.key, as: UTF8.self)
                        found.append((stream, try streamEvents(txn, stream)))
                        lastKey = Array(current.key)
                        entry = try cursor.next()
                    }
                    return (found, lastKey)
                }
            }
            guard let lastKey else { return }
            for (stream, events) in chunk { try body(stream, events) }
            after = lastKey
        }
    }
}
