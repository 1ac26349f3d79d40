import LedgerValues
extension EventDraft {
    /// Fields a client may send.
    static let clientFields: Set<String> = ["id", "type", "stream", "effective", "expectedVersion", "actor", "source", "schemaVersion", "data"]
    /// Fields the ledger assigns: accepted in input, so `log --json` output can be fed back,
    /// and ignored.
    static let ledgerFields: [StaticString] = ["seq", "version", "recorded", "prev", "hash"]

    /// Reads a draft from one line of batch input.
    public init(json line: UnsafeBufferPointer<UInt8>) throws(LedgerError) {
        try self.init(object: try EventDraft.object(json: line))
    }

    /// One line of input as a JSON object, within the limits of one event.
    static func object(json line: UnsafeBufferPointer<UInt8>) throws(LedgerError) -> JSONObject {
        guard line.count <= Limits.maxEventBytes else {
            throw LedgerError(.invalidInput, "event is \(line.count) bytes, over the limit of \(Limits.maxEventBytes)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(line, maxDepth: Limits.maxDepth) } catch {
            throw LedgerError(.invalidInput, error.description)
        }
        guard case .object(let object) = value else {
            throw LedgerError(.invalidInput, "an event must be a JSON object")
        }
        return object
    }

    /// Reads a draft from a parsed JSON object. Fields the ledger assigns (`seq`, `version`,
    /// `recorded`, `prev`, `hash`) are accepted and ignored, so `log --json` output can be fed
    /// back; field forms are checked by `validate()`.
    public init(object: JSONObject) throws(LedgerError) {
        // One pass over the members, not a lookup per field.
        var type, stream, data, id, actor, source, effective, schemaVersion, expectedVersion: JSONValue?
        for (key, value) in object.members {
            switch key {
            case "actor": actor = value
            case "data": data = value
            case "effective": effective = value
            case "expectedVersion": expectedVersion = value
            case "id": id = value
            case "schemaVersion": schemaVersion = value
            case "source": source = value
            case "stream": stream = value
            case "type": type = value
            default:
                if EventDraft.ledgerFields.contains(where: { $0.description == key }) { continue }  // the ledger's own, ignored
                throw LedgerError(.invalidInput, "unknown field '\(MessageText.quote(key))' (an event has: \(EventDraft.clientFields.sorted().joined(separator: ", ")))")
            }
        }
        guard let type else { throw LedgerError(.invalidInput, "missing required field 'type'") }
        guard let stream else { throw LedgerError(.invalidInput, "missing required field 'stream'") }
        guard let data else { throw LedgerError(.invalidInput, "missing required field 'data'") }
        guard case .object(let dataObject) = data else {
            throw LedgerError(.invalidInput, "field 'data': must be a JSON object")
        }
        self.init(type: try EventDraft.string(type, "type"), stream: try EventDraft.string(stream, "stream"), data: dataObject)
        if let id { self.id = try EventDraft.string(id, "id") }
        if let actor { self.actor = try EventDraft.string(actor, "actor") }
        if let source { self.source = try EventDraft.string(source, "source") }
        if let effective {
            self.effective = try EventDraft.effectiveTime(try EventDraft.string(effective, "effective"))
        }
        if let version = schemaVersion {
            guard let number = version.numberValue, let value = EventDraft.schemaVersion(number) else {
                throw LedgerError(.invalidInput, "field 'schemaVersion': must be an integer, 1 or more")
            }
            self.schemaVersion = value
        }
        if let expected = expectedVersion {
            guard let number = expected.numberValue, let value = EventDraft.expectedVersion(number) else {
                throw LedgerError(.invalidInput, "field 'expectedVersion': must be an integer, 0 or more")
            }
            self.expectedVersion = value
        }
    }

    /// A schema version as a client gives it: a whole number from 1 to 1000.
    static func schemaVersion(_ number: Double) -> Int? {
        number.rounded(.towardZero) == number && number >= 1 && number <= 1000 ? Int(number) : nil
    }

    /// An expected version as a client gives it: a whole number, 0 or more (and within ±2^53,
    /// as every exact JSON number is).
    static func expectedVersion(_ number: Double) -> UInt64? {
        number.rounded(.towardZero) == number && number >= 0 && number <= JSONValue.maxExactInteger ? UInt64(number) : nil
    }

    /// Parses an effective time, or says what form it must take.
    public static func effectiveTime(_ text: String) throws(LedgerError) -> EffectiveTime {
        guard let time = EffectiveTime(text) else {
            throw LedgerError(.invalidInput, "field 'effective': '\(MessageText.quote(text))' is not a valid date (YYYY-MM-DD) or date-time with offset (YYYY-MM-DDTHH:MM:SS+08:00)")
        }
        return time
    }

    private static func string(_ value: JSONValue, _ field: String) throws(LedgerError) -> String {
        guard case .string(let text) = value else { throw LedgerError(.invalidInput, "field '\(field)': must be a string") }
        return text
    }
}
