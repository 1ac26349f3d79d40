import LedgerValues
import LedgerSchemas

extension PreparedEvent {
    /// Batch line `line` prepared straight from its tape, without building its JSON first:
    /// the fast path of a batch. Nil when the tape declines the line, or when anything about
    /// the event is not plainly valid (an error, a correction, a schema keyword the tape's
    /// check leaves to the validator, bad data). The caller then prepares the line through
    /// `EventDraft(json:)`, which gives the same event or words the error.
    static func fromTape(_ line: UnsafeBufferPointer<UInt8>, number: Int, today: EffectiveTime, validation: DataValidation,
                         tape: inout JSONTape) -> PreparedEvent? {
        guard line.count <= Limits.maxEventBytes, tape.read(line, maxDepth: Limits.maxDepth), tape.nodes[0].kind == .object else { return nil }
        var id, type, stream, effective, actor, source, data, schemaVersion, expectedVersion: Int?
        for key in tape.memberKeys(0) {
            let key = Int(key), value = key + 1
            let kind = tape.nodes[value].kind
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
            let n = tape.nodes[schemaVersion].number
            guard n.rounded(.towardZero) == n, n >= 1, n <= 1000 else { return nil }
            version = Int(n)
        }
        if let expectedVersion {
            let n = tape.nodes[expectedVersion].number
            guard n.rounded(.towardZero) == n, n >= 0 else { return nil }
            expected = UInt64(n)
        }
        // Corrections and retractions name another event: the draft's path reads that.
        guard typeName != EventReference.correctionType, typeName != EventReference.retractionType,
              let eventType = EventCatalog.shared.types[typeName] else { return nil }
        let schemaVersionUsed = version ?? eventType.currentVersion
        guard let schema = eventType.versions[schemaVersionUsed] else { return nil }
        do {
            if let idText { try EventDraft.checkId(idText) }
            try EventDraft.checkType(typeName)
            try EventDraft.checkStream(streamName)
            if let actorText { try EventDraft.checkText(actorText, field: "actor") }
            if let sourceText { try EventDraft.checkText(sourceText, field: "source") }
        } catch {
            return nil
        }
        if validation == .catalog, schema.verdict(tape, at: data) != .valid { return nil }

        var content: [UInt8] = []
        content.reserveCapacity(512)
        content.append(UInt8(ascii: "{"))
        if let actorText { member("actor", .string(actorText), into: &content) }
        content.append(contentsOf: "\"data\":".utf8)
        tape.writeCanonical(data, into: &content)
        content.append(UInt8(ascii: ","))
        guard case .object(let dataObject) = tape.value(data) else { return nil }
        return try? PreparedEvent(id: idText ?? EventIdentifier.generate(), clientId: idText != nil, type: typeName, stream: streamName,
                                  expectedVersion: expected, effective: effectiveTime ?? today, effectiveGiven: effectiveTime != nil,
                                  schemaVersion: schemaVersionUsed, data: dataObject, actor: actorText, source: sourceText,
                                  reference: nil, replacementData: nil, line: number, content: content)
    }

    /// `seq`, `version`, `recorded`, `prev`, `hash`: accepted in input and ignored.
    private static func isLedgerField(_ key: Int, _ tape: JSONTape) -> Bool {
        tape.string(key, equals: "seq") || tape.string(key, equals: "version") || tape.string(key, equals: "recorded")
            || tape.string(key, equals: "prev") || tape.string(key, equals: "hash")
    }
}
