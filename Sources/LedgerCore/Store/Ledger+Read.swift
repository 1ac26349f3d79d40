import LMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Which events a read walks over.
public struct EventFilter: Sendable {
    /// Only events with a greater seq.
    public var after: UInt64 = 0
    /// At most this many events.
    public var limit: Int?
    /// Only this stream's events (read through the stream index).
    public var stream: String?
    /// Only events of this type.
    public var type: String?

    public init(after: UInt64 = 0, limit: Int? = nil, stream: String? = nil, type: String? = nil) {
        self.after = after
        self.limit = limit
        self.stream = stream
        self.type = type
    }
}

/// The ledger's size and head, as `stats` shows them.
public struct LedgerStatistics: Sendable {
    public var events: Int
    public var streams: Int
    public var headSeq: UInt64
    public var headHash: ChainHash
    public var headRecorded: String?
    /// Bytes of `data.mdb` on disk.
    public var fileSize: Int
    /// Bytes the map can hold before it grows.
    public var mapSize: Int
    /// Bytes of the map in use.
    public var usedSize: Int
}

extension Ledger {
    /// How many events one read transaction reads before it is closed and the next opened:
    /// long reads stay out of the way of writers (an open reader pins pages).
    static let readChunk = 2048

    public func event(seq: UInt64) throws(LedgerError) -> Event? {
        try storage("cannot read seq \(seq)") {
            try environment.read { txn in try txn.get(databases.events, key: seq).map(EventRecord.decode) }
        }
    }

    public func event(id: String) throws(LedgerError) -> Event? {
        try storage("cannot read id '\(id)'") {
            try environment.read { txn -> Event? in
                guard let seq = try Array(id.utf8).withUnsafeBytes({ try txn.get(databases.ids, key: $0) })
                    .flatMap(UInt64.init(bigEndianBytes:)),
                    let raw = try txn.get(databases.events, key: seq) else { return nil }
                return try EventRecord.decode(raw)
            }
        }
    }

    /// Calls `body` with each event the filter selects, in seq order. Events are read in
    /// chunks, each in its own short read transaction, and handed over outside it.
    public func forEachEvent(_ filter: EventFilter = EventFilter(), _ body: (Event) throws -> Void) throws {
        var after = filter.after
        var remaining = filter.limit ?? Int.max
        while remaining > 0 {
            let chunk = try storage("cannot read events") {
                try environment.read { txn in
                    if let stream = filter.stream {
                        return try readStreamChunk(txn, stream: stream, after: after, type: filter.type, limit: min(remaining, Ledger.readChunk))
                    }
                    return try readChunk(txn, after: after, type: filter.type, limit: min(remaining, Ledger.readChunk))
                }
            }
            for event in chunk.events { try body(event) }
            remaining -= chunk.events.count
            guard let last = chunk.lastSeq else { return }
            after = last
        }
    }

    /// Events read in one transaction, and the last seq looked at (nil at the end).
    private struct Chunk {
        var events: [Event] = []
        var lastSeq: UInt64?
    }

    private func readChunk(_ txn: Transaction, after: UInt64, type: String?, limit: Int) throws -> Chunk {
        try txn.withCursor(databases.events) { cursor in
            var chunk = Chunk()
            var scanned = 0
            var entry = try cursor.seek(atLeast: after &+ 1)
            while let current = entry, chunk.events.count < limit, scanned < Ledger.readChunk * 8 {
                let event = try EventRecord.decode(current.value)
                // The key is the seq: a record under another key is damage (and reading on
                // from the record's own seq would go round in circles).
                guard current.key.count == 8, let seq = UInt64(bigEndianBytes: current.key), seq == event.seq else {
                    throw LedgerError(.storage, "seq \(event.seq): the record is stored under another key; the ledger is damaged (run 'civic-ledger verify')")
                }
                if type == nil || event.type == type { chunk.events.append(event) }
                chunk.lastSeq = seq
                scanned += 1
                entry = try cursor.next()
            }
            return chunk
        }
    }

    private func readStreamChunk(_ txn: Transaction, stream: String, after: UInt64, type: String?, limit: Int) throws -> Chunk {
        var prefix = Array(stream.utf8)
        prefix.append(0)
        return try txn.withCursor(databases.streamEvents) { cursor in
            var chunk = Chunk()
            var entry = try prefix.withUnsafeBytes { try cursor.seek(atLeast: $0) }
            while let current = entry, chunk.events.count < limit,
                  current.key.count == prefix.count + 8, current.key.starts(with: prefix) {
                let seq = UInt64(bigEndianBytes: current.value) ?? 0
                if seq > after {
                    guard let raw = try txn.get(databases.events, key: seq) else {
                        throw LedgerError(.storage, "the stream index names seq \(seq), which does not exist (run verify)")
                    }
                    let event = try EventRecord.decode(raw)
                    if type == nil || event.type == type { chunk.events.append(event) }
                    chunk.lastSeq = seq
                }
                entry = try cursor.next()
            }
            return chunk
        }
    }

    /// The stream's current version (0 when it has no events).
    public func version(ofStream stream: String) throws(LedgerError) -> UInt64 {
        try storage("cannot read stream '\(stream)'") {
            try environment.read { txn in
                try Array(stream.utf8).withUnsafeBytes { try txn.get(databases.streams, key: $0) }
                    .flatMap(UInt64.init(bigEndianBytes:)) ?? 0
            }
        }
    }

    public func statistics() throws(LedgerError) -> LedgerStatistics {
        let (events, streams, head) = try storage("cannot read the ledger's statistics") {
            try environment.read { txn in
                (try txn.statistics(databases.events).entries, try txn.statistics(databases.streams).entries, try readHead(txn))
            }
        }
        let info = environment.info
        var fileStatus = stat()
        let fileSize = stat(path + "/data.mdb", &fileStatus) == 0 ? Int(fileStatus.st_size) : 0
        return LedgerStatistics(events: events, streams: streams, headSeq: head.seq, headHash: head.hash,
                                headRecorded: head.seq > 0 ? head.recorded.description : nil,
                                fileSize: fileSize, mapSize: info.mapSize, usedSize: info.usedSize)
    }
}
