/// A draft made ready for the write transaction: checked, its id chosen, and the canonical
/// bytes of every field that does not depend on the ledger's state already written. Preparing
/// runs before the transaction (and in parallel for big batches); inside it, only `prev`,
/// `recorded`, `seq` and `version` are filled in and the record hashed.
public struct PreparedEvent: Sendable {
    public let draft: EventDraft
    public let id: String
    /// Whether the client gave the id (only those can already exist).
    public let clientId: Bool
    public let effective: EffectiveTime
    /// The batch line it came from, for error messages.
    public let line: Int?
    /// `{"actor":…,"data":…,"effective":…,"id":…,` — the keys before `prev` in canonical order.
    let head: [UInt8]
    /// `"source":…,"stream":…,"type":…,` — the keys between `seq` and `version`.
    let tail: [UInt8]

    public init(_ draft: EventDraft, line: Int? = nil, today: EffectiveTime) throws(LedgerError) {
        do { try draft.validate() } catch { throw error.at(line: line) }
        self.draft = draft
        self.line = line
        self.clientId = draft.id != nil
        self.id = draft.id ?? EventIdentifier.generate()
        self.effective = draft.effective ?? today

        var head: [UInt8] = []
        head.reserveCapacity(256)
        head.append(UInt8(ascii: "{"))
        if let actor = draft.actor { PreparedEvent.member("actor", .string(actor), into: &head) }
        PreparedEvent.member("data", .object(draft.data), into: &head)
        PreparedEvent.member("effective", .string(effective.text), into: &head)
        PreparedEvent.member("id", .string(id), into: &head)
        var tail: [UInt8] = []
        tail.reserveCapacity(96)
        if let source = draft.source { PreparedEvent.member("source", .string(source), into: &tail) }
        PreparedEvent.member("stream", .string(draft.stream), into: &tail)
        PreparedEvent.member("type", .string(draft.type), into: &tail)
        guard head.count + tail.count + 200 <= Limits.maxEventBytes else {
            throw LedgerError(.invalidInput, "event is over the limit of \(Limits.maxEventBytes) bytes", line: line)
        }
        self.head = head
        self.tail = tail
    }

    private static func member(_ key: StaticString, _ value: JSONValue, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        out.append(contentsOf: "\":".utf8)
        value.writeCanonical(into: &out)
        out.append(UInt8(ascii: ","))
    }

    /// Writes the record's canonical bytes (the hash input) into `out`, replacing its contents.
    func assemble(prev: ChainHash, recorded: [UInt8], seq: UInt64, version: UInt64, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: head)
        out.append(contentsOf: "\"prev\":\"".utf8)
        prev.writeHex(into: &out)
        out.append(contentsOf: "\",\"recorded\":\"".utf8)
        out.append(contentsOf: recorded)
        out.append(contentsOf: "\",\"seq\":".utf8)
        out.append(contentsOf: String(seq).utf8)
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: tail)
        out.append(contentsOf: "\"version\":".utf8)
        out.append(contentsOf: String(version).utf8)
        out.append(UInt8(ascii: "}"))
    }
}
