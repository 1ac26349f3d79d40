@_spi(Benchmark) import LedgerCore
import LedgerProjections
#if canImport(Glibc)
import Glibc
#endif
import LedgerValues

// The benchmark behind `tools/bench`: the ledger against raw LMDB and SQLite on the same
// generated events, each run several times, medians reported.
//   LedgerBench [--events N] [--runs R] [--dir DIR] [--cli PATH] [--audit-only]

var events = 1_000_000, runs = 3, directory = "/tmp/civic-ledger-bench", cli: String?, auditOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--events": events = Int(arguments.popFirst() ?? "") ?? events
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--dir": directory = arguments.popFirst() ?? directory
    case "--cli": cli = arguments.popFirst()
    case "--audit-only": auditOnly = true
    default: print("usage: LedgerBench [--events N] [--runs R] [--dir DIR] [--cli PATH] [--audit-only]"); exit(64)
    }
}

@MainActor func rate(_ seconds: Double) -> String { "\(Int((Double(events) / seconds).rounded())) events/s" }
@MainActor func row(_ name: String, _ seconds: Double, _ note: String = "") {
    let padded = name + String(repeating: " ", count: max(1, 34 - name.count))
    print("\(padded)\(String(format3(seconds))) s  \(rate(seconds))\(note.isEmpty ? "" : "  " + note)")
}
func format3(_ x: Double) -> String { let v = (x * 1000).rounded() / 1000; return String(v) }

/// The audit curve: a zone of 2,550 entities (2,000 projects, 500 roads, 50 estates) whose
/// history grows from 10,000 events to the run's size; then the run's size over 50 events per
/// project stream, as the rest of the benchmark generates it.
@MainActor func runAuditCurve() throws {
    let sizes = Set([10_000, 100_000, events].filter { $0 <= events }).sorted()
    try auditCurve(sizes.map { ($0, 2_000) } + [(events, max(1, events / 50))], directory: directory)
}
if auditOnly {
    try runAuditCurve()
    _ = system("rm -rf '\(directory)'")
    exit(0)
}

var generator = EventGenerator()
let input = generator.ndjson(count: events, streams: max(1, events / 50))
print("civic-ledger bench: \(events) events (\(input.count / 1_048_576) MiB of NDJSON), \(runs) runs, medians")

var prepareTimes: [Double] = [], appendTimes: [Double] = [], verifyTimes: [Double] = []
var unvalidatedTimes: [Double] = [], projectedTimes: [Double] = [], rebuildTimes: [Double] = []
var ledgerPath = ""
for run in 0..<runs {
    ledgerPath = freshDirectory(directory, "ledger-\(run)")
    let ledger = try Ledger.open(ledgerPath, options: .init(create: true))
    var prepared: [PreparedEvent] = []
    let prepare = try measure { prepared = try input.withUnsafeBufferPointer { try EventBatch.prepare($0) } }
    let write = try measure { _ = try ledger.append(prepared: prepared) }
    prepareTimes.append(prepare)
    appendTimes.append(prepare + write)
    // Preparing with schema validation skipped, to show what validation costs. Only the
    // preparing differs (the write is the same code either way), and timing it alone keeps
    // the disk's noise out of the difference.
    unvalidatedTimes.append(try measure {
        _ = try input.withUnsafeBufferPointer { try EventBatch.prepare($0, validation: .skipped) }
    })
    // The same append with the projections maintained in its transaction, then a rebuild.
    let projected = try Ledger.open(freshDirectory(directory, "projected-\(run)"), options: .init(create: true, projectors: [ZoneProjector()]))
    projectedTimes.append(try measure {
        let events = try input.withUnsafeBufferPointer { try EventBatch.prepare($0) }
        _ = try projected.append(prepared: events)
    })
    rebuildTimes.append(try measure { _ = try ProjectionRebuilder(projected).rebuild(ProjectionName.allCases) })
    verifyTimes.append(try measure {
        let intact = try ledger.verify().isIntact
        precondition(intact)
    })
}

