import Foundation
import Testing
import TestSupport

/// Appending processes killed with SIGKILL at random moments, a few at a time, leave the
/// ledger whole: what an append reported is there, no batch is half there, seqs have no gaps,
/// the chain verifies, and the projections are what a rebuild makes of the log. Between the
/// kills the next writers get LMDB's writer lock from a dead owner (a robust mutex) and find
/// reader slots of dead processes (cleared on open).
///
/// Replay a failure with its seed: `CIVIC_LEDGER_CRASH_SEED=N swift test --filter CrashSafetyTests`.
@Suite struct CrashSafetyTests {
    @Test(.timeLimit(.minutes(3)))
    func appendsKilledAtRandomMomentsLoseNothingReportedAndLeaveNoHalfBatch() async throws {
        let seed = ProcessInfo.processInfo.environment["CIVIC_LEDGER_CRASH_SEED"].flatMap { UInt64($0) } ?? 20_251_129
        let dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger"
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)

        let run = try await onThread {
            var killing = KillingRun(seed: seed, scratch: dir.path, ledger: ledger)
            return try killing.run()
        }
        #expect(run.hung.isEmpty, "seed \(seed): appends that did not end within \(KillingRun.hangTimeout) s (a lock a killed writer held?): \(run.hung)")
        // The run aims at 100 kills; a slow machine may run out of time a little short of that.
        #expect(run.killed >= KillingRun.enoughKills, "seed \(seed): only \(run.killed) appends died of SIGKILL")
        #expect(run.succeeded >= 20, "seed \(seed): only \(run.succeeded) appends finished")

        let facts = try LedgerConsistency.checkLog(ledger, run.attempts)
        print("crash test, seed \(seed): \(run.attempts.count) appends (\(run.attempts.filter(\.isBatch).count) batches) "
              + "in \(Int(run.seconds)) s; \(run.killed) died of SIGKILL, \(facts.killedPresent) of them after their commit; "
              + "\(run.succeeded) succeeded; \(facts.events.count) events")
        #expect(facts.present >= run.succeeded && facts.absent > 0)
        try LedgerConsistency.checkVerify(ledger)
        try LedgerConsistency.checkProjectionsMatchRebuild(ledger, facts.events)

        // After all that, a writer gets the lock at once and appends after the last seq.
        let after = try CLI.run(["append", "--ledger", ledger, "--json", "--type", "road.delivered", "--stream", "road/after",
                                 "--effective", "2023-12-31", "--data", #"{"name":{"zh":"后来的路"}}"#])
        #expect(after.status == 0, "\(after.stderr)")
        #expect(try CLI.jsonLines(after.stdout).first?["seq"] as? Int == facts.events.count + 1)
    }
}

/// Rounds of one to three appends started together, each killed after its own random delay
/// (some end before it), until at least 100 died of SIGKILL and 20 finished, or 60 s passed.
/// The delays are drawn from zero to a little past how long an append of that size takes on
/// this machine, measured at the start and again every eighth round by one append left alone;
/// the span shrinks while finishes outnumber kills.
private struct KillingRun {
    static let hangTimeout = 30.0
    static let maxAttempts = 500
    static let timeBudget = 60.0
    static let enoughKills = 75

    struct Result {
        var attempts: [AppendAttempt] = []
        var hung: [String] = []
        var killed = 0, succeeded = 0
        var seconds = 0.0
    }

    let scratch: String
    let ledger: String
    var events: ZoneEventMaker
    var random: SeededGenerator

    init(seed: UInt64, scratch: String, ledger: String) {
        self.scratch = scratch
        self.ledger = ledger
        events = ZoneEventMaker(seed: seed)
        random = SeededGenerator(state: seed ^ 0xC0FF_EE00)
    }

    private struct Launch {
        var process: LaunchedCLI
        var ids: [String]
        var isBatch: Bool
        var killAt: Double
    }

