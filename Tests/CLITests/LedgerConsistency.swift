import Foundation
import Testing
import TestSupport

/// One `civic-ledger append` a test ran, perhaps killed: the ids it carried, in line order,
/// and how it ended.
struct AppendAttempt: Sendable {
    var ids: [String]
    var isBatch: Bool
    var outcome: LaunchedCLI.Outcome
}

/// The checks the crash and load tests make once every process has ended: what was reported
/// is there, nothing is half there, the chain holds, the projections are what a rebuild makes.
enum LedgerConsistency {
    struct LogFacts {
        var events: [[String: Any]]
        /// Appends whose events are all in the log, and appends none of whose events are.
        var present = 0, absent = 0
        /// Appends killed after their commit: all their events are in the log.
        var killedPresent = 0
    }

    /// Reads the whole log and checks it against the appends: seqs 1...N; every append that
    /// reported success is there with the seqs and hashes it printed; every append (killed or
    /// not) is there whole, at consecutive seqs, or not at all; nothing else is there.
    static func checkLog(_ ledger: String, _ attempts: [AppendAttempt], sourceLocation: SourceLocation = #_sourceLocation) throws -> LogFacts {
        let log = try CLI.run(["log", "--json", "--ledger", ledger])
        #expect(log.status == 0, "log: \(log.stderr)", sourceLocation: sourceLocation)
        var facts = LogFacts(events: try CLI.jsonLines(log.stdout))
        var problems: [String] = []

        let seqs = facts.events.map { $0["seq"] as? Int ?? -1 }
        if seqs != Array(1..<(seqs.count + 1)) {
            let gap = seqs.indices.first { seqs[$0] != $0 + 1 }!
            problems.append("seqs are not 1...\(seqs.count): at position \(gap + 1) comes seq \(seqs[gap])")
        }
        var seqById: [String: Int] = [:], hashById: [String: String] = [:]
        for event in facts.events {
            guard let id = event["id"] as? String, let seq = event["seq"] as? Int else { problems.append("an event without id or seq: \(event)"); continue }
            if seqById[id] != nil { problems.append("id \(id) is in the log twice") }
            seqById[id] = seq
            hashById[id] = event["hash"] as? String
        }
        let launched = Set(attempts.flatMap(\.ids))
        for id in seqById.keys where !launched.contains(id) { problems.append("the log holds \(id), which no append carried") }

        var presentEvents = 0
        for attempt in attempts {
            let what = "\(attempt.isBatch ? "batch of \(attempt.ids.count)" : "single append") \(attempt.ids[0])… (\(attempt.outcome.summary))"
            let found = attempt.ids.compactMap { seqById[$0] }
            if found.isEmpty {
                facts.absent += 1
            } else if found.count != attempt.ids.count {
                problems.append("\(what) is partly in the log: \(found.count) of \(attempt.ids.count) events")
            } else {
                facts.present += 1
                if attempt.outcome.diedOfSIGKILL { facts.killedPresent += 1 }
                presentEvents += found.count
                if found != Array(found[0]..<(found[0] + found.count)) {
                    problems.append("\(what) is in the log, but not at consecutive seqs in line order: \(found.prefix(5))…")
                }
            }
            // What the append printed: all of it for a success; for a killed append, if it got
            // as far as printing every seq, its commit had returned, so it must be there too.
            let printed = attempt.outcome.stdout.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }
            if attempt.outcome.succeeded || (attempt.outcome.diedOfSIGKILL && printed.count == attempt.ids.count) {
                if printed.count != attempt.ids.count {
                    problems.append("\(what) printed \(printed.count) results for \(attempt.ids.count) events")
                }
                for (line, result) in zip(attempt.ids, printed) {
                    guard let id = result["id"] as? String, let seq = result["seq"] as? Int else { problems.append("\(what) printed \(result)"); continue }
                    if id != line { problems.append("\(what) printed id \(id) where \(line) was expected") }
                    if result["status"] as? String != "appended" { problems.append("\(what) reported \(id) as \(result["status"] ?? "?")") }
                    if seqById[id] != seq {
                        problems.append("\(what) reported \(id) at seq \(seq), but the log has it \(seqById[id].map { "at seq \($0)" } ?? "nowhere")")
                    } else if hashById[id] != result["hash"] as? String {
                        problems.append("\(what) reported \(id) with hash \(result["hash"] ?? "?"), the log has \(hashById[id] ?? "none")")
                    }
                }
            } else if !attempt.outcome.diedOfSIGKILL {
                problems.append("\(what) failed")
            }
        }
        if presentEvents != facts.events.count {
            problems.append("the log holds \(facts.events.count) events, the appends present account for \(presentEvents)")
        }
        #expect(problems.isEmpty, "\(problems.count) problems, the first: \(problems.prefix(12).joined(separator: "\n"))", sourceLocation: sourceLocation)
        return facts
    }

    /// `verify` passes.
    static func checkVerify(_ ledger: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let verify = try CLI.run(["verify", "--ledger", ledger])
        #expect(verify.status == 0, "verify: \(verify.stdout) \(verify.stderr)", sourceLocation: sourceLocation)
    }

    /// The projections are current at the head, and what they answer (projects, the zone per
    /// year, each year's timeline) is what `rebuild --all` makes of the log. The timelines are
    /// also checked against the log itself.
    static func checkProjectionsMatchRebuild(_ ledger: String, _ events: [[String: Any]], sourceLocation: SourceLocation = #_sourceLocation) throws {
        try checkCurrent(ledger, head: events.count, when: "before the rebuild", sourceLocation: sourceLocation)
        let before = try views(ledger)
        let rebuild = try CLI.run(["rebuild", "--all", "--ledger", ledger])
        #expect(rebuild.status == 0, "rebuild: \(rebuild.stderr)", sourceLocation: sourceLocation)
        try checkCurrent(ledger, head: events.count, when: "after the rebuild", sourceLocation: sourceLocation)
        let after = try views(ledger)

        for (name, view) in before.sorted(by: { $0.key < $1.key }) {
            let same = view == after[name]
            #expect(same, "\(name) differs from a rebuild: \(firstDifference(view, after[name] ?? ""))", sourceLocation: sourceLocation)
        }
        #expect(before["projects"].map { !$0.isEmpty } == true, "no projects at all", sourceLocation: sourceLocation)
        for year in ZoneEventMaker.years {
            let inLog = Set(events.filter { ($0["effective"] as? String)?.hasPrefix("\(year)-") == true }.compactMap { $0["seq"] as? Int })
            let inTimeline = Set(try CLI.jsonLines(after["history \(year)"] ?? "").compactMap { $0["seq"] as? Int })
            let same = inTimeline == inLog
            #expect(same, "the \(year) timeline holds \(inTimeline.count) events, the log \(inLog.count) effective that year",
                    sourceLocation: sourceLocation)
        }
    }

    private static func checkCurrent(_ ledger: String, head: Int, when: String, sourceLocation: SourceLocation) throws {
        let result = try CLI.run(["projections", "--json", "--ledger", ledger])
        #expect(result.status == 0, "projections: \(result.stderr)", sourceLocation: sourceLocation)
        let statuses = try CLI.jsonLines(result.stdout)
        #expect(statuses.count == 2, sourceLocation: sourceLocation)
        for status in statuses {
            #expect(status["stale"] as? Bool == false && status["appliedSeq"] as? Int == head && status["headSeq"] as? Int == head,
                    "\(when): \(status)", sourceLocation: sourceLocation)
        }
    }

    /// What the projections answer, by view; a failed command's answer is its exit and error.
    private static func views(_ ledger: String) throws -> [String: String] {
        var commands = [("projects", ["projects", "--json"]), ("summary", ["summary", "--json"])]
        for year in ZoneEventMaker.years { commands.append(("history \(year)", ["history", "--year", String(year), "--json"])) }
        var views: [String: String] = [:]
        for (name, arguments) in commands {
            let result = try CLI.run(arguments + ["--ledger", ledger])
            views[name] = result.status == 0 ? result.stdout : "exit \(result.status): \(result.stderr)"
        }
        return views
    }

    /// `line 12: «…» against «…»`, for a message.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let left = a.split(separator: "\n", omittingEmptySubsequences: false), right = b.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(left.count, right.count) {
            let l = index < left.count ? String(left[index]) : "(nothing)", r = index < right.count ? String(right[index]) : "(nothing)"
            if l != r { return "line \(index + 1): «\(l.prefix(400))» against «\(r.prefix(400))» after the rebuild" }
        }
        return "none"
    }
}