// The rows the ledger wrote, for the baselines.
let ledger = try Ledger.open(ledgerPath, options: .init(readOnly: true))
var rows: [StoredRow] = []
rows.reserveCapacity(events)
try ledger.forEachEvent { event in
    let value = withUnsafeBytes(of: event.hash.bytes) { Array($0) } + event.canonicalBytes
    rows.append(StoredRow(seq: event.seq, id: Array(event.id.utf8), stream: Array(event.stream.utf8), version: event.version, value: value))
}
var rawTimes: [Double] = [], rawIndexedTimes: [Double] = [], sqliteTimes: [Double] = [], hashTimes: [Double] = []
for run in 0..<runs {
    rawTimes.append(rawLMDBAppend(rows, directory: freshDirectory(directory, "raw-\(run)"), withIndexes: false))
    rawIndexedTimes.append(rawLMDBAppend(rows, directory: freshDirectory(directory, "raw-indexed-\(run)"), withIndexes: true))
    sqliteTimes.append(sqliteAppend(rows, directory: freshDirectory(directory, "sqlite-\(run)")))
    hashTimes.append(measure {
        var combined = ChainHash.genesis.bytes
        for row in rows { combined ^= row.value.withUnsafeBytes { ChainHash.of(UnsafeRawBufferPointer(rebasing: $0[32...])) }.bytes }
        precondition(combined != ChainHash.genesis.bytes)
    })
}

let append = median(appendTimes), raw = median(rawTimes), rawIndexed = median(rawIndexedTimes), sqlite = median(sqliteTimes)
print("\nbatch append (one transaction, committed)")
row("  ledger: parse+check+hash+write", append, "(of which parse+check \(format3(median(prepareTimes))) s)")
let withoutValidation = append - median(prepareTimes) + median(unvalidatedTimes)
row("  … the same without schema validation", withoutValidation, "(parse+check \(format3(median(unvalidatedTimes))) s)")
print("  schema validation adds \(Int(((append / withoutValidation - 1) * 100).rounded()))% to the append time")
row("  raw LMDB: the records only", raw)
row("  raw LMDB: records + the 3 indexes", rawIndexed)
row("  SQLite WAL: same rows, 2 indexes", sqlite)
print("  ledger / SQLite: \(format3(sqlite / append))×   ledger / raw LMDB records: \(Int((raw / append * 100).rounded()))%   ledger / raw LMDB with indexes: \(Int((rawIndexed / append * 100).rounded()))%")
let verify = median(verifyTimes), hash = median(hashTimes)
print("\nprojections (state and timeline)")
row("  append with projections maintained", median(projectedTimes))
print("  appends keep \(Int((append / median(projectedTimes) * 100).rounded()))% of their throughput without projections")
row("  rebuild of both from the log", median(rebuildTimes))
print("\nverify (chain + indexes)")
row("  ledger verify", verify)
row("  plain SHA-256 of the same bytes", hash)
print("  verify / SHA-256: \(Int((hash / verify * 100).rounded()))%")

if let cli {
    // One event per process, start to exit, as a clerk's script would run it.
    let path = freshDirectory(directory, "single")
    _ = system("'\(cli)' init --ledger '\(path)' >/dev/null")
    var times: [Double] = []
    var failures = 0
    for i in 0..<51 {
        times.append(measure {
            if system("'\(cli)' append --ledger '\(path)' --type road.delivered --stream road/r\(i % 5) --data '{\"name\":{\"zh\":\"徐家观路\"},\"lengthM\":\(i + 1)}' >/dev/null") != 0 {
                failures += 1
            }
        })
    }
    print("\nsingle append, process start to exit (51 runs)")
    print("  median \(format3(median(times) * 1000)) ms   max \(format3(times.max()! * 1000)) ms\(failures > 0 ? "   (\(failures) FAILED)" : "")")
}
try runAuditCurve()
_ = system("rm -rf '\(directory)'")
