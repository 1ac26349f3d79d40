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
    /// (the tape's companion, reused from line to line) and copied out at their size.
    static func fromTape(_ line: UnsafeBufferPointer<UInt8>, number: Int, today: EffectiveTime, validation: DataValidation,
                         tape: inout JSONTape, output: ReusableBuffer<UInt8>) -> PreparedEvent? {
        guard line.count <= Limits.maxEventBytes, tape.read(line, maxDepth: Limits.maxDepth), tape.node(0).kind == .object else { return nil }
        var id, type, stream, effective, actor, source, data, schemaVersion, expectedVersion: Int?
        for key in tape.memberKeys(0) {
            let key = Int(key), value = key + 1
            let kind = tape.node(value).kind
            switch kind {
            case .string:
                if tape.string(key, equals: "actor") { actor = value
                } else if tape.string(key, equals: "effective") { effective = value
                } else if tape.string(key, equals: "id") { id = value
                } else if tape.string(key, equals: "source") { source = value
                } else if tape.string(key, equals: "stream") { stream = value
                } else if tape.string(key, equals: "type") { type = value
                } else if !isLedgerField(key, tape) { return nil }
            case .object:
                guard tape.string(key, equals: "data") else { return nil }
                data = value
            case .number:
                if tape.string(key, equals: "schemaVersion") { schemaVersion = value
                } else if tape.string(key, equals: "expectedVersion") { expectedVersion = value
                } else if !isLedgerField(key, tape) { return nil }
            default:
                guard isLedgerField(key, tape) else { return nil }
            }
        }
        guard let type, let stream, let data else { return nil }
        let typeName = tape.string(type), streamName = tape.string(stream)
        let idText = id.map(tape.string), actorText = actor.map(tape.string), sourceText = source.map(tape.string)
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
        // Corrections and retractions name another event: the draft's path reads that.
        guard typeName != EventReference.correctionType, typeName != EventReference.retractionType,
              let (schema, schemaVersionUsed) = try? PreparedEvent.schema(type: typeName, version: version),
              (try? EventDraft.checkFields(id: idText, type: typeName, stream: streamName, actor: actorText, source: sourceText)) != nil,
              validation == .skipped || schema.verdict(tape, at: data) == .valid else { return nil }

        // The fields the line gives are written from its bytes, which are valid UTF-8.
        func text(_ node: Int) -> FieldText { .bytes(tape.stringBytes(node)) }
        let eventId = idText ?? EventIdentifier.generate()
        output.removeAll()
        var sink = output
        let offsets = writeParts(into: &sink, actor: actor.map(text), data: { tape.writeCanonical(data, into: &$0) },
                                 effective: effective.map(text) ?? .string(today.text), id: id.map(text) ?? .string(eventId),
                                 source: source.map(text), stream: text(stream), type: text(type))
        return try? PreparedEvent(id: eventId, clientId: idText != nil, type: typeName, stream: streamName,
                                  expectedVersion: expected, effective: effectiveTime ?? today, effectiveGiven: effectiveTime != nil,
                                  schemaVersion: schemaVersionUsed, actor: actorText, source: sourceText,
                                  reference: nil, replacementData: nil, line: number, parts: Array(output.elements), offsets: offsets)
    }

    private static func isLedgerField(_ key: Int, _ tape: JSONTape) -> Bool {
        EventDraft.ledgerFields.contains { tape.string(key, equals: $0) }
    }
}
