import LedgerValues

/// Every event type the ledger accepts, each at one or more schema versions, loaded from the
/// schemas embedded from `Schemas/` (`events/TYPE/vN.schema.json`). Events are validated
/// against the schema of their type and version; older versions are brought to the current
/// one by the upcasters when read.
public final class EventCatalog: Sendable {
    public final class EventType: Sendable {
        public let name: String
        /// Schemas by version.
        public let versions: [Int: JSONSchema]
        /// The highest version: what an append uses unless told otherwise.
        public let currentVersion: Int
        public let current: JSONSchema

        init(name: String, versions: [Int: JSONSchema]) {
            self.name = name
            self.versions = versions
            currentVersion = versions.keys.max() ?? 1
            current = versions[currentVersion]!
        }

        /// The schema at `version` (the current one when nil) and that version; nil when the
        /// type has no such version.
        public func schema(version: Int?) -> (schema: JSONSchema, version: Int)? {
            guard let version, version != currentVersion else { return (current, currentVersion) }
            return versions[version].map { ($0, version) }
        }
    }

    public let types: [String: EventType]
    /// The types again, for `type(named:)`: their names as bytes, and the types in that order.
    private let names: NameList
    private let typesByName: [EventType]
    /// The envelope's own schema (`Schemas/envelope.schema.json`).
    public let envelope: JSONSchema

    /// The catalog built into this program.
    public static let shared: EventCatalog = {
        do {
            return try EventCatalog(files: EmbeddedSchemas.files)
        } catch {
            // The tests load every embedded schema; reaching this is a build that skipped them.
            fatalError("the embedded event catalog does not load: \(error)")
        }
    }()

    /// Builds a catalog from schema files named by their path under `Schemas/`.
    public init(files: [(path: String, text: String)]) throws(SchemaError) {
        var versions: [String: [Int: JSONSchema]] = [:]
        var envelope: JSONSchema?
        for (path, text) in files {
            let schema: JSONSchema
            do { schema = try JSONSchema(text: Array(text.utf8)) } catch {
                throw SchemaError(location: path + error.location, message: error.message)
            }
            let parts = path.split(separator: "/")
            if path == "envelope.schema.json" {
                envelope = schema
            } else if parts.count == 3, parts[0] == "events", parts[2].hasPrefix("v"), parts[2].hasSuffix(".schema.json"),
                      let version = Int(parts[2].dropFirst().dropLast(".schema.json".count)) {
                versions[String(parts[1]), default: [:]][version] = schema
            } else {
                throw SchemaError(location: path, message: "not where a schema belongs (events/TYPE/vN.schema.json)")
            }
        }
        guard let envelope else { throw SchemaError(location: "envelope.schema.json", message: "missing") }
        self.envelope = envelope
        self.types = versions.reduce(into: [:]) { $0[$1.key] = EventType(name: $1.key, versions: $1.value) }
        typesByName = Array(types.values)
        names = NameList(typesByName.map(\.name))
    }

    deinit { names.deallocate() }

    /// The type whose name is `name`'s bytes: the batch's fast path looks its type up this way,
    /// once per event, without making a string of the name or hashing it.
    public func type(named name: UnsafeBufferPointer<UInt8>) -> EventType? {
        names.firstIndex(of: name).map { typesByName[$0] }
    }

    /// The schema for `type` at `version` (the current version when nil).
    public func schema(type: String, version: Int? = nil) -> JSONSchema? {
        guard let entry = types[type] else { return nil }
        return entry.versions[version ?? entry.currentVersion]
    }

    /// Brings `data`, written against `version` of `type`, up to the type's current version.
    public func upcast(type: String, version: Int, data: JSONObject) -> (data: JSONObject, version: Int) {
        var data = data, version = version
        while let step = Upcasters.steps[type]?[version] {
            data = step(data)
            version += 1
        }
        return (data, version)
    }
}
