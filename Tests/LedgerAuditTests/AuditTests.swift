import LedgerCore
import LedgerProjections
import LedgerValues
import Testing
@testable import LedgerAudit
import TestSupport

/// Metamorphic checks: an audit as of D equals a fresh ledger holding only what was effective
/// by D (with the fixes of those events); an audit known at R equals a fresh ledger holding
/// only what was recorded by R.
@Suite struct AuditTests {
    let dir = TemporaryDirectory()

    private func ledger(_ name: String) throws -> Ledger {
        try Ledger.open(dir.path + "/" + name, options: .init(create: true, projectors: [ZoneProjector()]))
    }

    private static func object(_ text: String) -> JSONObject { try! JSONParser.parse(text).objectValue! }

    /// Batches of random originals, then fixes naming earlier originals of the same stream.
    static func batches(seed: UInt64) -> [[EventDraft]] {
        var random = SeededGenerator(state: seed)
        var originals: [EventDraft] = []
        var batches: [[EventDraft]] = []
        for batch in 0..<6 {
            var drafts: [EventDraft] = []
            for n in 0..<Int.random(in: 2...6, using: &random) {
                let id = "b\(batch)-\(n)", entity = Int.random(in: 0..<3, using: &random)
                let effective = EffectiveTime(CalendarDate(daysSinceEpoch: 18_628 + Int.random(in: 0..<600, using: &random)).description)
                let draft: EventDraft
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    draft = EventDraft(id: id, type: "project.signed", stream: "project/p\(entity)", effective: effective,
                                       data: object(#"{"investor":{"zh":"甲\#(entity)"},"sector":"other","totalInvestmentCny":\#(Int.random(in: 1...20, using: &random) * 100_000_000)}"#))
                case 1:
                    draft = EventDraft(id: id, type: "road.delivered", stream: "road/r\(entity)", effective: effective,
                                       data: object(#"{"name":{"zh":"路"},"lengthM":\#(Int.random(in: 1...900, using: &random))}"#))
                default:
                    draft = EventDraft(id: id, type: "housing.batch_handed_over", stream: "housing/h\(entity)", effective: effective,
                                       data: object(#"{"estate":{"zh":"安置房"},"units":\#(Int.random(in: 1...99, using: &random))}"#))
                }
                drafts.append(draft)
            }
            if batch >= 2, let target = originals.randomElement(using: &random) {
                let fixData: String
                if Bool.random(using: &random) {
                    fixData = #"{"target":{"id":"\#(target.id!)"},"reason":"retracted in test"}"#
                    drafts.append(EventDraft(id: "fix-\(batch)", type: "event.retracted", stream: target.stream,
                                             effective: EffectiveTime("2023-01-01"), data: object(fixData)))
                } else {
                    var replacement = target.data
                    for key in ["lengthM", "units", "totalInvestmentCny"] where replacement[key] != nil {
                        replacement[key] = .number((replacement[key]?.numberValue ?? 1) + 100_000_000)
                    }
                    fixData = #"{"target":{"id":"\#(target.id!)"},"data":\#(String(decoding: JSONValue.object(replacement).canonicalBytes, as: UTF8.self)),"reason":"corrected in test"}"#
                    drafts.append(EventDraft(id: "fix-\(batch)", type: "event.corrected", stream: target.stream,
                                             effective: EffectiveTime("2023-01-01"), data: object(fixData)))
                }
            }
            originals += drafts.filter { !$0.type.hasPrefix("event.") }
            batches.append(drafts)
        }
        return batches
    }

    /// The projections' states of a ledger: what a fresh ledger says.
    private func states(_ ledger: Ledger) throws -> [String: JSONObject] {
        var all: [String: JSONObject] = [:]
        guard try ledger.statistics().events > 0 else { return all }  // nothing appended: nothing built
        for kind in ["project", "road", "housing"] {
            for (stream, state) in try ProjectionReader(ledger).states(kind: kind) where state.count > 0 { all[stream] = state }
        }
        return all
    }

    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func anAuditAsOfADateEqualsALedgerOfWhatWasEffectiveByThen(seed: UInt64) throws {
        let full = try ledger("full")
        let batches = Self.batches(seed: seed)
        for batch in batches { _ = try full.append(batch) }
        let all = batches.flatMap { $0 }
        for cut in ["2021-03-31", "2021-09-30", "2022-01-14", "2022-08-31"] {
            let instant = EffectiveTime(cut)!.instant + 86_400_000_000 - 1
            let audit = try Auditor(full).audit(.init(asOf: instant, knownAtSeq: .max), hindsight: false)
            // A fresh ledger with the originals effective by then, and the fixes of those.
            let kept = Set(all.filter { !$0.type.hasPrefix("event.") && $0.effective!.instant <= instant }.compactMap(\.id))
            let fresh = try ledger("asof-\(cut)")
            let subset = all.filter { draft in
                if draft.type.hasPrefix("event.") { return kept.contains(draft.data["target"]?["id"]?.stringValue ?? "") }
                return kept.contains(draft.id!)
            }
            if !subset.isEmpty { _ = try fresh.append(subset) }
            #expect(audit.states == (try states(fresh)), "seed \(seed), as of \(cut)")
        }
    }

    @Test(arguments: [6, 7, 8, 9, 10] as [UInt64])
    func anAuditKnownAtATimeEqualsALedgerOfWhatWasRecordedByThen(seed: UInt64) throws {
        let full = try ledger("full")
        let batches = Self.batches(seed: seed)
        var boundaries: [UInt64] = []
        for batch in batches { boundaries.append(try full.append(batch).map(\.seq).max()!) }
        let auditor = Auditor(full)
        for (index, boundary) in boundaries.enumerated() {
            // The recorded time of a batch's last event finds that batch's last seq.
            let last = try #require(try full.event(seq: boundary))
            let recorded = try #require(RecordedTime(last.recorded))
            #expect(try auditor.seq(knownAt: recorded) == boundary)
            let audit = try auditor.audit(.init(asOf: .max, knownAtSeq: boundary))
            let fresh = try ledger("known-\(index)")
            for batch in batches.prefix(index + 1) { _ = try fresh.append(batch) }
            #expect(audit.states == (try states(fresh)), "seed \(seed), known at batch \(index)")
            // Hindsight lists exactly the streams whose present differs from that past.
            let now = try states(full)
            let changed = Set(now.keys).union(audit.states.keys).filter { now[$0] != audit.states[$0] }
            #expect(Set(audit.hindsight.map(\.stream)) == changed)
        }
    }

    @Test func theYearFiguresFollowTheAuditPoint() throws {
        let ledger = try ledger("years")
        _ = try ledger.append([EventDraft(id: "s", type: "project.signed", stream: "project/a", effective: EffectiveTime("2021-06-01"),
                                          data: Self.object(#"{"investor":{"zh":"甲"},"sector":"other","totalInvestmentCny":300000000}"#))])
        let before = try #require(try ledger.event(seq: 1))
        _ = try ledger.append([EventDraft(type: "event.corrected", stream: "project/a",
                                          data: Self.object(#"{"target":{"id":"s"},"data":{"investor":{"zh":"甲"},"sector":"other","totalInvestmentCny":3000000000},"reason":"a zero was missing"}"#))])
        let auditor = Auditor(ledger)
        let endOf2021 = EffectiveTime("2021-12-31")!.instant + 86_400_000_000 - 1
        let then = try auditor.audit(.init(asOf: endOf2021, knownAtSeq: try auditor.seq(knownAt: RecordedTime(before.recorded)!)))
        #expect(then.years.counters["2021"]?["investmentCny"] == 300_000_000)
        #expect(then.hindsight.map(\.stream) == ["project/a"])
        let now = try auditor.audit(.init(asOf: endOf2021, knownAtSeq: .max))
        #expect(now.years.counters["2021"]?["investmentCny"] == 3_000_000_000)
        #expect(now.years.counters["2021"]?["projectsAtLeast1bnCny"] == 1)
        let beforeSigning = try auditor.audit(.init(asOf: EffectiveTime("2021-05-31")!.instant, knownAtSeq: .max))
        #expect(beforeSigning.states.isEmpty)
    }

    /// Snapshot answers equal full replays, whether the snapshot is ahead of the known-at
    /// point or behind the log.
    @Test(arguments: [11, 12, 13, 14, 15] as [UInt64])
    func anAuditFromTheSnapshotEqualsAFullReplay(seed: UInt64) throws {
        let full = try ledger("full")
        let batches = Self.batches(seed: seed)
        var random = SeededGenerator(state: seed)
        let snapshotAfter = Int.random(in: 0..<batches.count - 1, using: &random)
        var boundaries: [UInt64] = [0]
        for (index, batch) in batches.enumerated() {
            boundaries.append(try full.append(batch).map(\.seq).max()!)
            if index == snapshotAfter { #expect(try AuditSnapshot(full).take().seq == boundaries.last!) }
        }
        let auditor = Auditor(full)
        let cuts = ["2020-12-31", "2021-03-31", "2021-09-30", "2022-01-14", "2022-08-31"].map { EffectiveTime($0)!.instant } + [.max]
        for round in 0..<2 {
            for asOf in cuts {
                for knownAt in boundaries + [.max] {
                    let point = Auditor.Point(asOf: asOf, knownAtSeq: knownAt)
                    let fast = try auditor.audit(point), replayed = try auditor.audit(point, useSnapshot: false)
                    #expect(fast.method == .snapshot && replayed.method == .replay)
                    #expect(fast.states == replayed.states, "seed \(seed), round \(round), as of \(asOf), known at \(knownAt)")
                    #expect(fast.years == replayed.years)
                    func summary(_ result: Auditor.Result) -> [String] {
                        result.hindsight.map { "\($0.stream) \($0.then.map { JSONValue.object($0) } ?? .null) \($0.now.map { JSONValue.object($0) } ?? .null) \($0.events.map(\.seq))" }
                    }
                    #expect(summary(fast) == summary(replayed))
                }
            }
            // Then with a snapshot of the head.
            _ = try AuditSnapshot(full).take()
        }
    }

    @Test func withoutASnapshotAnAuditReplaysTheLog() throws {
        let ledger = try ledger("plain")
        _ = try ledger.append(Self.batches(seed: 3)[0])
        #expect(try Auditor(ledger).audit(.init(asOf: .max, knownAtSeq: .max)).method == .replay)
        #expect(try AuditSnapshot(ledger).entry() == nil)
        let report = try AuditSnapshot(ledger).take()
        #expect(try AuditSnapshot(ledger).entry()?.seq == report.seq)
        #expect(try Auditor(ledger).audit(.init(asOf: .max, knownAtSeq: .max)).snapshotSeq == report.seq)
    }
}
