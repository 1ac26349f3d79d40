import Foundation
import Synchronization
import LedgerValues
import Testing
@testable import LedgerSchemas

@Suite struct CatalogTests {
    static let schemasDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Schemas")

    @Test func theEmbeddedSchemasAreTheFilesInSchemas() throws {
        let enumerator = try #require(FileManager.default.enumerator(atPath: Self.schemasDirectory.path))
        let onDisk = (enumerator.allObjects as? [String] ?? []).filter { $0.hasSuffix(".schema.json") }.sorted()
        #expect(EmbeddedSchemas.files.map(\.path) == onDisk)
        for (path, text) in EmbeddedSchemas.files {
            let file = try String(contentsOf: Self.schemasDirectory.appendingPathComponent(path), encoding: .utf8)
            #expect(file == text + "\n", "\(path) differs: run tools/embed-schemas")
        }
    }

    @Test func everyTypeLoadsWithTitlesAndEveryExampleValidates() throws {
        let catalog = EventCatalog.shared
        #expect(catalog.types.count >= 16)
        for required in ["project.signed", "project.construction_started", "project.completed", "project.cancelled",
                         "road.construction_started", "road.delivered", "housing.construction_progress", "housing.batch_handed_over",
                         "facility.construction_started", "facility.opened", "indicator.reported", "target.set",
                         "award.granted", "ranking.reported", "event.corrected", "event.retracted"] {
            #expect(catalog.types[required] != nil, "\(required) missing")
        }
        for type in catalog.types.values {
            for (version, schema) in type.versions {
                #expect(schema.title != nil && schema.id != nil, "\(type.name) v\(version)")
                #expect(!schema.examples.isEmpty, "\(type.name) v\(version) has no examples")
                for example in schema.examples {
                    #expect(schema.validate(example).isEmpty, "\(type.name) v\(version) example: \(schema.validate(example))")
                }
            }
        }
        for example in catalog.envelope.examples { #expect(catalog.envelope.validate(example).isEmpty) }
        #expect(catalog.types["project.signed"]?.currentVersion == 2)
    }

    @Test func projectSignedV1UpcastsToAValidV2() throws {
        let catalog = EventCatalog.shared
        let v1 = try #require(catalog.schema(type: "project.signed", version: 1))
        for example in v1.examples {
            let (data, version) = catalog.upcast(type: "project.signed", version: 1, data: try #require(example.objectValue))
            #expect(version == 2)
            #expect(catalog.schema(type: "project.signed", version: 2)!.validate(.object(data)).isEmpty)
            if let registered = example["foreignCapitalUsd"] {
                #expect(data["registeredForeignCapitalUsd"] == registered && data["foreignCapitalUsd"] == nil)
            }
        }
        let current = try #require(catalog.schema(type: "road.delivered")?.examples.first?.objectValue)
        #expect(catalog.upcast(type: "road.delivered", version: 1, data: current).version == 1)
    }

    /// The program's catalog compiles a type's schemas when they are first used, so a single
    /// append compiles one type's, not the catalog's; the result is the same schemas.
    @Test func aLazyCatalogCompilesATypeWhenItIsUsed() throws {
        let lazy = try EventCatalog(files: EmbeddedSchemas.files, compileLazily: true)
        let eager = try EventCatalog(files: EmbeddedSchemas.files)
        #expect(lazy.types.values.allSatisfy { !$0.isCompiled })
        #expect(eager.types.values.allSatisfy { $0.isCompiled })
        let road = try #require(lazy.types["road.delivered"])
        let (schema, version) = try #require(road.schema(version: nil))
        #expect(road.isCompiled && version == road.currentVersion)
        #expect(lazy.types.values.filter(\.isCompiled).map(\.name) == ["road.delivered"])
        #expect(schema.id == eager.types["road.delivered"]?.current.id && schema.id != nil)
        // Asked for from many threads at once (a smoke test: the threads may or may not race),
        // every caller gets the one stored schema. The schemas are kept, so no address is reused.
        let signed = try #require(lazy.types["project.signed"])
        let seen = Mutex<[JSONSchema]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let current = signed.current
            seen.withLock { $0.append(current) }
        }
        let schemas = seen.withLock { $0 } + [signed.current]
        #expect(schemas.count == 9 && schemas.allSatisfy { $0 === schemas[0] })
    }

    @Test func aCatalogWithABadSchemaDoesNotLoad() {
        #expect(throws: SchemaError.self) {
            try EventCatalog(files: [("envelope.schema.json", "{}"), ("events/a.b/v1.schema.json", #"{"type":"object","multipleOf":2}"#)])
        }
        #expect(throws: SchemaError.self) { try EventCatalog(files: [("events/a.b/one.json", "{}")]) }
    }
}
