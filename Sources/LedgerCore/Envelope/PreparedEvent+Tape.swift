import LedgerValues
import LedgerSchemas

extension PreparedEvent {
    /// Batch line `line` (number `number`) prepared straight from its tape, without parsing it
    /// into JSON values first: the fast path of a batch. Nil when the tape declines the line,
    /// or when anything about the event is not plainly valid (an error, a correction, a
    /// schema keyword the tape's check leaves to the validator, bad data). The caller then
    /// prepares the line through `EventDraft(json:)`, which gives the same event or words the
    /// error. The rules both ways apply are the draft's and `PreparedEvent`'s own
    /// (`EventDraft.checkFields`, `schemaVersion`, `expectedVersion`, `ledgerFields`,
    /// `PreparedEvent.schema`, `writeParts`). The record's parts are written into `output`
    /// (the tape's companion, reused from line to line) and copied into `storage`.
    /// `catalog` is `EventCatalog.shared` or a copy of it (a background worker of a big batch
    /// has its own: see `PreparedBatch`).
    static func fromTape(_ line: UnsafeBufferPointer<UInt8>, number: Int, today: EffectiveTime, validation: DataValidation,
                         catalog: EventCatalog, tape: inout JSONTape, output: ReusableBuffer<UInt8>,
                         storage: PreparedBytes) -> PreparedEvent? {
        guard line.count <= Limits.maxEventBytes, tape.read(line, maxDepth: Limits.maxDepth), tape.node(0).kind == .object else { return nil }
        var id, type, stream, effective, actor, source, data, schemaVersion, expectedVersion: Int?
        for key in tape.memberKeys(0) {
            let key = Int(key), value = key + 1
            let kind = tape.node(value).kind
            switch (EnvelopeField(tape.stringBytes(key)), kind) {
            case (.actor, .string): actor = value
            case (.effective, .string): effective = value
            case (.id, .string): id = value
            case (.source, .string): source = value
            case (.stream, .string): stream = value
            case (.type, .string): type = value
            case (.data, .object): data = value
            case (.schemaVersion, .number): schemaVersion = value
            case (.expectedVersion, .number): expectedVersion = value
            case (nil, _) where isLedgerField(key, tape): continue
            default: return nil
            }
        }
        guard let type, let stream, let data else { return nil }
        var effectiveTime: EffectiveTime?
        if let effective {
            guard let time = EffectiveTime(tape.string(effective)) else { return nil }
            effectiveTime = time
        }
        var version: Int?, expected: UInt64?
        if let schemaVersion {
            guard let number = EventDraft.schemaVersion(tape.node(schemaVersion).number) else { return nil }
            version = number
        }
        if let expectedVersion {
            guard let number = EventDraft.expectedVersion(tape.node(expectedVersion).number) else { return nil }
            expected = number
        }
        func bytes(_ node: Int) -> UnsafeBufferPointer<UInt8> { tape.stringBytes(node) }
        // Corrections and retractions name another event: the draft's path reads that.
        guard EventDraft.fieldsHaveTheirForms(id: id.map(bytes), type: bytes(type), stream: bytes(stream), actor: actor.map(bytes),
                                              source: source.map(bytes)),
              let eventType = catalog.type(named: bytes(type)),
              eventType.name != EventReference.correctionType, eventType.name != EventReference.retractionType,
              let (schema, schemaVersionUsed) = eventType.schema(version: version),
              validation == .skipped || schema.verdict(tape, at: data) == .valid else { return nil }

        // The fields the line gives are written from its bytes, which are valid UTF-8 and,
        // unless they had escapes, canonical as they are.
        func text(_ node: Int) -> FieldText { tape.node(node).flag ? .bytes(bytes(node)) : .plain(bytes(node)) }
        let idText = id.map(tape.string)
        let eventId = idText ?? EventIdentifier.generate()
        output.removeAll()
        var sink = output
        let offsets = writeParts(into: &sink, actor: actor.map(text), data: { tape.writeCanonical(data, into: &$0) },
                                 effective: effective.map(text) ?? .string(today.text), id: id.map(text) ?? .string(eventId),
                                 source: source.map(text), stream: text(stream), type: text(type))
        guard output.count + ledgerFieldBytes <= Limits.maxEventBytes else { return nil }  // before it takes room in `storage`
        return try? PreparedEvent(id: eventId, clientId: idText != nil, type: eventType.name, stream: tape.string(stream),
                                  expectedVersion: expected, effective: effectiveTime ?? today, effectiveGiven: effectiveTime != nil,
                                  schemaVersion: schemaVersionUsed,
                                  reference: nil, replacementData: nil, line: number, parts: storage.append(output.elements),
                                  storage: storage, offsets: offsets)
    }

    /// The envelope's members a line may give, told apart by length and first byte before
    /// their bytes are compared.
    private enum EnvelopeField {
        case actor, data, effective, expectedVersion, id, schemaVersion, source, stream, type

        init?(_ key: UnsafeBufferPointer<UInt8>) {
            guard let first = key.first else { return nil }
            let field: EnvelopeField, name: StaticString
            switch (key.count, first) {
            case (5, UInt8(ascii: "a")): (field, name) = (.actor, "actor")
            case (4, UInt8(ascii: "d")): (field, name) = (.data, "data")
            case (9, UInt8(ascii: "e")): (field, name) = (.effective, "effective")
            case (15, UInt8(ascii: "e")): (field, name) = (.expectedVersion, "expectedVersion")
            case (2, UInt8(ascii: "i")): (field, name) = (.id, "id")
            case (13, UInt8(ascii: "s")): (field, name) = (.schemaVersion, "schemaVersion")
            case (6, UInt8(ascii: "s")): (field, name) = key[1] == UInt8(ascii: "o") ? (.source, "source") : (.stream, "stream")
            case (4, UInt8(ascii: "t")): (field, name) = (.type, "type")
            default: return nil
            }
            guard ShortBytes.equal(key, ShortBytes.bytes(name)) else { return nil }
            self = field
        }
    }

    private static func isLedgerField(_ key: Int, _ tape: JSONTape) -> Bool {
        EventDraft.ledgerFields.contains { tape.string(key, equals: $0) }
    }
}
