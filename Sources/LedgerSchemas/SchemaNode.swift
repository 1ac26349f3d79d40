import LedgerValues

/// One compiled schema object: each keyword it has, ready to check. Nodes are built once by
/// `SchemaCompiler` and then only read, from any thread.
///
/// The keywords are `var`s only because the compiler fills them in after the node exists (a
/// `$ref` may point back at it). They are marked `@exclusivity(unchecked)`: once compiled they
/// are never written, and the run-time check of every read was a tenth of validating.
final class SchemaNode: @unchecked Sendable {
    let location: String
    /// `true` or `false` as a whole schema.
    let constant: Bool?

    @exclusivity(unchecked) var types: [JSONType]?
    /// In canonical key order, as an object's members are, so that validating walks both
    /// side by side instead of looking each member up.
    @exclusivity(unchecked) var properties: [(name: String, node: SchemaNode)] = []
    /// In the schema's order (the order missing members are reported in) …
    @exclusivity(unchecked) var required: [String] = []
    /// … and in canonical order, to check them all in one walk over an object's members.
    @exclusivity(unchecked) var requiredSorted: [String] = []
    @exclusivity(unchecked) var additionalProperties: SchemaNode?
    @exclusivity(unchecked) var enumValues: [JSONValue]?
    @exclusivity(unchecked) var constValue: JSONValue?
    @exclusivity(unchecked) var pattern: SchemaPattern?
    @exclusivity(unchecked) var minimum: Double?
    @exclusivity(unchecked) var maximum: Double?
    @exclusivity(unchecked) var exclusiveMinimum: Double?
    @exclusivity(unchecked) var exclusiveMaximum: Double?
    @exclusivity(unchecked) var minLength: Int?
    @exclusivity(unchecked) var maxLength: Int?
    @exclusivity(unchecked) var items: SchemaNode?
    @exclusivity(unchecked) var minItems: Int?
    @exclusivity(unchecked) var maxItems: Int?
    @exclusivity(unchecked) var uniqueItems = false
    @exclusivity(unchecked) var minProperties: Int?
    @exclusivity(unchecked) var maxProperties: Int?
    @exclusivity(unchecked) var allOf: [SchemaNode]?
    @exclusivity(unchecked) var anyOf: [SchemaNode]?
    @exclusivity(unchecked) var oneOf: [SchemaNode]?
    @exclusivity(unchecked) var not: SchemaNode?
    @exclusivity(unchecked) var ifSchema: SchemaNode?
    @exclusivity(unchecked) var thenSchema: SchemaNode?
    @exclusivity(unchecked) var elseSchema: SchemaNode?
    @exclusivity(unchecked) var format: String?
    @exclusivity(unchecked) var reference: SchemaNode?

    /// For `verdict`: the names of `properties` and `requiredSorted` as bytes, the nodes of
    /// `properties` unretained (the node holds them; it frees these three when it goes), and
    /// whether it can check this node (no keyword it leaves to `validate`, every name ASCII). Flat, so that its walk over an
    /// object's members retains nothing per member: two cores retaining the same shared
    /// nodes and arrays were a third of its time.
    @exclusivity(unchecked) var propertyKeys = NameList.none
    @exclusivity(unchecked) var requiredKeys = NameList.none
    @exclusivity(unchecked) var propertyNodes = UnsafeBufferPointer<Unmanaged<SchemaNode>>(start: nil, count: 0)
    /// `enumValues` as bytes when every one is a string (the common `enum`), so a string is
    /// checked against them without a value to compare.
    @exclusivity(unchecked) var enumStrings: NameList?
    /// `types` as the tape's kinds it admits (bit `1 << kind.rawValue`; all without `type`),
    /// and whether a number must be whole (`integer` without `number`).
    @exclusivity(unchecked) var tapeKinds: UInt8 = 0xFF
    @exclusivity(unchecked) var wholeNumbersOnly = false
    @exclusivity(unchecked) var tapeReady = false
    /// `reference`, `items` and `additionalProperties` unretained (the node holds them), and
    /// whether any of `allOf`, `anyOf`, `oneOf`, `not` and `if` is there: reading a child
    /// through its optional retained and released it, a fifth of the check's time.
    @exclusivity(unchecked) var tapeReference: Unmanaged<SchemaNode>?
    @exclusivity(unchecked) var tapeItems: Unmanaged<SchemaNode>?
    @exclusivity(unchecked) var tapeAdditional: Unmanaged<SchemaNode>?
    @exclusivity(unchecked) var hasApplicators = false

