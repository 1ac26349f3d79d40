import LMDB
import LedgerValues

extension Ledger {
    /// Imports what `civic-ledger export` wrote (NDJSON, one envelope per line with its `seq`,
    /// `version`, `recorded`, `prev` and `hash`) into this ledger, which must be empty. The
    /// records written are the exported ones byte for byte, so the head hash is the same.
    ///
    /// Every event is checked as an append checks it (envelope fields, the catalog) and as
    /// `verify` does (seqs 1, 2, … without gaps, `prev`, `recorded` order, versions, unique
    /// ids, and the hash of its content): a broken chain is refused with the first bad seq.
    /// Events go in chunks of transactions, so a failure can leave earlier chunks written: the
    /// caller imports into a new ledger and removes it on failure.
    public func importExported(_ input: UnsafeBufferPointer<UInt8>, onProgress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(LedgerError) {
        guard !options.readOnly else { throw LedgerError(.readOnly, "the ledger is open read-only; importing needs write access") }
        let lines = EventBatch.splitLines(input)
        let today = EffectiveTime.today()
        var start = 0
        while start < lines.count {
            let chunk = lines[start..<min(lines.count, start + 20_000)]
            var events: [(event: PreparedEvent, fields: ExportedFields)] = []
            events.reserveCapacity(chunk.count)
            for (number, range) in chunk {
                let text = UnsafeBufferPointer(rebasing: input[range])
                do throws(LedgerError) {
                    let object = try EventDraft.object(json: text)  // parsed once for both
                    events.append((try PreparedEvent(try EventDraft(object: object), line: number, today: today), try ExportedFields(object)))
                } catch {
                    throw error.at(line: number)
                }
            }
            try storage("cannot import") {
                try environment.reserve(bytes: events.reduce(0) { $0 + $1.event.recordBytes } * 3)
                try environment.write { txn in try importInTransaction(txn, events, first: start == 0) }
            }
            start += chunk.count
            onProgress(start, lines.count)
        }
    }

    /// The ledger's own fields of an exported envelope.
    struct ExportedFields {
        var seq: UInt64
        var version: UInt64
        var recorded: RecordedTime
        var prev: ChainHash
        var hash: ChainHash

        init(_ object: JSONObject) throws(LedgerError) {
            guard let seq = object["seq"]?.integerValue, seq >= 1, let version = object["version"]?.integerValue, version >= 1,
                  let recorded = object["recorded"]?.stringValue.flatMap(RecordedTime.init),
                  let prev = object["prev"]?.stringValue.flatMap({ ChainHash(hex: $0) }),
                  let hash = object["hash"]?.stringValue.flatMap({ ChainHash(hex: $0) }) else {
                throw LedgerError(.invalidInput, "an exported event carries seq, version, recorded, prev and hash ('civic-ledger export' writes them)")
            }
            self.seq = UInt64(seq)
            self.version = UInt64(version)
            self.recorded = recorded
            self.prev = prev
            self.hash = hash
        }
    }

    private func importInTransaction(_ txn: Transaction, _ events: [(event: PreparedEvent, fields: ExportedFields)], first: Bool) throws {
        let db = databases
        var head = try readHead(txn)
        if first && head.seq != 0 {
            throw LedgerError(.invalidInput, "the ledger to import into already holds \(head.seq) events; import into a new one")
        }
        var streams = BatchStreams()
        try txn.withCursor(db.events) { records in
            for (event, fields) in events {
                let seq = fields.seq
                func broken(_ problem: String) -> LedgerError {
                    LedgerError(.verificationFailed, "seq \(seq): \(problem); the export is not an intact ledger", line: event.line)
                }
                guard seq == head.seq + 1 else { throw broken("expected seq \(head.seq + 1) here: events are missing or out of order") }
                guard fields.prev == head.hash else { throw broken("its prev is not the hash of seq \(head.seq): the chain is broken") }
                guard fields.recorded >= head.recorded else { throw broken("recorded before seq \(head.seq)") }
                let position = try streams.position(of: event.stream, hash: event.streamHash) { try storedVersion(txn, event.stream) }
                guard fields.version == position.version + 1 else {
                    throw broken("version \(fields.version) of stream '\(event.stream)' should be \(position.version + 1)")
                }
                // Written before its hash is checked: a mismatch throws the transaction away with it.
                let hash = try putRecord(&records, event, prev: head.hash, recorded: Array(fields.recorded.description.utf8), seq: seq,
                                         version: fields.version)
                guard hash == fields.hash else { throw broken("its hash does not match its content: the event was altered") }
                var id = event.id
                let taken = try id.withUTF8 { idBytes in
                    try seq.withBigEndianBytes { try txn.insertIfAbsent(db.ids, key: UnsafeRawBufferPointer(idBytes), value: $0) }
                }
                guard taken == nil else { throw broken("id '\(event.id)' is used twice") }
                streams.append(seq, at: position)
                head = Head(seq: seq, hash: hash, recorded: fields.recorded)
            }
        }
        try streams.put(txn, streams: db.streams, streamEvents: db.streamEvents)
    }
}
