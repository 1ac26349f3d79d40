import LMDB
import LedgerCore

extension Ledger {
    /// A stream's events from the log (through the stream index), below seq `limit`.
    func streamEvents(_ txn: Transaction, _ stream: String, below limit: UInt64 = .max) throws -> [EntityEvent] {
        var prefix = Array(stream.utf8)
        prefix.append(0)
        return try txn.withCursor(databases.streamEvents) { cursor in
            var events: [EntityEvent] = []
            var entry = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let current = entry, current.key.count == prefix.count + 8, current.key.starts(with: prefix) {
                if let seq = UInt64(bigEndianBytes: current.value), seq < limit, let raw = try txn.get(databases.events, key: seq) {
                    events.append(EntityEvent(try EventRecord.decode(raw)))
                }
                entry = try cursor.next()
            }
            return events
        }
    }
}
