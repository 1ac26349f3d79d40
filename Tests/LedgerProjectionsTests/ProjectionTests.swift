import LMDB
import LedgerCore
import LedgerValues
import Testing
@testable import LedgerProjections
import TestSupport

/// Everything the projections answer, to compare two ledgers.
struct Snapshot: Equatable {
    var entities: [String: JSONObject] = [:]
    var years: [String: [String: Double]] = [:]
    var timeline: [String] = []

    init(_ ledger: Ledger) throws {
        let reader = ProjectionReader(ledger)
        for kind in ["project", "road", "housing", "facility", "indicator", "target"] {
            for (stream, state) in try reader.states(kind: kind) { entities[stream] = state }
        }
        years = try reader.years()
        // By (instant, stream): seqs differ between ledgers recorded in other orders.
        timeline = try reader.timeline(from: .min, to: .max).map { "\($0.instant) \($0.stream)" }.sorted()
    }
}

@Suite struct ProjectionTests {
    let dir = TemporaryDirectory()

    private func ledger(_ name: String) throws -> Ledger {
        try Ledger.open(dir.path + "/" + name, options: .init(create: true, projectors: [ZoneProjector()]))
    }

    private static func data(_ text: String) -> JSONObject { try! JSONParser.parse(text).objectValue! }

