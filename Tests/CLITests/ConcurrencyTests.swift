import Foundation
import Testing
import TestSupport

/// Several processes appending to one ledger at once lose nothing: seqs stay contiguous and
/// the chain intact.
@Suite struct ConcurrencyTests {
    @Test func fourProcessesAppendingTwoThousandEventsEach() async throws {
        let dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger"
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        let writers = 4, batches = 20, perBatch = 100
        try await withThrowingTaskGroup(of: Int32.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var worst: Int32 = 0
                    for batch in 0..<batches {
                        let lines = (0..<perBatch).map { n in
                            #"{"id":"w\#(writer)-b\#(batch)-\#(n)","type":"road.delivered","stream":"road/w\#(writer)-\#(n % 7)","data":{"name":{"zh":"路\#(n)"}}}"#
                        }
                        let result = try CLI.run(["append", "--ledger", ledger, "--batch", "-"], stdin: lines.joined(separator: "\n"))
                        worst = max(worst, result.status)
                    }
                    return worst
                }
            }
            for try await status in group { #expect(status == 0) }
        }
        let events = try CLI.jsonLines(try CLI.run(["log", "--json", "--ledger", ledger]).stdout)
        #expect(events.count == writers * batches * perBatch)
        #expect(events.map { $0["seq"] as? Int } == (1...(writers * batches * perBatch)).map { $0 })
        #expect(Set(events.compactMap { $0["id"] as? String }).count == writers * batches * perBatch)
        let verify = try CLI.run(["verify", "--ledger", ledger])
        #expect(verify.status == 0, "\(verify.stdout)")
    }
}

/// Eight writers (batches and single events), four readers (log, summary, projects, verify) and
/// `rebuild --all` over and over, all at once on one ledger for 15 seconds: every process ends
/// normally, readers always get an answer (a rebuild switches to its tables atomically and
/// appends keep the old ones current until then, so no reader is ever refused as stale) and
/// never see a gap; afterwards nothing is lost, the chain verifies, and the projections equal
/// a rebuild.
@Suite struct LoadTests {
    static let seconds = 15.0
    static let timeout = 60.0

    /// What one thread did: the appends it made, or how many commands it ran and what was
    /// wrong with any of them.
    struct Work: Sendable {
        var attempts: [AppendAttempt] = []
        var runs = 0
        var problems: [String] = []
    }

