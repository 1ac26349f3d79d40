@_spi(Benchmark) import LedgerCore
import LedgerProjections
#if canImport(Glibc)
import Glibc
#endif
import LedgerValues

// The benchmark behind `tools/bench`: the ledger against raw LMDB and SQLite on the same
// generated events, each run several times, medians reported.
//   LedgerBench [--events N] [--runs R] [--dir DIR] [--cli PATH] [--audit-only | --ledger-only]
// (`--job NAME --target DIR --rows DIR` runs one timed job: the bench launches itself so.)

var events = 1_000_000, runs = 3, directory = "/tmp/civic-ledger-bench", cli: String?, auditOnly = false, ledgerOnly = false
var childJob: Job?, childTarget = "", childRows = ""
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--events": events = Int(arguments.popFirst() ?? "") ?? events
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--dir": directory = arguments.popFirst() ?? directory
    case "--cli": cli = arguments.popFirst()
    case "--audit-only": auditOnly = true
    case "--ledger-only": ledgerOnly = true
    case "--job": childJob = Job(rawValue: arguments.popFirst() ?? "")
    case "--target": childTarget = arguments.popFirst() ?? ""
    case "--rows": childRows = arguments.popFirst() ?? ""
    default: print("usage: LedgerBench [--events N] [--runs R] [--dir DIR] [--cli PATH] [--audit-only | --ledger-only]"); exit(64)
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

/// One timed job, run in a process of its own (see `runChild`), so that every measurement
/// starts from a fresh heap, as the CLI does: a second million-event batch in one process
/// pays for the first one's freed memory. Each job prints its figures as `name=seconds`.
enum Job: String {
    /// Parse, check and append to a fresh ledger (kept for the jobs after it).
    case plain
    /// Parse and check alone, and the same with schema validation skipped, to show what
    /// validation costs. Only the preparing differs (the write is the same code either way),
    /// and timing it alone keeps the disk's noise out of the difference.
    case prepare, unvalidated
    /// Verify the plain job's ledger.
    case verify
    /// The same append with both projections maintained (the ledger kept for `rebuild`).
    case projected
    /// Rebuild both projections of the projected job's ledger.
    case rebuild
    /// The baselines, on the rows the plain job's ledger holds.
    case raw, rawIndexed = "raw-indexed", sqlite, hash
}

if let job = childJob {
    try runChild(job)
    exit(0)
}

print("civic-ledger bench: \(events) events, \(runs) runs, each timed job in a fresh process, medians")
var figures: [String: [Double]] = [:]
var ledgerPath = ""
for run in 0..<runs {
    ledgerPath = freshDirectory(directory, "ledger-\(run)")
    let projectedPath = freshDirectory(directory, "projected-\(run)")
    let baselines: [Job] = ledgerOnly ? [] : [.raw, .rawIndexed, .sqlite, .hash]
    for job in [.plain, .prepare, .unvalidated, .verify, .projected, .rebuild] + baselines {
        let target: String
        switch job {
        case .plain, .prepare, .unvalidated, .verify: target = ledgerPath
        case .projected, .rebuild: target = projectedPath
        default: target = freshDirectory(directory, "\(job.rawValue)-\(run)")
        }
        // A pause first: on this VM a job started right after another big one ran slower, with
        // no dirty pages left to write (a plain append took 3.5-4.4 s first and 4.0-5.1 s
        // right after a projected one; a projected one 6.5-7.3 s first and 7.6-8.5 s right
        // after a plain one). What pays for the previous job (the host taking its freed
        // memory back?) is not pinned down; the pause lets every job start on a settled machine.
        sleep(5)
        for (name, seconds) in try launch(job, target: target, rows: ledgerPath) { figures[name, default: []].append(seconds) }
    }
    // This run's files go before the next run starts: left behind (gigabytes of them), they
    // slowed the next run's first job, the batch append, by up to a third. Which part of the
    // system pays for them (page cache, the file system) is not pinned down.
    _ = system("rm -rf '\(directory)'/*-\(run)")
}
@MainActor func figure(_ name: String) -> Double { median(figures[name] ?? []) }
let prepareTime = figure("prepare"), appendTime = figure("append")
let projectedTime = figure("projected"), rebuildTime = figure("rebuild"), verifyTime = figure("verify")

if ledgerOnly {
    // The ledger's own rows, without baselines: for quick comparisons while working on it.
    row("batch append", appendTime, "(parse+check alone \(format3(prepareTime)) s)")
    row("append with projections", projectedTime, "(\(Int((appendTime / projectedTime * 100).rounded()))% of the throughput without)")
    row("rebuild of both projections", rebuildTime)
    row("verify", verifyTime)
    _ = system("rm -rf '\(directory)'")
    exit(0)
}

let append = appendTime, raw = figure("raw"), rawIndexed = figure("raw-indexed"), sqlite = figure("sqlite")
print("\nbatch append (one transaction, committed)")
row("  ledger: parse+check+hash+write", append, "(parse+check alone \(format3(prepareTime)) s, overlapped with the write)")
// Per run: that run's append less what validating added to preparing (preparing runs on all
// cores, as it does within the append).
let withoutValidation = median(zip(zip(figures["append"] ?? [], figures["prepare"] ?? []), figures["unvalidated"] ?? []).map { $0.0 - $0.1 + $1 })
row("  … the same without schema validation", withoutValidation, "(parse+check \(format3(figure("unvalidated"))) s)")
print("  schema validation adds \(Int(((append / withoutValidation - 1) * 100).rounded()))% to the append time")
row("  raw LMDB: the records only", raw)
row("  raw LMDB: records + the 3 indexes", rawIndexed)
row("  SQLite WAL: same rows, 2 indexes", sqlite)
print("  ledger / SQLite: \(format3(sqlite / append))×   ledger / raw LMDB records: \(Int((raw / append * 100).rounded()))%   ledger / raw LMDB with indexes: \(Int((rawIndexed / append * 100).rounded()))%")
let verify = verifyTime, hash = figure("hash")
print("\nprojections (state and timeline)")
row("  append with projections maintained", projectedTime)
print("  appends keep \(Int((append / projectedTime * 100).rounded()))% of their throughput without projections")
row("  rebuild of both from the log", rebuildTime)
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
