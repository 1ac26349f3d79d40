// swift-tools-version:6.1
import PackageDescription

// Strict settings for every target of ours: Swift 6 language mode is the package default,
// `ExistentialAny` makes every existential spelled out.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "CivicLedger",
    products: [
        .executable(name: "civic-ledger", targets: ["CivicLedgerCLI"]),
        .library(name: "LedgerCore", targets: ["LedgerCore", "LedgerSchemas", "LedgerValues"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        // Debian's liblmdb-dev, found through pkg-config.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        // The system's SQLite, used only by the benchmark as a baseline.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // C helpers Swift cannot spell: glibc's <malloc.h> (a heap setting of big batches,
        // LedgerCore's MemoryTuning) and a cache prefetch (the writer's stream table).
        .systemLibrary(name: "CShims"),
        // The LMDB layer: environments, transactions, typed errors, the writer rules.
        .target(
            name: "LMDB",
            dependencies: ["CLMDB"],
            swiftSettings: strictSettings
        ),
        // The values events are made of: strict JSON, RFC 8785 canonical form, dates and times.
        .target(
            name: "LedgerValues",
            swiftSettings: strictSettings
        ),
        // The event catalog: JSON Schemas (embedded from Schemas/), the validator, upcasters.
        .target(
            name: "LedgerSchemas",
            dependencies: ["LedgerValues"],
            swiftSettings: strictSettings
        ),
        // The ledger core: envelope, encoding, hash chain, append, read, verify.
        .target(
            name: "LedgerCore",
            dependencies: [
                "LMDB",
                "LedgerValues",
                "LedgerSchemas",
                "CShims",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // Projections: current state and history views kept in the append's transaction,
        // rebuilt from the log on demand.
        .target(
            name: "LedgerProjections",
            dependencies: ["LedgerCore", "LedgerSchemas", "LedgerValues", "LMDB"],
            swiftSettings: strictSettings
        ),
        // Audit and replay: the zone as of any date, as known at any time, and what changed.
        .target(
            name: "LedgerAudit",
            dependencies: [
                "LedgerProjections", "LedgerCore", "LedgerValues", "LMDB",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // The `civic-ledger` command-line tool: one file per subcommand.
        .executableTarget(
            name: "CivicLedgerCLI",
            dependencies: [
                "LedgerAudit",
                "LedgerCore",
                "LedgerProjections",
                "LedgerSchemas",
                "LedgerValues",
                "LMDB",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        // `tools/bench` drives this: the ledger against raw LMDB and SQLite on the same events.
        .executableTarget(
            name: "LedgerBench",
            dependencies: ["LedgerCore", "LedgerProjections", "LedgerAudit", "LedgerValues", "LMDB", "CLMDB", "CSQLite"],
            swiftSettings: strictSettings
        ),
        // What several test targets share: temporary directories, a seeded generator.
        .target(
            name: "TestSupport",
            path: "Tests/TestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LMDBTests",
            dependencies: ["TestSupport", "LMDB", "CLMDB"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerValuesTests",
            dependencies: ["TestSupport", "LedgerValues"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerSchemasTests",
            dependencies: ["TestSupport", "LedgerSchemas", "LedgerValues"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerCoreTests",
            dependencies: ["TestSupport", "LedgerCore", "LedgerSchemas", "LedgerValues", "LMDB"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerProjectionsTests",
            dependencies: ["TestSupport", "LedgerProjections", "LedgerCore", "LedgerValues", "LMDB"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LedgerAuditTests",
            dependencies: ["TestSupport", "LedgerAudit", "LedgerProjections", "LedgerCore", "LedgerValues"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["TestSupport", "LedgerCore"],
            swiftSettings: strictSettings
        ),
    ]
)