    init(location: String, constant: Bool?) {
        self.location = location
        self.constant = constant
    }

    deinit {
        propertyKeys.deallocate()
        requiredKeys.deallocate()
        enumStrings?.deallocate()
        propertyNodes.deallocate()
    }

    /// Checks `value`, found at `path` (the reference tokens from the instance root: kept as
    /// a stack and joined into a pointer only when something fails).
    func validate(_ value: JSONValue, path: inout [String], limit: Int, into failures: inout [ValidationFailure]) {
        // A limit of 0 only asks whether anything fails: no message is built.
        func fail(_ keyword: String, _ message: @autoclosure () -> String) {
            if limit == 0 {
                if failures.isEmpty { failures.append(ValidationFailure(instancePath: "", keyword: keyword, schemaPath: "", message: "")) }
            } else if failures.count < limit {
                failures.append(ValidationFailure(instancePath: pointer(path), keyword: keyword,
                                                  schemaPath: appendPointer(location, keyword), message: message()))
            }
        }
        func passes(_ node: SchemaNode) -> Bool {
            var scratch: [ValidationFailure] = []
            node.validate(value, path: &path, limit: 0, into: &scratch)
            return scratch.isEmpty
        }
        if let constant {
            if !constant { fail("false", "no value is allowed here") }
            return
        }
        if let reference { reference.validate(value, path: &path, limit: limit, into: &failures) }
        if let types, !types.contains(where: { $0.admits(value) }) {
            fail("type", "must be \(types.map(\.rawValue).joined(separator: " or ")), not \(value.typeName)")
            return  // the other keywords would only repeat the point
        }
        if let enumValues, !enumValues.contains(value) {
            fail("enum", "must be one of \(enumValues.map(\.canonicalText).joined(separator: ", "))")
        }
        if let constValue, constValue != value { fail("const", "must be \(constValue.canonicalText)") }

        switch value {
        case .string(let text):
            if minLength != nil || maxLength != nil {
                let length = SchemaNode.codePoints(text)  // as JSON Schema counts
                if let minLength, length < minLength { fail("minLength", "must be at least \(minLength) characters long") }
                if let maxLength, length > maxLength { fail("maxLength", "must be at most \(maxLength) characters long") }
            }
            if let pattern, !pattern.matches(text) { fail("pattern", "must match the pattern \(pattern.source)") }
            if let format, !SchemaNode.conforms(text, to: format) {
                fail("format", format == "date" ? "must be a real date YYYY-MM-DD" : "must be a date-time YYYY-MM-DDTHH:MM:SS with Z or an offset")
            }
        case .number(let n):
            if let minimum, n < minimum { fail("minimum", "must be at least \(SchemaNode.text(minimum))") }
            if let maximum, n > maximum { fail("maximum", "must be at most \(SchemaNode.text(maximum))") }
            if let exclusiveMinimum, n <= exclusiveMinimum { fail("exclusiveMinimum", "must be more than \(SchemaNode.text(exclusiveMinimum))") }
            if let exclusiveMaximum, n >= exclusiveMaximum { fail("exclusiveMaximum", "must be less than \(SchemaNode.text(exclusiveMaximum))") }
        case .array(let elements):
            if let minItems, elements.count < minItems { fail("minItems", "must have at least \(minItems) items") }
            if let maxItems, elements.count > maxItems { fail("maxItems", "must have at most \(maxItems) items") }
            if uniqueItems {
                outer: for i in elements.indices {
                    for j in elements.indices where j > i && elements[i] == elements[j] {
                        fail("uniqueItems", "items \(i) and \(j) are equal")
                        break outer
                    }
                }
            }
            if let items {
                for (i, element) in elements.enumerated() {
                    path.append(String(i))
                    items.validate(element, path: &path, limit: limit, into: &failures)
                    path.removeLast()
                }
            }
        case .object(let object):
            if let minProperties, object.count < minProperties { fail("minProperties", "must have at least \(minProperties) members") }
            if let maxProperties, object.count > maxProperties { fail("maxProperties", "must have at most \(maxProperties) members") }
            if !SchemaNode.hasAll(requiredSorted, object) {
                for name in required where object[name] == nil { fail("required", "missing required member '\(name)'") }
            }
            var next = 0  // the first property whose name is not before the member's key
            for (key, member) in object.members {
                while next < properties.count, JSONObject.canonicalOrder(properties[next].name, key) { next += 1 }
                if next < properties.count, JSONObject.sameKey(properties[next].name, key) {
                    path.append(key)
                    properties[next].node.validate(member, path: &path, limit: limit, into: &failures)
                    path.removeLast()
                    next += 1
                } else if let additionalProperties {
                    if additionalProperties.constant == false {
                        fail("additionalProperties", "unknown member '\(MessageText.quote(key))'")
                    } else {
                        path.append(key)
                        additionalProperties.validate(member, path: &path, limit: limit, into: &failures)
                        path.removeLast()
                    }
                }
            }
        default:
            break
        }

        if let allOf { for node in allOf { node.validate(value, path: &path, limit: limit, into: &failures) } }
        if let anyOf, !anyOf.contains(where: passes) { fail("anyOf", "matches none of the \(anyOf.count) alternatives") }
        if let oneOf {
            let matching = oneOf.filter(passes).count
            if matching != 1 { fail("oneOf", "matches \(matching) of the \(oneOf.count) alternatives; exactly one must match") }
        }
        if let not, passes(not) { fail("not", "must not match the schema at \(not.location)") }
        if let ifSchema {
            if passes(ifSchema) {
                thenSchema?.validate(value, path: &path, limit: limit, into: &failures)
            } else {
                elseSchema?.validate(value, path: &path, limit: limit, into: &failures)
            }
        }
    }