    @Test(.timeLimit(.minutes(3)))
    func eightWritersFourReadersAndRebuildsAtOnceLoseNothing() async throws {
        let dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger", scratch = dir.path
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        // A first batch, so that the projections exist before the readers start.
        var maker = ZoneEventMaker(seed: 100)
        let first = maker.batch(prefix: "first", count: 200)
        try first.map(\.batchLine).joined(separator: "\n").write(toFile: scratch + "/first.ndjson", atomically: false, encoding: .utf8)
        let seeded = try #require(try LaunchedCLI.run(["append", "--ledger", ledger, "--json", "--batch", "-"],
                                                      stdinPath: scratch + "/first.ndjson", scratch: scratch))
        #expect(seeded.succeeded, "\(seeded.summary)")

        let deadline = monotonicSeconds() + LoadTests.seconds
        var writers: [Work] = [], readers: [Work] = [], rebuilder = Work()
        try await withThrowingTaskGroup(of: (String, Work).self) { group in
            for writer in 0..<8 {
                group.addTask { ("writer", try await onThread { try LoadTests.write(writer, ledger: ledger, scratch: scratch, until: deadline) }) }
            }
            for reader in 0..<4 {
                group.addTask { ("reader", try await onThread { try LoadTests.read(reader, ledger: ledger, scratch: scratch, until: deadline) }) }
            }
            group.addTask { ("rebuilder", try await onThread { try LoadTests.rebuild(ledger: ledger, scratch: scratch, until: deadline) }) }
            for try await (role, work) in group {
                switch role {
                case "writer": writers.append(work)
                case "reader": readers.append(work)
                default: rebuilder = work
                }
            }
        }

        let attempts = [AppendAttempt(ids: first.map(\.id), isBatch: true, outcome: seeded)] + writers.flatMap(\.attempts)
        let problems = (writers + readers + [rebuilder]).flatMap(\.problems)
        #expect(problems.isEmpty, "\(problems.count) problems, the first: \(problems.prefix(12).joined(separator: "\n"))")
        #expect(readers.allSatisfy { $0.runs >= 4 } && rebuilder.runs >= 2,
                "reads per reader: \(readers.map(\.runs)), rebuilds: \(rebuilder.runs)")

        let facts = try LedgerConsistency.checkLog(ledger, attempts)
        print("load test: \(attempts.count) appends, \(facts.events.count) events, \(readers.map(\.runs).reduce(0, +)) reads, "
              + "\(rebuilder.runs) rebuilds in \(Int(LoadTests.seconds)) s")
        try LedgerConsistency.checkVerify(ledger)
        try LedgerConsistency.checkProjectionsMatchRebuild(ledger, facts.events)
    }

    /// Appends until the deadline: by turns at random, a batch of 20–200 events or one event.
    private static func write(_ writer: Int, ledger: String, scratch: String, until deadline: Double) throws -> Work {
        var work = Work()
        var maker = ZoneEventMaker(seed: UInt64(writer) &+ 1_000)
        let input = scratch + "/writer-\(writer).ndjson"
        while monotonicSeconds() < deadline {
            let prefix = "w\(writer)-\(work.attempts.count)"
            let process: LaunchedCLI, ids: [String]
            let isBatch = Int.random(in: 0..<2, using: &maker.random) == 0
            if isBatch {
                let batch = maker.batch(prefix: prefix, count: Int.random(in: 20...200, using: &maker.random))
                try batch.map(\.batchLine).joined(separator: "\n").write(toFile: input, atomically: false, encoding: .utf8)
                process = try LaunchedCLI(["append", "--ledger", ledger, "--json", "--batch", "-"], stdinPath: input, scratch: scratch)
                ids = batch.map(\.id)
            } else {
                let event = maker.original(id: prefix)
                process = try LaunchedCLI(["append", "--ledger", ledger, "--json"] + event.singleArguments, scratch: scratch)
                ids = [event.id]
            }
            guard let outcome = process.wait(timeout: timeout) else {
                work.problems.append("append \(prefix) did not end within \(Int(timeout)) s")
                break
            }
            work.attempts.append(AppendAttempt(ids: ids, isBatch: isBatch, outcome: outcome))
            if !outcome.succeeded { work.problems.append("append \(prefix): \(outcome.summary)") }
        }
        return work
    }

    /// Reads until the deadline, by turns: a page of the log, the zone per year, the projects,
    /// verify. Every answer must come (exit 0, no crash) and hold together.
    private static func read(_ reader: Int, ledger: String, scratch: String, until deadline: Double) throws -> Work {
        var work = Work()
        var random = SeededGenerator(state: UInt64(reader) &+ 2_000)
        var head = 0
        var turn = reader
        while monotonicSeconds() < deadline {
            defer { turn += 1 }
            let after = Int.random(in: 0...head, using: &random)
            let arguments: [String]
            switch turn % 4 {
            case 0: arguments = ["log", "--json", "--after", String(after), "--limit", "300"]
            case 1: arguments = ["summary", "--json"]
            case 2: arguments = ["projects", "--json"]
            default: arguments = ["verify", "--json"]
            }
            guard let outcome = try LaunchedCLI.run(arguments + ["--ledger", ledger], scratch: scratch, timeout: timeout) else {
                work.problems.append("\(arguments[0]) did not end within \(Int(timeout)) s")
                break
            }
            work.runs += 1
            guard outcome.succeeded else {
                work.problems.append("\(arguments.joined(separator: " ")): \(outcome.summary)")
                continue
            }
            guard let lines = try? CLI.jsonLines(outcome.stdout) else {
                work.problems.append("\(arguments[0]) printed what is not NDJSON: \(outcome.stdout.prefix(300))")
                continue
            }
            switch turn % 4 {
            case 0:
                // The page continues the log from `after` with no gap.
                let seqs = lines.map { $0["seq"] as? Int ?? -1 }
                if seqs != Array((after + 1)..<(after + 1 + seqs.count)) || seqs.count > 300 {
                    work.problems.append("log --after \(after) --limit 300 gave seqs \(seqs.prefix(3))…\(seqs.suffix(3))")
                }
                head = max(head, seqs.last ?? 0)
            case 1, 2:
                if lines.isEmpty { work.problems.append("\(arguments[0]) answered nothing") }
            default:
                if lines.first?["intact"] as? Bool != true { work.problems.append("verify: \(outcome.stdout)") }
                head = max(head, lines.first?["headSeq"] as? Int ?? 0)
            }
        }
        return work
    }

    /// `rebuild --all` over and over until the deadline.
    private static func rebuild(ledger: String, scratch: String, until deadline: Double) throws -> Work {
        var work = Work()
        while monotonicSeconds() < deadline {
            guard let outcome = try LaunchedCLI.run(["rebuild", "--all", "--ledger", ledger], scratch: scratch, timeout: timeout) else {
                work.problems.append("rebuild did not end within \(Int(timeout)) s")
                break
            }
            work.runs += 1
            if !outcome.succeeded { work.problems.append("rebuild --all: \(outcome.summary)") }
        }
        return work
    }
}
