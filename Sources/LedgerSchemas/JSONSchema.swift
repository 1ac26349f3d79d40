import LedgerValues

/// A JSON Schema (draft 2020-12), compiled for validation. Only the keywords listed in
/// `assertions` and `annotations` may appear; loading a schema with any other keyword fails,
/// as does a `$ref` other than `#/$defs/NAME` or a `format` other than `date` and `date-time`.
public final class JSONSchema: Sendable {
    /// Keywords that constrain instances.
    public static let assertions: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "const", "pattern",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
        "items", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
        "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "format",
    ]
    /// Keywords that only describe, or organise the document.
    public static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "$defs", "title", "description", "examples", "default", "deprecated",
        "readOnly", "writeOnly",
    ]
    public static let supportedFormats: Set<String> = ["date", "date-time"]

    /// The schema as written.
    public let document: JSONValue
    let root: SchemaNode

    public init(_ document: JSONValue) throws(SchemaError) {
        self.document = document
        var compiler = SchemaCompiler(document: document)
        root = try compiler.compile(document, at: "")
        try compiler.resolveReferences()
    }

    /// Parses and compiles schema text.
    public convenience init(text: some Collection<UInt8>) throws(SchemaError) {
        let value: JSONValue
        do { value = try JSONParser.parse(text) } catch { throw SchemaError(location: "", message: error.description) }
        try self.init(value)
    }

    public var id: String? { document["$id"]?.stringValue }
    public var title: String? { document["title"]?.stringValue }
    public var examples: [JSONValue] { document["examples"]?.arrayValue ?? [] }

    /// The ways `instance` breaks the schema, at most `limit` (1 or more) of them; empty when
    /// it is valid.
    public func validate(_ instance: JSONValue, limit: Int = 20) -> [ValidationFailure] {
        let limit = max(1, limit)
        var failures: [ValidationFailure] = []
        var path: [String] = []
        path.reserveCapacity(8)
        root.validate(instance, path: &path, limit: limit, into: &failures)
        return failures
    }

    /// Whether value `node` of `tape` is valid, checked straight from the tape without
    /// building it. A failure is not worded: `validate` does that.
    public func verdict(_ tape: JSONTape, at node: Int) -> TapeVerdict {
        root.verdict(tape, node)
    }

    public func isValid(_ instance: JSONValue) -> Bool {
        var failures: [ValidationFailure] = []
        var path: [String] = []
        root.validate(instance, path: &path, limit: 0, into: &failures)
        return failures.isEmpty
    }
}

/// The JSON types of the `type` keyword.
enum JSONType: String, Sendable {
    case null, boolean, number, integer, string, array, object

    /// The tape's kinds this type admits, as bits `1 << kind.rawValue` (an integer is a number
    /// there; `wholeNumbersOnly` says the rest).
    var tapeKinds: UInt8 {
        switch self {
        case .null: return 1 << JSONTape.Kind.null.rawValue
        case .boolean: return 1 << JSONTape.Kind.boolean.rawValue
        case .number, .integer: return 1 << JSONTape.Kind.number.rawValue
        case .string: return 1 << JSONTape.Kind.string.rawValue
        case .array: return 1 << JSONTape.Kind.array.rawValue
        case .object: return 1 << JSONTape.Kind.object.rawValue
        }
    }

    func admits(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.number, .number), (.string, .string), (.array, .array), (.object, .object): return true
        case (.integer, .number(let n)): return n.rounded(.towardZero) == n  // 1.0 is an integer
        default: return false
        }
    }
}

/// Turns schema JSON into nodes, checking every keyword and collecting `$ref`s to resolve
/// once all of `$defs` is compiled.
struct SchemaCompiler {
    let document: JSONValue
    private var definitions: [String: SchemaNode] = [:]
    private var references: [(SchemaNode, String, String)] = []  // node, reference, location

    init(document: JSONValue) { self.document = document }