    /// Starts an append of one event (`count` nil) or a batch of `count` events.
    private mutating func launch(_ number: Int, count: Int?) throws -> (LaunchedCLI, [String]) {
        if let count {
            let batch = events.batch(prefix: "a\(number)", count: count)
            let path = scratch + "/batch-\(number).ndjson"
            try batch.map(\.batchLine).joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
            return (try LaunchedCLI(["append", "--ledger", ledger, "--json", "--batch", "-"], stdinPath: path, scratch: scratch), batch.map(\.id))
        }
        let event = events.original(id: "a\(number)")
        return (try LaunchedCLI(["append", "--ledger", ledger, "--json"] + event.singleArguments, scratch: scratch), [event.id])
    }

    mutating func run() throws -> Result {
        var result = Result()
        let start = monotonicSeconds()
        func record(_ launch: Launch, _ outcome: LaunchedCLI.Outcome?) -> LaunchedCLI.Outcome? {
            guard let outcome else {
                result.hung.append(launch.ids[0])
                return nil
            }
            result.attempts.append(AppendAttempt(ids: launch.ids, isBatch: launch.isBatch, outcome: outcome))
            if outcome.diedOfSIGKILL { result.killed += 1 }
            if outcome.succeeded { result.succeeded += 1 }
            return outcome
        }

        // How long an append takes here, unhindered: one event, and a batch (per event). Batches
        // get slower as the entities they touch grow, so every eighth round measures one again.
        var single = 0.05, perEvent = 0.0005
        var number = 0, round = 0
        func measure(count: Int?) throws {
            let (process, ids) = try launch(number, count: count)
            number += 1
            guard let outcome = record(Launch(process: process, ids: ids, isBatch: count != nil, killAt: .infinity),
                                       process.wait(timeout: KillingRun.hangTimeout)), outcome.succeeded else { return }
            if let count { perEvent = max(0, outcome.seconds - single) / Double(count) } else { single = outcome.seconds }
        }
        try measure(count: nil)
        try measure(count: 300)

        while (result.killed < 100 || result.succeeded < 20) && number < KillingRun.maxAttempts && monotonicSeconds() - start < KillingRun.timeBudget {
            round += 1
            if round % 8 == 0 {
                try measure(count: Int.random(in: 50...500, using: &random))
                continue
            }
            let writers = Int.random(in: 1...3, using: &random)
            var launches: [Launch] = []
            for _ in 0..<writers {
                let count: Int? = Int.random(in: 0..<10, using: &random) < 6 ? Int.random(in: 50...500, using: &random) : nil
                let (process, ids) = try launch(number, count: count)
                number += 1
                // Killed anywhere from its start to a little past its expected end, stretched
                // for the other writers it shares the cores and the writer lock with; once 20
                // appends have finished, mostly before the end (every append that finishes
                // makes the ledger, and the next appends, bigger).
                let expected = single + perEvent * Double(count ?? 0)
                let lagging = result.killed < result.succeeded
                let stretch = (result.succeeded < 20 ? 1.1 : lagging ? 0.6 : 0.8) + 0.4 * Double(writers - 1)
                let delay = Double.random(in: 0...1, using: &random) * expected * stretch
                launches.append(Launch(process: process, ids: ids, isBatch: count != nil, killAt: monotonicSeconds() + delay))
            }
            for launch in launches.sorted(by: { $0.killAt < $1.killAt }) {
                sleep(seconds: launch.killAt - monotonicSeconds())
                launch.process.kill()
            }
            for launch in launches { _ = record(launch, launch.process.wait(timeout: KillingRun.hangTimeout)) }
        }
        // The batches' input files.
        for file in (try? FileManager.default.contentsOfDirectory(atPath: scratch)) ?? [] where file.hasSuffix(".ndjson") {
            try? FileManager.default.removeItem(atPath: scratch + "/" + file)
        }
        result.seconds = monotonicSeconds() - start
        return result
    }
}
