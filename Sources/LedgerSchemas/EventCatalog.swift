import LedgerValues
import Synchronization

/// Every event type the ledger accepts, each at one or more schema versions, loaded from the
/// schemas embedded from `Schemas/` (`events/TYPE/vN.schema.json`). Events are validated
/// against the schema of their type and version; older versions are brought to the current
/// one by the upcasters when read.
public final class EventCatalog: Sendable {
    public final class EventType: Sendable {
        public let name: String
        /// The highest version: what an append uses unless told otherwise.
        public let currentVersion: Int
        /// Each version's schema file, for a type compiled on first use.
        private let files: [Int: (path: String, text: String)]
        private let compiled: Atomic<Unmanaged<Schemas>?>

        /// The type's compiled schemas.
        private final class Schemas: Sendable {
            let versions: [Int: JSONSchema]
            let current: JSONSchema

            init(_ versions: [Int: JSONSchema], current: Int) {
                self.versions = versions
                self.current = versions[current]!
            }
        }

        /// A type whose schemas are compiled already.
        init(name: String, versions: [Int: JSONSchema]) {
            self.name = name
            currentVersion = versions.keys.max() ?? 1
            files = [:]
            compiled = Atomic(Unmanaged.passRetained(Schemas(versions, current: currentVersion)))
        }

        /// A type whose schemas are compiled when first asked for: a command that checks one
        /// event compiles its type's schemas, not the whole catalog's. The texts must compile
        /// (the embedded schemas do: the tests compile every one).
        init(name: String, files: [Int: (path: String, text: String)]) {
            self.name = name
            currentVersion = files.keys.max() ?? 1
            self.files = files
            compiled = Atomic(nil)
        }

        deinit { compiled.load(ordering: .acquiring)?.release() }

        /// Schemas by version.
        public var versions: [Int: JSONSchema] { schemas.versions }
        public var current: JSONSchema { schemas.current }

        /// The schema at `version` (the current one when nil) and that version; nil when the
        /// type has no such version.
        public func schema(version: Int?) -> (schema: JSONSchema, version: Int)? {
            let schemas = schemas
            guard let version, version != currentVersion else { return (schemas.current, currentVersion) }
            return schemas.versions[version].map { ($0, version) }
        }

        /// Whether the schemas are compiled (for tests).
        package var isCompiled: Bool { compiled.load(ordering: .acquiring) != nil }

        private var schemas: Schemas {
            if let done = compiled.load(ordering: .acquiring) { return done.takeUnretainedValue() }
            // Two threads may both compile (threads sharing `EventCatalog.shared`); the first
            // to store its result wins and the other's is dropped.
            let versions = files.mapValues { file in
                do { return try EventCatalog.compile(file.path, file.text) } catch {
                    fatalError("the embedded event catalog does not load: \(error)")
                }
            }
            let mine = Unmanaged.passRetained(Schemas(versions, current: currentVersion))
            let (stored, winner) = compiled.compareExchange(expected: nil, desired: mine, ordering: .acquiringAndReleasing)
            if stored { return mine.takeUnretainedValue() }
            mine.release()
            return winner!.takeUnretainedValue()
        }
    }

    public let types: [String: EventType]
    /// The types again, for `type(named:)`: their names as bytes, and the types in that order.
    private let names: NameList
    private let typesByName: [EventType]
    /// The envelope's own schema (`Schemas/envelope.schema.json`).
    public let envelope: JSONSchema

    /// The catalog built into this program. Each type's schemas compile when first used.
    public static let shared = embedded()

    /// A new catalog of the schemas built into this program, each type's compiled when first
    /// used: the same schemas as `shared`, in objects of its own, for a thread that checks many
    /// events beside others.
    package static func embedded() -> EventCatalog {
        do {
            return try EventCatalog(files: EmbeddedSchemas.files, compileLazily: true)
        } catch {
            // The tests load every embedded schema; reaching this is a build that skipped them.
            fatalError("the embedded event catalog does not load: \(error)")
        }
    }

    /// Builds a catalog from schema files named by their path under `Schemas/`. Every schema
    /// is compiled now, and a bad one throws, unless `compileLazily` leaves each event type's
    /// schemas until they are used (for schemas known to compile).
    public init(files: [(path: String, text: String)], compileLazily: Bool = false) throws(SchemaError) {
        var texts: [String: [Int: (path: String, text: String)]] = [:]
        var compiled: [String: [Int: JSONSchema]] = [:]
        var envelope: JSONSchema?
        for (path, text) in files {
            let parts = path.split(separator: "/")
            if path == "envelope.schema.json" {
                envelope = try EventCatalog.compile(path, text)
            } else if parts.count == 3, parts[0] == "events", parts[2].hasPrefix("v"), parts[2].hasSuffix(".schema.json"),
                      let version = Int(parts[2].dropFirst().dropLast(".schema.json".count)) {
                if !compileLazily { compiled[String(parts[1]), default: [:]][version] = try EventCatalog.compile(path, text) }
                texts[String(parts[1]), default: [:]][version] = (path, text)
            } else {
                throw SchemaError(location: path, message: "not where a schema belongs (events/TYPE/vN.schema.json)")
            }
        }
        guard let envelope else { throw SchemaError(location: "envelope.schema.json", message: "missing") }
        self.envelope = envelope
        self.types = texts.reduce(into: [:]) { types, type in
            types[type.key] = compileLazily ? EventType(name: type.key, files: type.value) : EventType(name: type.key, versions: compiled[type.key]!)
        }
        typesByName = Array(types.values)
        names = NameList(typesByName.map(\.name))
    }

    deinit { names.deallocate() }

    /// Compiles the schema file at `path`; an error names the file.
    private static func compile(_ path: String, _ text: String) throws(SchemaError) -> JSONSchema {
        do { return try JSONSchema(text: Array(text.utf8)) } catch {
            throw SchemaError(location: path + error.location, message: error.message)
        }
    }

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