    mutating func compile(_ schema: JSONValue, at location: String) throws(SchemaError) -> SchemaNode {
        func fail(_ message: String, _ keyword: String? = nil) -> SchemaError {
            SchemaError(location: keyword.map { appendPointer(location, $0) } ?? location, message: message)
        }
        if case .bool(let value) = schema { return SchemaNode(location: location, constant: value) }
        guard case .object(let object) = schema else { throw fail("a schema must be an object or a boolean") }
        let node = SchemaNode(location: location, constant: nil)
        for key in object.keys where !JSONSchema.assertions.contains(key) && !JSONSchema.annotations.contains(key) {
            throw fail("keyword '\(key)' is not supported by this validator", key)
        }
        if let dialect = object["$schema"], dialect != .string("https://json-schema.org/draft/2020-12/schema") {
            throw fail("only draft 2020-12 is supported", "$schema")
        }
        if let defs = object["$defs"] {
            guard location.isEmpty else { throw fail("$defs is supported at the root only", "$defs") }
            guard case .object(let members) = defs else { throw fail("must be an object", "$defs") }
            for (name, definition) in members.members {
                definitions[name] = try compile(definition, at: appendPointer("/$defs", name))
            }
        }

        func count(_ key: String) throws(SchemaError) -> Int? {
            guard let value = object[key] else { return nil }
            guard let n = value.integerValue, n >= 0 else { throw fail("must be a non-negative integer", key) }
            return Int(n)
        }
        func number(_ key: String) throws(SchemaError) -> Double? {
            guard let value = object[key] else { return nil }
            guard case .number(let n) = value else { throw fail("must be a number", key) }
            return n
        }
        func subschemas(_ key: String) throws(SchemaError) -> [SchemaNode]? {
            guard let value = object[key] else { return nil }
            guard case .array(let items) = value, !items.isEmpty else { throw fail("must be a non-empty array of schemas", key) }
            var nodes: [SchemaNode] = []
            for (i, item) in items.enumerated() { nodes.append(try compile(item, at: appendPointer(appendPointer(location, key), String(i)))) }
            return nodes
        }
        func subschema(_ key: String) throws(SchemaError) -> SchemaNode? {
            guard let value = object[key] else { return nil }
            return try compile(value, at: appendPointer(location, key))
        }

        if let type = object["type"] {
            let names: [JSONValue] = type.arrayValue ?? [type]
            var types: [JSONType] = []
            for name in names {
                guard let text = name.stringValue, let parsed = JSONType(rawValue: text) else { throw fail("unknown type \(name.canonicalText)", "type") }
                types.append(parsed)
            }
            node.types = types
            node.tapeKinds = types.reduce(0) { $0 | $1.tapeKinds }
            node.wholeNumbersOnly = types.contains(.integer) && !types.contains(.number)
        }
        if let properties = object["properties"] {
            guard case .object(let members) = properties else { throw fail("must be an object", "properties") }
            // A parsed object's members are in canonical order already, as `properties` must be.
            for (name, schema) in members.members {
                node.properties.append((name, try compile(schema, at: appendPointer(appendPointer(location, "properties"), name))))
            }
        }
        if let required = object["required"] {
            guard let names = required.arrayValue?.compactMap(\.stringValue), names.count == required.arrayValue?.count else {
                throw fail("must be an array of strings", "required")
            }
            node.required = names
            node.requiredSorted = names.sorted(by: JSONObject.canonicalOrder)
        }
        node.additionalProperties = try subschema("additionalProperties")
        if let values = object["enum"] {
            guard case .array(let items) = values else { throw fail("must be an array", "enum") }
            node.enumValues = items
        }
        node.constValue = object["const"]
        if let pattern = object["pattern"] {
            guard let text = pattern.stringValue else { throw fail("must be a string", "pattern") }
            do { node.pattern = try SchemaPattern(text) } catch { throw fail(error.message, "pattern") }
        }
        node.minimum = try number("minimum")
        node.maximum = try number("maximum")
        node.exclusiveMinimum = try number("exclusiveMinimum")
        node.exclusiveMaximum = try number("exclusiveMaximum")
        node.minLength = try count("minLength")
        node.maxLength = try count("maxLength")
        node.minItems = try count("minItems")
        node.maxItems = try count("maxItems")
        node.minProperties = try count("minProperties")
        node.maxProperties = try count("maxProperties")
        if let unique = object["uniqueItems"] {
            guard case .bool(let flag) = unique else { throw fail("must be a boolean", "uniqueItems") }
            node.uniqueItems = flag
        }
        if let items = object["items"] {
            guard items.arrayValue == nil else { throw fail("items takes one schema in draft 2020-12 (prefixItems is not supported)", "items") }
            node.items = try compile(items, at: appendPointer(location, "items"))
        }
        node.allOf = try subschemas("allOf")
        node.anyOf = try subschemas("anyOf")
        node.oneOf = try subschemas("oneOf")
        node.not = try subschema("not")
        node.ifSchema = try subschema("if")
        node.thenSchema = try subschema("then")
        node.elseSchema = try subschema("else")
        if let format = object["format"] {
            guard let name = format.stringValue, JSONSchema.supportedFormats.contains(name) else {
                throw fail("format \(format.canonicalText) is not supported (only date and date-time)", "format")
            }
            node.format = name
        }
        if let reference = object["$ref"] {
            guard let text = reference.stringValue else { throw fail("must be a string", "$ref") }
            references.append((node, text, appendPointer(location, "$ref")))
        }
        node.propertyKeys = NameList(node.properties.map(\.name))
        node.requiredKeys = NameList(node.requiredSorted)
        let propertyNodes = UnsafeMutableBufferPointer<Unmanaged<SchemaNode>>.allocate(capacity: node.properties.count)
        _ = propertyNodes.initialize(from: node.properties.map { Unmanaged.passUnretained($0.node) })
        node.propertyNodes = UnsafeBufferPointer(propertyNodes)
        node.tapeItems = node.items.map(Unmanaged.passUnretained)
        node.tapeAdditional = node.additionalProperties.map(Unmanaged.passUnretained)
        node.hasApplicators = node.allOf != nil || node.anyOf != nil || node.oneOf != nil || node.not != nil || node.ifSchema != nil
        if let values = node.enumValues {
            let strings = values.compactMap(\.stringValue)
            node.enumStrings = strings.count == values.count ? NameList(strings) : nil
        }
        let names = node.properties.map(\.name) + node.requiredSorted
        let valuesComparable = ((node.enumValues ?? []) + (node.constValue.map { [$0] } ?? [])).allSatisfy {
            if case .array = $0 { return false }
            if case .object = $0 { return false }
            return true
        }
        node.tapeReady = !node.uniqueItems && valuesComparable && names.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
        return node
    }

    /// Points every `$ref` at its compiled definition.
    mutating func resolveReferences() throws(SchemaError) {
        for (node, reference, location) in references {
            guard reference.hasPrefix("#/$defs/"), let target = definitions[String(reference.dropFirst(8))] else {
                throw SchemaError(location: location, message: "cannot resolve '\(reference)' (only #/$defs/NAME is supported)")
            }
            node.reference = target
            node.tapeReference = Unmanaged.passUnretained(target)
        }
    }
}

extension JSONValue {
    /// The canonical text, for messages.
    var canonicalText: String { String(decoding: canonicalBytes, as: UTF8.self) }
}