    /// Random events of the zone's kinds over a few entities, with effective dates in any
    /// order; `distinctDates` gives every event its own day.
    static func randomEvents(count: Int, seed: UInt64, distinctDates: Bool = false, entities: Int = 4) -> [EventDraft] {
        var random = SeededGenerator(state: seed)
        var days = Array(0..<(count * 3)).shuffled(using: &random)
        var drafts: [EventDraft] = []
        for n in 0..<count {
            let day = distinctDates ? days.removeLast() : Int.random(in: 0..<700, using: &random)
            let effective = EffectiveTime(CalendarDate(daysSinceEpoch: 18_628 + day).description)  // from 2021-01-01
            let entity = Int.random(in: 0..<entities, using: &random)
            let draft: EventDraft
            switch Int.random(in: 0..<7, using: &random) {
            case 0, 1:
                let amount = Int.random(in: 1...30, using: &random) * 100_000_000
                draft = EventDraft(id: "e\(n)", type: "project.signed", stream: "project/p\(entity)", effective: effective,
                                   data: data(#"{"investor":{"zh":"投资\#(entity)"},"sector":"semiconductor","totalInvestmentCny":\#(amount),"origin":"JP"}"#))
            case 2:
                draft = EventDraft(id: "e\(n)", type: ["project.construction_started", "project.completed"][n % 2], stream: "project/p\(entity)",
                                   effective: effective, data: JSONObject())
            case 3:
                draft = EventDraft(id: "e\(n)", type: "road.delivered", stream: "road/r\(entity)", effective: effective,
                                   data: data(#"{"name":{"zh":"路\#(entity)"},"lengthM":\#(Int.random(in: 100...900, using: &random))}"#))
            case 4:
                draft = EventDraft(id: "e\(n)", type: "housing.batch_handed_over", stream: "housing/h\(entity)", effective: effective,
                                   data: data(#"{"estate":{"zh":"安置房"},"units":\#(Int.random(in: 1...300, using: &random))}"#))
            case 5:
                draft = EventDraft(id: "e\(n)", type: "facility.opened", stream: "facility/f\(entity)", effective: effective,
                                   data: data(#"{"name":{"zh":"学校"},"kind":"school","level":"middle"}"#))
            default:
                draft = EventDraft(id: "e\(n)", type: "indicator.reported", stream: "indicator/gdp", effective: effective,
                                   data: data(#"{"metric":"gdp","period":"202\#(entity % 10)","value":\#(Int.random(in: 1...20, using: &random)),"unit":"percent","basis":"yoy"}"#))
            }
            drafts.append(draft)
        }
        return drafts
    }

    /// Appends in random batch sizes.
    private func appendInBatches(_ drafts: [EventDraft], to ledger: Ledger, seed: UInt64) throws {
        var random = SeededGenerator(state: seed)
        var rest = drafts[...]
        while !rest.isEmpty {
            let size = Int.random(in: 1...8, using: &random)
            _ = try ledger.append(Array(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func incrementalStateEqualsARebuild(seed: UInt64) throws {
        let ledger = try ledger("l\(seed)")
        try appendInBatches(Self.randomEvents(count: 60, seed: seed), to: ledger, seed: seed)
        let incremental = try Snapshot(ledger)
        #expect(!incremental.entities.isEmpty)
        let timeline = try ProjectionReader(ledger).timeline(from: .min, to: .max).map { "\($0.instant) \($0.seq) \($0.stream)" }
        // Both together (one pass over the log), then each alone (its own pass).
        _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases)
        #expect(try Snapshot(ledger) == incremental)
        // In chunks of a few streams or events: the same.
        var chunked = ProjectionRebuilder(ledger)
        chunked.chunkLimits = .init(streams: 3, events: 10)
        _ = try chunked.rebuild(ProjectionName.allCases)
        #expect(try Snapshot(ledger) == incremental)
        for name in ProjectionName.allCases {
            _ = try ProjectionRebuilder(ledger).rebuild([name])
            #expect(try Snapshot(ledger) == incremental, "\(name)")
            #expect(try ProjectionReader(ledger).timeline(from: .min, to: .max).map { "\($0.instant) \($0.seq) \($0.stream)" } == timeline)
        }
        #expect(try ProjectionReader(ledger).statuses().allSatisfy { !$0.isStale })
    }

    /// A big batch is folded on all cores, entity by entity, its effective times parsed on all
    /// cores too: the same as a rebuild. The second batch lands on entities that exist, some
    /// on top of their state and some (dates before their last) folded again from the log.
    @Test func bigBatchesFoldAsARebuildDoes() throws {
        let ledger = try ledger("big")
        let drafts = Self.randomEvents(count: 10_000, seed: 99, entities: 60)
        for batch in [drafts[..<5_000], drafts[5_000...]] { _ = try ledger.append(Array(batch)) }
        let incremental = try Snapshot(ledger)
        #expect(incremental.entities.count > 64 && incremental.timeline.count == 10_000)
        _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases)
        #expect(try Snapshot(ledger) == incremental)
    }

    /// A rebuild folds each stream straight from its records (`FoldedStream`); streams with
    /// fixes, and records not laid out canonically, go through `Entity`. Either way the result
    /// is what `Entity` folds from the decoded events.
    @Test(arguments: [21, 22, 23] as [UInt64])
    func aRebuildsFoldFromRecordsEqualsTheEntityFold(seed: UInt64) throws {
        let ledger = try ledger("fold\(seed)")
        let drafts = Self.randomEvents(count: 80, seed: seed)
        try appendInBatches(drafts, to: ledger, seed: seed)
        let fixed = try #require(drafts.first { $0.type == "road.delivered" })
        _ = try ledger.append([
            EventDraft(type: "event.corrected", stream: fixed.stream, effective: EffectiveTime("2020-01-01"),
                       data: Self.data(#"{"target":{"id":"\#(fixed.id!)"},"data":{"name":{"zh":"新路"},"lengthM":5},"reason":"re-measured"}"#)),
        ])
        // One stored record rewritten as valid JSON that is not canonical (spaces after colons).
        let rewritten = try #require(drafts.firstIndex { $0.type == "facility.opened" }.map { UInt64($0 + 1) })
        try ledger.environment.write { txn in
            let raw = try #require(try txn.get(ledger.databases.events, key: rewritten).map(Array.init))
            let body = String(decoding: raw[32...], as: UTF8.self).replacingOccurrences(of: "\":", with: "\": ")
            let record = Array(raw[..<32]) + Array(body.utf8)
            try rewritten.withBigEndianBytes { key in try record.withUnsafeBytes { try txn.put(ledger.databases.events, key: key, value: $0) } }
        }
        // And one stored under another seq than its own: seq 2's record also under the last original's.
        let moved = UInt64(drafts.count)
        try ledger.environment.write { txn in
            let raw = try #require(try txn.get(ledger.databases.events, key: 2).map(Array.init))
            try moved.withBigEndianBytes { key in try raw.withUnsafeBytes { try txn.put(ledger.databases.events, key: key, value: $0) } }
        }
        let streams = Set(drafts.map(\.stream)).sorted()
        let throughEntity = [fixed.stream, drafts[Int(rewritten) - 1].stream, drafts[Int(moved) - 1].stream]
        try ledger.environment.read { txn in
            // Both other paths are taken.
            #expect(EventRecord.scanCanonical(try #require(try txn.get(ledger.databases.events, key: rewritten))) == nil)
            // All, and (below a seq) only the events recorded before it.
            for limit in [UInt64.max, UInt64(drafts.count / 2)] {
                let direct = try FoldedStream.read(ledger, txn, streams: streams[...], below: limit)
                #expect(direct.count == streams.count)
                for (stream, folded) in zip(streams, direct) {
                    let reference = FoldedStream(Entity(stream: stream, events: try ledger.streamEvents(txn, stream, below: limit)))
                    #expect(folded.stored == reference.stored, "\(stream) below \(limit)")
                    #expect(folded.positions.map { "\($0.instant) \($0.seq)" } == reference.positions.map { "\($0.instant) \($0.seq)" })
                    if stream == fixed.stream, limit == .max { #expect(folded.stored.hasFixes) }
                    // Every other stream is folded from its records directly.
                    if limit == .max { #expect(folded.direct == !throughEntity.contains(stream), "\(stream)") }
                }
            }
        }
    }

    /// The projector reads the events an append wrote back from its transaction: new
    /// entities and events on top fold from the records, late events and fixes fold again
    /// through `Entity`, and a record not laid out canonically is decoded. Whichever path,
    /// each entity is what `Entity` folds from its decoded events, and the timeline lists
    /// every event once.
    @Test(arguments: [31, 32] as [UInt64])
    func theProjectorFoldsTheWrittenRecordsAsEntityDoes(seed: UInt64) throws {
        // Without projectors: the test applies them, over two ranges of seqs.
        let ledger = try Ledger.open(dir.path + "/written\(seed)", options: .init(create: true))
        var drafts = Self.randomEvents(count: 300, seed: seed, entities: 12)
        let fixed = try #require(drafts.first { $0.type == "road.delivered" })
        drafts.append(EventDraft(type: "event.corrected", stream: fixed.stream, effective: EffectiveTime("2020-01-01"),
                                 data: Self.data(#"{"target":{"id":"\#(fixed.id!)"},"data":{"name":{"zh":"新路"},"lengthM":5},"reason":"re-measured"}"#)))
        _ = try ledger.append(drafts)
        // One record of the second range rewritten as valid JSON that is not canonical.
        let rewritten = UInt64(try #require(drafts[200...].firstIndex { $0.type == "facility.opened" }) + 1)
        try ledger.environment.write { txn in
            let raw = try #require(try txn.get(ledger.databases.events, key: rewritten).map(Array.init))
            let body = String(decoding: raw[32...], as: UTF8.self).replacingOccurrences(of: "\":", with: "\": ")
            try rewritten.withBigEndianBytes { key in
                try (Array(raw[..<32]) + Array(body.utf8)).withUnsafeBytes { try txn.put(ledger.databases.events, key: key, value: $0) }
            }
        }
        let last = UInt64(drafts.count)
        for seqs in [1...200, 201...last] as [ClosedRange<UInt64>] {
            try ledger.environment.write { txn in try ZoneProjector.apply(seqs, state: 1, timeline: 1, txn, ledger: ledger) }
        }
        try ledger.environment.read { txn in
            #expect(EventRecord.scanCanonical(try #require(try txn.get(ledger.databases.events, key: rewritten))) == nil)
            let entities = try #require(try txn.openDatabase(named: ProjectionTables.entities(1), create: false))
            for stream in Set(drafts.map(\.stream)) {
                let reference = StoredEntity(Entity(stream: stream, events: try ledger.streamEvents(txn, stream)))
                #expect(try ProjectionTables.getJSON(txn, entities, key: stream).flatMap(StoredEntity.init(json:)) == reference, "\(stream)")
            }
            let timeline = try #require(try txn.openDatabase(named: ProjectionTables.timeline(1), create: false))
            var seqs: [UInt64] = []
            try txn.withCursor(timeline) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    seqs.append(ProjectionTables.timelineKeyParts(current.key)?.seq ?? 0)
                    entry = try cursor.next()
                }
            }
            #expect(seqs.sorted() == Array(1...last))
        }
    }

    @Test func aSeqListedUnderTwoStreamsStopsTheOnePassRebuildAsDamage() throws {
        let ledger = try ledger("twice")
        _ = try ledger.append([
            EventDraft(id: "a", type: "road.delivered", stream: "road/a", effective: EffectiveTime("2021-05-01"), data: Self.data(#"{"name":{"zh":"路"}}"#)),
            EventDraft(id: "b", type: "road.delivered", stream: "road/b", effective: EffectiveTime("2021-06-01"), data: Self.data(#"{"name":{"zh":"路"}}"#)),
        ])
        // The stream index also lists seq 2 (road/b's event) as road/a's version 2.
        try ledger.environment.write { txn in
            var key: [UInt8] = []
            Ledger.streamEventKey("road/a", 2, into: &key)
            try key.withUnsafeBytes { k in try UInt64(2).withBigEndianBytes { try txn.put(ledger.databases.streamEvents, key: k, value: $0) } }
        }
        #expect { try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases) } throws: {
            ($0 as? LedgerError)?.kind == .storage && ($0 as? LedgerError)?.message.contains("seq 2 is listed under two streams") == true
        }
        // The projections in use are untouched, and verify names the damage.
        #expect(try ProjectionReader(ledger).statuses().allSatisfy { !$0.isStale })
        #expect(try ledger.verify().isIntact == false)
    }

    @Test(arguments: [11, 12, 13, 14] as [UInt64])
    func recordingOrderDoesNotChangeTheState(seed: UInt64) throws {
        let drafts = Self.randomEvents(count: 50, seed: seed, distinctDates: true)
        var random = SeededGenerator(state: seed)
        let inOrder = try ledger("ordered"), shuffled = try ledger("shuffled")
        try appendInBatches(drafts.sorted { $0.effective!.instant < $1.effective!.instant }, to: inOrder, seed: seed)
        try appendInBatches(drafts.shuffled(using: &random), to: shuffled, seed: seed + 1)
        #expect(try Snapshot(inOrder) == Snapshot(shuffled))
    }

    @Test func yearFiguresCountProjectsByAmountSectorAndOrigin() throws {
        let ledger = try ledger("years")
        _ = try ledger.append([
            EventDraft(id: "a", type: "project.signed", stream: "project/a", effective: EffectiveTime("2021-03-01"),
                       data: Self.data(#"{"investor":{"zh":"甲"},"sector":"semiconductor","totalInvestmentCny":1200000000,"origin":"JP"}"#)),
            EventDraft(id: "b", type: "project.signed", stream: "project/b", effective: EffectiveTime("2021-04-01"),
                       data: Self.data(#"{"investor":{"zh":"乙"},"sector":"aerospace","totalInvestmentCny":150000000,"origin":"CN"}"#)),
            EventDraft(id: "c", type: "project.signed", stream: "project/c", effective: EffectiveTime("2022-01-14"),
                       data: Self.data(#"{"investor":{"zh":"丙"},"sector":"smart_mobility","headquarters":true}"#)),
        ])
        let years = try ProjectionReader(ledger).years()
        #expect(years["2021"]?["projectsSigned"] == 2)
        #expect(years["2021"]?["investmentCny"] == 1_350_000_000)
        #expect(years["2021"]?["projectsAtLeast100mCny"] == 2)
        #expect(years["2021"]?["projectsAtLeast1bnCny"] == 1)
        #expect(years["2021"]?["bySector.semiconductor"] == 1 && years["2021"]?["byOrigin.CN"] == 1)
        #expect(years["2022"]?["projectsSigned"] == 1 && years["2022"]?["headquartersProjects"] == 1)
    }

    @Test func correctionsAndRetractionsApplyWhereTheirTargetSits() throws {
        let ledger = try ledger("fixes")
        _ = try ledger.append([
            EventDraft(id: "road", type: "road.delivered", stream: "road/x", effective: EffectiveTime("2021-10-15"),
                       data: Self.data(#"{"name":{"zh":"徐家观路"},"lengthM":100}"#)),
            EventDraft(id: "sign", type: "project.signed", stream: "project/m", effective: EffectiveTime("2021-06-01"),
                       data: Self.data(#"{"investor":{"zh":"美德乐"},"sector":"medical_devices","totalInvestmentCny":500000000}"#)),
        ])
        let reader = ProjectionReader(ledger)
        // A correction recorded now, effective whenever: it changes the 2021 delivery.
        _ = try ledger.append([EventDraft(type: "event.corrected", stream: "road/x", effective: EffectiveTime("2022-03-01"),
                                          data: Self.data(#"{"target":{"id":"road"},"data":{"name":{"zh":"徐家观路"},"lengthM":250},"reason":"re-measured"}"#))])
        #expect(try reader.state(of: "road/x")?["lengthM"] == .number(250))
        #expect(try reader.years()["2021"]?["roadLengthDeliveredM"] == 250)
        // A correction that moves the signing's amount, then a retraction that removes it.
        _ = try ledger.append([EventDraft(type: "event.corrected", stream: "project/m",
                                          data: Self.data(#"{"target":{"seq":2},"data":{"investor":{"zh":"美德乐"},"sector":"medical_devices","totalInvestmentCny":50000000},"reason":"typo"}"#))])
        #expect(try reader.years()["2021"]?["investmentCny"] == 50_000_000)
        _ = try ledger.append([EventDraft(type: "event.retracted", stream: "project/m", data: Self.data(#"{"target":{"id":"sign"},"reason":"never signed"}"#))])
        #expect(try reader.years()["2021"]?["projectsSigned"] == nil)
        #expect(try reader.state(of: "project/m")?["status"] == nil)
        // The history shows the original event with its corrected data, and the retraction
        // leaves the project without counting events.
        #expect(try reader.entity("road/x")?.history().map { $0.event.data["lengthM"] } == [.number(250)])
        #expect(try reader.entity("project/m")?.history().isEmpty == true)
        // Known before the fixes, the same entities looked as first recorded.
        let road = try #require(try reader.entity("road/x"))
        #expect(road.state(knownAt: 2)["lengthM"] == .number(100))
        // And a rebuild agrees with what was maintained incrementally.
        let incremental = try Snapshot(ledger)
        _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases)
        #expect(try Snapshot(ledger) == incremental)
    }

    @Test func aLateArrivalFoldsAsIfRecordedInOrder() throws {
        let ledger = try ledger("late")
        let signed = EventDraft(id: "s", type: "project.signed", stream: "project/p", effective: EffectiveTime("2021-01-10"),
                                data: Self.data(#"{"investor":{"zh":"甲"},"sector":"other"}"#))
        let started = EventDraft(id: "b", type: "project.construction_started", stream: "project/p", effective: EffectiveTime("2021-05-01"))
        let completed = EventDraft(id: "c", type: "project.completed", stream: "project/p", effective: EffectiveTime("2021-12-01"))
        _ = try ledger.append([signed, completed])
        _ = try ledger.append([started])  // recorded last, happened in between
        let state = try #require(try ProjectionReader(ledger).state(of: "project/p"))
        #expect(state["status"] == .string("completed"))
        #expect(state["constructionStarted"] == .string("2021-05-01"))
    }

    @Test func anAuditSnapshotFoldedByAnotherVersionIsNotUsed() throws {
        let ledger = try ledger("snapshot-version")
        _ = try ledger.append(Self.randomEvents(count: 10, seed: 98))
        let snapshot = AuditSnapshot(ledger)
        _ = try snapshot.take()
        #expect(try snapshot.entry()?.isCurrent == true)
        #expect(try snapshot.states(asOf: .max, skipping: []) != nil)
        // Pretend the state projection's fold changed since the snapshot was taken.
        try ledger.environment.write { txn in
            let registry = try #require(try txn.openDatabase(named: ProjectionTables.registry, create: false))
            var value = try #require(try ProjectionTables.getJSON(txn, registry, key: AuditSnapshot.registryKey)?.objectValue)
            value["foldVersion"] = .number(Double(ProjectionName.state.version - 1))
            try ProjectionTables.putJSON(txn, registry, key: AuditSnapshot.registryKey, .object(value))
        }
        #expect(try snapshot.entry()?.isCurrent == false)
        #expect(try snapshot.states(asOf: .max, skipping: []) == nil)
    }

    @Test func aProjectionBuiltByAnotherVersionIsStaleUntilRebuilt() throws {
        let ledger = try ledger("stale")
        _ = try ledger.append(Self.randomEvents(count: 10, seed: 99))
        // Pretend an older program built the state projection.
        try ledger.environment.write { txn in
            var entry = try #require(try ProjectionTables.entry(txn, .state))
            entry.version = ProjectionName.state.version + 1
            try ProjectionTables.setEntry(txn, .state, entry)
        }
        let reader = ProjectionReader(ledger)
        #expect(try reader.statuses().first { $0.name == .state }?.isStale == true)
        #expect { try reader.years() } throws: { ($0 as? LedgerError)?.kind == .stale }
        // Appends still succeed, and leave the stale projection alone.
        _ = try ledger.append(Self.randomEvents(count: 3, seed: 100).map { var d = $0; d.id = nil; return d })
        #expect(try reader.statuses().first { $0.name == .timeline }?.isStale == false)
        _ = try ProjectionRebuilder(ledger).rebuild([.state])
        #expect(try reader.statuses().allSatisfy { !$0.isStale })
        #expect(try !reader.years().isEmpty)
    }

    @Test func aLedgerWithoutProjectionsGetsThemFromARebuild() throws {
        let plain = try Ledger.open(dir.path + "/plain", options: .init(create: true))
        _ = try plain.append(Self.randomEvents(count: 20, seed: 5))
        #expect(try ProjectionReader(plain).statuses().allSatisfy(\.isStale))
        let reports = try ProjectionRebuilder(plain).rebuild(ProjectionName.allCases)
        #expect(reports.map(\.events) == [20, 20])
        let reference = try ledger("reference")
        _ = try reference.append(Self.randomEvents(count: 20, seed: 5))
        #expect(try Snapshot(plain) == Snapshot(reference))
    }

    @Test func datesFarFromNowAndOtherOffsetsFoldByTheZonesCalendar() throws {
        let ledger = try ledger("dates")
        let road = Self.data(#"{"name":{"zh":"路"}}"#)
        // A typo'd year far in the future must not block later appends to its stream.
        _ = try ledger.append([EventDraft(id: "far", type: "road.delivered", stream: "road/far", effective: EffectiveTime("2921-10-15"), data: road)])
        _ = try ledger.append([EventDraft(type: "event.retracted", stream: "road/far", data: Self.data(#"{"target":{"id":"far"},"reason":"typo"}"#))])
        #expect(try ProjectionReader(ledger).state(of: "road/far")?["delivered"] == nil)
        // 20:00 on 31 December in UTC−8 is already 1 January in the zone.
        _ = try ledger.append([EventDraft(type: "road.delivered", stream: "road/newyear", effective: EffectiveTime("2021-12-31T20:00:00-08:00"), data: road)])
        #expect(try ProjectionReader(ledger).state(of: "road/newyear")?["delivered"] == .string("2022-01-01"))
        #expect(try ProjectionReader(ledger).years()["2022"]?["roadsDelivered"] == 1)
    }
}
