import Foundation
import Synchronization
import Testing
import TestSupport

/// A damaged `data.mdb`: random bytes written anywhere in a copy of a small ledger (meta
/// pages, B-tree pages, records). Whatever is hit, every command ends by itself, never killed
/// by a signal and never hanging: with its answer, with `verify` naming the first bad seq
/// (exit 1), or with one clear line on standard error and a documented exit code.
@Suite struct CorruptionTests {
    /// The data file of a ledger of 290 events in 81 streams, built once for the suite (its
    /// directory is removed once the bytes are read: a static is never deinitialised).
    static let source: Result<[UInt8], any Error> = Result {
        let dir = TemporaryDirectory()
        return try withExtendedLifetime(dir) {
            let ledger = dir.path + "/ledger"
            let append = try CLI.run(["append", "--create", "--batch", "-", "--ledger", ledger], stdin: events())
            guard append.status == 0 else { throw CorruptionSetupError(message: "append: \(append.stderr)") }
            let verify = try CLI.run(["verify", "--ledger", ledger])
            guard verify.status == 0 else { throw CorruptionSetupError(message: "verify: \(verify.stdout)") }
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: ledger + "/data.mdb")))
        }
    }

    struct CorruptionSetupError: Error { var message: String }

    static let eventCount = 290

    /// Projects, roads, housing estates, indicators; a correction and a retraction.
    static func events() -> String {
        var lines: [String] = []
        func add(_ id: String, _ type: String, _ stream: String, _ day: Int, _ data: String) {
            let date = String(format: "202%d-%02d-%02d", 1 + day / 336, 1 + day / 28 % 12, 1 + day % 28)
            lines.append(#"{"id":"\#(id)","type":"\#(type)","stream":"\#(stream)","effective":"\#(date)","actor":"clerk-\#(lines.count % 5)","data":\#(data)}"#)
        }
        for p in 0..<40 {
            add("ev-p\(p)-signed", "project.signed", "project/p\(p)", p,
                #"{"investor":{"zh":"投资者\#(p)","en":"Investor \#(p)"},"sector":"semiconductor","totalInvestmentCny":\#(p * 1_000_000 + 5)}"#)
        }
        for p in 0..<40 { add("ev-p\(p)-started", "project.construction_started", "project/p\(p)", 40 + p, #"{"note":"ground broken \#(p)"}"#) }
        for r in 0..<30 {
            add("ev-r\(r)-started", "road.construction_started", "road/r\(r)", 90 + r, #"{"name":{"zh":"路\#(r)","en":"Road \#(r)"}}"#)
            add("ev-r\(r)-delivered", "road.delivered", "road/r\(r)", 130 + r, #"{"name":{"zh":"路\#(r)","en":"Road \#(r)"},"lengthM":\#(1000 + r)}"#)
        }
        for h in 0..<10 {
            for b in 0..<12 {
                add("ev-h\(h)-b\(b)", "housing.batch_handed_over", "housing/h\(h)", 170 + h * 12 + b, #"{"estate":{"zh":"安置房\#(h)"},"units":\#(10 + b)}"#)
            }
        }
        for p in 0..<40 where p % 2 == 0 { add("ev-p\(p)-completed", "project.completed", "project/p\(p)", 300 + p, #"{"note":"done \#(p)"}"#) }
        for i in 0..<8 {
            add("ev-i\(i)", "indicator.reported", "indicator/gdp", 340 + i * 30, #"{"metric":"gdp","period":"\#(2021 + i / 4)","value":\#(5 + i),"unit":"percent","basis":"yoy"}"#)
        }
        add("ev-fix-r0", "event.corrected", "road/r0", 600, #"{"target":{"id":"ev-r0-delivered"},"data":{"name":{"zh":"路0","en":"Road 0"},"lengthM":2450},"reason":"re-measured"}"#)
        add("ev-retract-p1", "event.retracted", "project/p1", 601, #"{"target":{"id":"ev-p1-started"},"reason":"recorded twice"}"#)
        precondition(lines.count == eventCount, "\(lines.count) events")
        return lines.joined(separator: "\n") + "\n"
    }

    static let commands: [[String]] = [
        ["verify"], ["log", "--json"], ["stats"], ["show", "1"], ["audit", "--as-of", "2030-01-01", "--full-replay"],
    ]
    static let documentedFailures: Set<Int32> = [65, 66, 69, 74]

    /// What is wrong with how `command` ended on a damaged ledger, or nil if it ended well.
    /// A temporary directory whose `ledger/data.mdb` holds `data`.
    static func ledger(holding data: [UInt8]) throws -> TemporaryDirectory {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/ledger", withIntermediateDirectories: false)
        try Data(data).write(to: URL(fileURLWithPath: dir.path + "/ledger/data.mdb"))
        return dir
    }

    static func problem(_ command: [String], _ outcome: CLI.Outcome) -> String? {
        guard case .exit(let status) = outcome.end else { return "\(outcome)" }
        if status == 0 { return nil }
        // verify, and audit (which answers on a verified chain), report a failed verification.
        if command == ["verify"] && status == 1 {
            let report = outcome.stdout.trimmingCharacters(in: .newlines)
            guard report.hasPrefix("verification FAILED at "), !report.contains("\n") else { return "verify's report: \(report.debugDescription)" }
            return nil
        }
        if command.first == "audit" && status == 1 {
            guard outcome.stdout.contains("\nchain: VERIFICATION FAILED at ") else { return "audit's exit 1 without a failed verification: \(outcome)" }
            return nil
        }
        guard documentedFailures.contains(status) else { return "undocumented \(outcome)" }
        let message = outcome.stderr
        guard message.hasPrefix("civic-ledger: "), message.hasSuffix("\n"),
              !message.dropLast().contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false })
        else { return "not one clean line: \(outcome)" }
        return nil
    }

    /// Trials run, by default; `CIVIC_CORRUPTION_TRIALS` asks for more (or fewer).
    static let trialCount = ProcessInfo.processInfo.environment["CIVIC_CORRUPTION_TRIALS"].flatMap(Int.init) ?? 120
    static let seed = ProcessInfo.processInfo.environment["CIVIC_CORRUPTION_SEED"].flatMap(UInt64.init) ?? 0xC0FFEE

    /// One trial's damage: where, and what bytes.
    struct Damage: CustomStringConvertible {
        var offset: Int
        var bytes: [UInt8]
        var description: String { "\(bytes.count) byte(s) at offset \(offset) (page \(offset / 4096))" }

        init(trial: Int, fileSize: Int) {
            var random = SeededGenerator(state: CorruptionTests.seed &+ UInt64(trial) &* 0x9E37_79B9)
            let count = [1, Int.random(in: 2...8, using: &random), 64][trial % 3]
            // A quarter of the trials hit the two meta pages, the rest anywhere.
            let range = trial % 4 == 0 ? 0..<8192 : 0..<fileSize
            offset = min(Int.random(in: range, using: &random), fileSize - count)
            bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
        }
    }

    @Test func randomDamageNeverCrashesOrHangsACommand() throws {
        let original = try Self.source.get()
        let findings = NSTemporaryDirectory() + "civic-corruption-findings"
        struct Tally { var failures: [String] = [], verifyFailed = 0, storageErrors = 0 }
        let tally = Mutex(Tally())
        DispatchQueue.concurrentPerform(iterations: Self.trialCount) { trial in
            let damage = Damage(trial: trial, fileSize: original.count)
            var data = original
            for (i, byte) in damage.bytes.enumerated() {
                // Always a change: a byte equal to the original one is flipped instead.
                data[damage.offset + i] = byte == original[damage.offset + i] ? ~byte : byte
            }
            let dir = TemporaryDirectory()
            let ledger = dir.path + "/ledger"
            var found: [String] = []
            do {
                try FileManager.default.createDirectory(atPath: ledger, withIntermediateDirectories: false)
                try Data(data).write(to: URL(fileURLWithPath: ledger + "/data.mdb"))
                for command in Self.commands {
                    let outcome = try CLI.run(command + ["--ledger", ledger], timeout: 10)
                    if let problem = Self.problem(command, outcome) { found.append("\(command.joined(separator: " ")): \(problem)") }
                    if command == ["verify"], outcome.end == .exit(1) { tally.withLock { $0.verifyFailed += 1 } }
                    if outcome.end == .exit(74) { tally.withLock { $0.storageErrors += 1 } }
                }
            } catch {
                found.append("could not run: \(error)")
            }
            guard !found.isEmpty else { return }
            // Keep the damaged file to replay the trial.
            try? FileManager.default.createDirectory(atPath: findings, withIntermediateDirectories: true)
            let kept = findings + "/trial-\(trial)-seed-\(Self.seed)-data.mdb"
            try? Data(data).write(to: URL(fileURLWithPath: kept))
            tally.withLock { $0.failures.append("trial \(trial), \(damage) (kept as \(kept)):\n  " + found.joined(separator: "\n  ")) }
        }
        let result = tally.withLock { $0 }
        #expect(result.failures.isEmpty, Comment(rawValue: "\(result.failures.count) of \(Self.trialCount) trials:\n"
                                                    + result.failures.sorted().joined(separator: "\n")))
        // The damage must have been seen at all, or the trials test nothing.
        #expect(result.verifyFailed + result.storageErrors > Self.trialCount / 10,
                "verify failed \(result.verifyFailed) times, storage errors \(result.storageErrors)")
    }

    /// The byte range of the record of the event with `id` in the file: its 32-byte hash and
    /// its canonical JSON (which starts with `{"actor":`, as every event here has an actor).
    static func recordRange(_ data: [UInt8], id: String) throws -> Range<Int> {
        let needle = Array(#","id":"\#(id)","prev":""#.utf8)
        let hits = (0...(data.count - needle.count)).filter { data[$0] == needle[0] && Array(data[$0..<$0 + needle.count]) == needle }
        let hit = try #require(hits.count == 1 ? hits.first : nil, "\(hits.count) records with id \(id)")
        let start = Array(#"{"actor":"#.utf8)
        var begin = hit
        while begin > 0 && Array(data[begin..<min(begin + start.count, data.count)]) != start { begin -= 1 }
        // The record ends with its last member, `"version":N}`.
        let last = Array(#","version":"#.utf8)
        var end = hit
        while Array(data[end..<end + last.count]) != last { end += 1 }
        end += last.count
        while data[end] != UInt8(ascii: "}") { end += 1 }
        return (begin - 32)..<(end + 1)
    }

    /// The key of the last event but one, made larger than the head: in key order it now
    /// comes after the head, where a seek past the head lands on it, and its record says it
    /// is seq 289. Reading on from the record's seq, `log` read the same two events forever.
    @Test func aKeyOutOfOrderDoesNotSendLogRoundInCircles() throws {
        let original = try Self.source.get()
        let record = try Self.recordRange(original, id: "ev-fix-r0")
        var data = original
        // An LMDB leaf node holds the key, then the value: the 8-byte key is just before.
        let key = record.lowerBound - 8
        #expect(Array(data[key..<record.lowerBound]) == [0, 0, 0, 0, 0, 0, 1, 0x21])
        data[key + 3] = 0x50
        let dir = try Self.ledger(holding: data)
        for command in Self.commands {
            let outcome = try CLI.run(command + ["--ledger", dir.path + "/ledger"], timeout: 10)
            #expect(Self.problem(command, outcome) == nil, "\(command): \(outcome)")
            if command == ["verify"] { #expect(outcome.stdout.hasPrefix("verification FAILED at seq 289: "), "\(outcome.stdout)") }
            if command == ["log", "--json"] {
                #expect(outcome.end == .exit(74))
                #expect(outcome.stderr.contains("seq 289: the record is stored under another key"), "\(outcome.stderr)")
            }
        }
    }

    /// The last key of the stream table made invalid UTF-8 ("road/r9" → "road/r\xFF"): the
    /// stream walk went on from the name decoded (with U+FFFD, which sorts before 0xFF) and
    /// found the same stream again, forever.
    @Test func aStreamKeyThatIsNotUTF8DoesNotSendTheAuditRoundInCircles() throws {
        let original = try Self.source.get()
        // A leaf node: value size 8, flags 0, key size 7, the key, the version (2).
        let node: [UInt8] = [8, 0, 0, 0, 0, 0, 7, 0] + Array("road/r9".utf8) + [0, 0, 0, 0, 0, 0, 0, 2]
        let hits = (0...(original.count - node.count)).filter { original[$0] == 8 && Array(original[$0..<$0 + node.count]) == node }
        let hit = try #require(hits.count == 1 ? hits.first : nil, "\(hits.count) stream-table entries for road/r9")
        var data = original
        data[hit + 8 + 6] = 0xFF
        let dir = try Self.ledger(holding: data)
        // The rebuild walks the stream table the same way.
        for command in Self.commands + [["rebuild", "--all"]] {
            let outcome = try CLI.run(command + ["--ledger", dir.path + "/ledger"], timeout: 10)
            #expect(Self.problem(command, outcome) == nil, "\(command): \(outcome)")
            if command == ["verify"] { #expect(outcome.end == .exit(1), "\(outcome)") }
        }
    }

    /// The stream table's page with its last two entries swapped in the page's index, so a
    /// scan meets "road/r9" before "road/r8": a walk that went on from the last key read
    /// sought past "road/r8", landed on "road/r9" again, and went round forever.
    @Test func keysOutOfOrderInAPageEndEveryScan() throws {
        let original = try Self.source.get()
        let node: [UInt8] = [8, 0, 0, 0, 0, 0, 7, 0] + Array("road/r9".utf8) + [0, 0, 0, 0, 0, 0, 0, 2]
        let hit = try #require((0...(original.count - node.count)).first { original[$0] == 8 && Array(original[$0..<$0 + node.count]) == node })
        let page = hit / 4096 * 4096
        // The page header: number, padding, flags, then `lower`, the end of the node index
        // that follows it (2-byte offsets of the nodes, in key order).
        let lower = Int(original[page + 12]) | Int(original[page + 13]) << 8
        let last = page + lower - 2
        #expect(Int(original[last]) | Int(original[last + 1]) << 8 == hit - page, "road/r9 is the page's last key")
        var data = original
        data.replaceSubrange(last - 2..<last + 2, with: [original[last], original[last + 1], original[last - 2], original[last - 1]])
        let dir = try Self.ledger(holding: data)
        for command in Self.commands + [["rebuild", "--all"]] {
            let outcome = try CLI.run(command + ["--ledger", dir.path + "/ledger"], timeout: 10)
            #expect(Self.problem(command, outcome) == nil, "\(command): \(outcome)")
        }
    }

    /// Meta page 0 with the newest transaction id and an absurd last page number (as a
    /// random trial left it): `stats` computed the bytes in use from it and trapped on the
    /// overflow.
    @Test func anAbsurdLastPageInTheHeaderDoesNotCrashStats() throws {
        let original = try Self.source.get()
        var data = original
        // MDB_meta after the 16-byte page header: magic, version, address, map size, two
        // 48-byte database records, then the last page (offset 136) and the txnid (144).
        #expect(data[16..<20].elementsEqual([0xDE, 0xC0, 0xEF, 0xBE]), "meta page 0 has LMDB's magic")
        data[143] = 0x7F
        for i in 144..<151 { data[i] = 0x7F }
        let dir = try Self.ledger(holding: data)
        for command in Self.commands + [["stats", "--json"]] {
            let outcome = try CLI.run(command + ["--ledger", dir.path + "/ledger"], timeout: 10)
            #expect(Self.problem(command, outcome) == nil, "\(command): \(outcome)")
        }
    }

    @Test(arguments: [(seq: 7, id: "ev-p6-signed"), (seq: 120, id: "ev-r19-delivered"), (seq: 286, id: "ev-i5")])
    func verifyNamesTheSeqWhoseRecordWasChanged(seq: Int, id: String) throws {
        let original = try Self.source.get()
        let record = try Self.recordRange(original, id: id)
        let text = String(decoding: original[(record.lowerBound + 32)..<record.upperBound], as: UTF8.self)
        #expect(text.hasPrefix(#"{"actor":"#) && text.contains(#""seq":\#(seq),"#) && text.hasSuffix("}"), "\(text)")
        var random = SeededGenerator(state: UInt64(seq))
        // One byte of the hash, one at the start, one anywhere, a run of four: each is named.
        let offsets = [record.lowerBound + 5, record.lowerBound + 33, Int.random(in: record, using: &random), record.upperBound - 6]
        for (i, offset) in offsets.enumerated() {
            var data = original
            let width = i == 3 ? 4 : 1
            for j in offset..<offset + width { data[j] ^= UInt8(1 << ((j + i) % 8)) }
            let dir = try Self.ledger(holding: data)
            let outcome = try CLI.run(["verify", "--ledger", dir.path + "/ledger"], timeout: 10)
            #expect(outcome.end == .exit(1), "offset \(offset): \(outcome)")
            #expect(outcome.stdout.hasPrefix("verification FAILED at seq \(seq): "), "offset \(offset): \(outcome.stdout)")
        }
    }
}
