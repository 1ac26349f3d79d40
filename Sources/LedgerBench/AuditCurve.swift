@_spi(Benchmark) import LedgerCore
import LedgerAudit
import LedgerProjections
import LedgerValues

/// Audit time against ledger size: for each (events, project streams), a ledger of generated
/// events, its audit snapshot, then audits as of dates across the two years the events span
/// (known now), the median printed; and one audit known at the middle of the log, which folds
/// from the log every entity the second half touches.
func auditCurve(_ ledgers: [(events: Int, streams: Int)], directory: String) throws {
    print("\naudit of any date (audit snapshot, then as-of audits at 12 dates; medians)")
    print("  events     entities  snapshot      as-of audit   known-at-halfway audit   full replay")
    let dates = (0..<12).map { month in EffectiveTime("202\(1 + month / 6)-\(month % 6 * 2 + 1 < 10 ? "0" : "")\(month % 6 * 2 + 1)-15")!.instant }
    for (size, streams) in ledgers {
        var generator = EventGenerator(seed: 7)
        let input = generator.ndjson(count: size, streams: streams)
        let ledger = try Ledger.open(freshDirectory(directory, "audit-\(size)-\(streams)"), options: .init(create: true))
        _ = try ledger.append(prepared: try input.withUnsafeBufferPointer { try EventBatch.prepare($0) })
        var report: AuditSnapshot.Report?
        let snapshot = try measure { report = try AuditSnapshot(ledger).take() }
        let auditor = Auditor(ledger)
        var times: [Double] = []
        for date in dates {
            times.append(try measure {
                let result = try auditor.audit(.init(asOf: date, knownAtSeq: .max))
                precondition(result.method == .snapshot && !result.states.isEmpty)
            })
        }
        let halfway = try measure { _ = try auditor.audit(.init(asOf: dates[6], knownAtSeq: UInt64(size / 2))) }
        // The full replay only where it takes seconds, not minutes.
        let replay = size <= 100_000 ? try measure { _ = try auditor.audit(.init(asOf: dates[6], knownAtSeq: .max), useSnapshot: false) } : nil
        func cell(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        print("  " + cell(String(size), 11) + cell(String(report!.entities), 10) + cell(format3(snapshot) + " s", 14)
              + cell(format3(median(times) * 1000) + " ms", 14) + cell(format3(halfway * 1000) + " ms", 25)
              + (replay.map { format3($0 * 1000) + " ms" } ?? "(not run)"))
    }
}
