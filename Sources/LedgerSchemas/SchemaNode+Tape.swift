import LedgerValues

/// What checking a value straight from its tape found.
public enum TapeVerdict: Sendable {
    case valid, invalid
    /// The tape's check does not handle a keyword met on the way (`uniqueItems`, an `enum`
    /// or `const` holding arrays or objects, a property name that is not ASCII): only
    /// `validate` can tell.
    case unknown

    /// Both hold: invalid if either is (the second is not checked when the first is),
    /// else unknown if either is.
    @inline(__always)
    func and(_ other: @autoclosure () -> TapeVerdict) -> TapeVerdict {
        if self == .invalid { return .invalid }
        let second = other()
        if second == .invalid { return .invalid }
        return self == .valid && second == .valid ? .valid : .unknown
    }

    @inline(__always)
    init(_ holds: Bool) { self = holds ? .valid : .invalid }
}

extension SchemaNode {
    /// Checks value `node` of `tape`: the batch's fast path, which builds no JSON value (only a
    /// string, for a `pattern` or `format`) and words no failure (`validate` does that).
    func verdict(_ tape: JSONTape, _ node: Int) -> TapeVerdict {
        if let constant { return TapeVerdict(constant) }
        guard tapeReady else { return .unknown }
        var verdict = TapeVerdict.valid
        if let tapeReference {
            verdict = tapeReference._withUnsafeGuaranteedRef { $0.verdict(tape, node) }
            if verdict == .invalid { return .invalid }
        }
        let value = tape.node(node)
        if tapeKinds & (1 << value.kind.rawValue) == 0 { return .invalid }
        if wholeNumbersOnly, value.kind == .number, value.number.rounded(.towardZero) != value.number { return .invalid }
        if let enumStrings {
            guard value.kind == .string, enumStrings.contains(tape.stringBytes(node)) else { return .invalid }
        } else if let enumValues, !enumValues.contains(where: { tape.scalar(node, equals: $0) }) {
            return .invalid
        }
        if let constValue, !tape.scalar(node, equals: constValue) { return .invalid }

        switch value.kind {
        case .string:
            if minLength != nil || maxLength != nil {
                let length = tape.stringBytes(node).reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
                if let minLength, length < minLength { return .invalid }
                if let maxLength, length > maxLength { return .invalid }
            }
            if pattern != nil || format != nil {
                let text = tape.string(node)
                if let pattern, !pattern.matches(text) { return .invalid }
                if let format, !SchemaNode.conforms(text, to: format) { return .invalid }
            }
        case .number:
            let n = value.number
            if let minimum, n < minimum { return .invalid }
            if let maximum, n > maximum { return .invalid }
            if let exclusiveMinimum, n <= exclusiveMinimum { return .invalid }
            if let exclusiveMaximum, n >= exclusiveMaximum { return .invalid }
        case .array:
            if let minItems, value.count < minItems { return .invalid }
            if let maxItems, value.count > maxItems { return .invalid }
            if let tapeItems {
                var element = node + 1
                for _ in 0..<Int(value.count) {
                    verdict = verdict.and(tapeItems._withUnsafeGuaranteedRef { $0.verdict(tape, element) })
                    if verdict == .invalid { return .invalid }
                    element = Int(tape.node(element).next)
                }
            }
        case .object:
            if let minProperties, value.count < minProperties { return .invalid }
            if let maxProperties, value.count > maxProperties { return .invalid }
            verdict = verdict.and(membersVerdict(tape, node))
            if verdict == .invalid { return .invalid }
        default:
            break
        }
        return hasApplicators ? verdict.and(applicatorsVerdict(tape, node)) : verdict
    }

    /// `allOf`, `anyOf`, `oneOf`, `not` and `if`/`then`/`else`.
    private func applicatorsVerdict(_ tape: JSONTape, _ node: Int) -> TapeVerdict {
        var verdict = TapeVerdict.valid
        if let allOf {
            for schema in allOf {
                verdict = verdict.and(schema.verdict(tape, node))
                if verdict == .invalid { return .invalid }
            }
        }
        if let anyOf {
            let (valid, unknown) = SchemaNode.count(anyOf, tape, node)
            verdict = verdict.and(valid > 0 ? .valid : unknown > 0 ? .unknown : .invalid)
        }
        if let oneOf {
            let (valid, unknown) = SchemaNode.count(oneOf, tape, node)
            verdict = verdict.and(unknown > 0 ? .unknown : TapeVerdict(valid == 1))
        }
        if let not {
            switch not.verdict(tape, node) {
            case .valid: return .invalid
            case .invalid: break
            case .unknown: verdict = verdict.and(.unknown)
            }
        }
        if let ifSchema {
            switch ifSchema.verdict(tape, node) {
            case .valid: if let thenSchema { verdict = verdict.and(thenSchema.verdict(tape, node)) }
            case .invalid: if let elseSchema { verdict = verdict.and(elseSchema.verdict(tape, node)) }
            case .unknown: verdict = verdict.and(.unknown)
            }
        }
        return verdict
    }

    /// How many of `schemas` find `node` valid, and how many cannot tell.
    private static func count(_ schemas: [SchemaNode], _ tape: JSONTape, _ node: Int) -> (valid: Int, unknown: Int) {
        var valid = 0, unknown = 0
        for schema in schemas {
            switch schema.verdict(tape, node) {
            case .valid: valid += 1
            case .unknown: unknown += 1
            case .invalid: break
            }
        }
        return (valid, unknown)
    }

    /// `required`, `properties` and `additionalProperties`, in one walk of the members and
    /// the schema's names side by side (both in byte order: every name is ASCII here).
    private func membersVerdict(_ tape: JSONTape, _ node: Int) -> TapeVerdict {
        let required = requiredKeys, property = propertyKeys, propertyNodes = propertyNodes
        var verdict = TapeVerdict.valid
        var nextRequired = 0, nextProperty = 0
        for key in tape.memberKeys(node) {
            let name = tape.stringBytes(Int(key))
            if nextRequired < required.count, ShortBytes.compare(required[nextRequired], name) == 0 { nextRequired += 1 }
            while nextProperty < property.count, ShortBytes.compare(property[nextProperty], name) < 0 { nextProperty += 1 }
            if nextProperty < property.count, ShortBytes.compare(property[nextProperty], name) == 0 {
                verdict = verdict.and(propertyNodes[nextProperty]._withUnsafeGuaranteedRef { $0.verdict(tape, Int(key) + 1) })
                nextProperty += 1
            } else if let tapeAdditional {
                verdict = verdict.and(tapeAdditional._withUnsafeGuaranteedRef { $0.verdict(tape, Int(key) + 1) })
            }
            if verdict == .invalid { return .invalid }
        }
        return nextRequired == required.count ? verdict : .invalid
    }
}