    /// Whether `object` has every one of `names` (both in canonical order): one walk.
    private static func hasAll(_ names: [String], _ object: JSONObject) -> Bool {
        var next = 0
        for (key, _) in object.members {
            guard next < names.count else { return true }
            if JSONObject.sameKey(names[next], key) {
                next += 1
            } else if JSONObject.canonicalOrder(names[next], key) {
                return false  // the name's place has passed without it
            }
        }
        return next == names.count
    }

    /// A string's length in code points: its UTF-8 bytes that do not continue a character.
    private static func codePoints(_ text: String) -> Int {
        text.utf8.withContiguousStorageIfAvailable { bytes in bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) } }
            ?? text.unicodeScalars.count
    }

    private func pointer(_ tokens: [String]) -> String {
        tokens.reduce("", appendPointer)
    }

    static func conforms(_ text: String, to format: String) -> Bool {
        switch format {
        case "date": return CalendarDate(text) != nil
        default: return DateTimeText(text)?.hasSeconds == true
        }
    }

    static func text(_ number: Double) -> String { JSONValue.number(number).canonicalText }
}

extension JSONValue {
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number(let n): return n.rounded(.towardZero) == n ? "an integer" : "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Names in one block of memory, each found by where it ends. Trivial to copy, so that the
/// tape's check reads it without retaining anything; whoever holds it frees it. Its memory is
/// written once, when it is made, and only read after: any thread may read it.
struct NameList: @unchecked Sendable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let ends: UnsafeBufferPointer<Int>

    /// No names, and no memory to free.
    static var none: NameList { NameList(bytes: UnsafeBufferPointer(start: nil, count: 0), ends: UnsafeBufferPointer(start: nil, count: 0)) }

    private init(bytes: UnsafeBufferPointer<UInt8>, ends: UnsafeBufferPointer<Int>) {
        self.bytes = bytes
        self.ends = ends
    }

    init(_ names: [String]) {
        let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: names.reduce(0) { $0 + $1.utf8.count })
        let ends = UnsafeMutableBufferPointer<Int>.allocate(capacity: names.count)
        var end = 0
        for (index, name) in names.enumerated() {
            end = UnsafeMutableBufferPointer(rebasing: bytes[end...]).initialize(fromContentsOf: name.utf8) + end
            ends[index] = end
        }
        self.init(bytes: UnsafeBufferPointer(bytes), ends: UnsafeBufferPointer(ends))
    }

    func deallocate() {
        bytes.deallocate()
        ends.deallocate()
    }

    var count: Int { ends.count }

    /// Name `index`'s bytes.
    @inline(__always)
    subscript(index: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
    }

    /// Where `name` is among the names; nil if it is not one of them.
    func firstIndex(of name: UnsafeBufferPointer<UInt8>) -> Int? {
        (0..<count).first { ShortBytes.equal(self[$0], name) }
    }

    func contains(_ name: UnsafeBufferPointer<UInt8>) -> Bool { firstIndex(of: name) != nil }
}
