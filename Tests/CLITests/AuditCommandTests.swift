import Foundation
import Testing
import TestSupport

@Suite struct AuditCommandTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    @Test func anAuditShowsThePastAsKnownThenAndWhatChangedLater() throws {
        let signing = #"{"id":"s","type":"project.signed","stream":"project/m","effective":"2021-06-01","data":{"investor":{"zh":"美德乐"},"sector":"medical_devices","totalInvestmentCny":300000000}}"#
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: signing).status == 0)
        let first = try CLI.jsonLines(try CLI.run(["show", "1", "--json", "--ledger", ledger]).stdout)[0]
        let knownAt = first["recorded"] as! String
        Thread.sleep(forTimeInterval: 0.01)
        let fix = #"{"target":{"id":"s"},"data":{"investor":{"zh":"美德乐"},"sector":"medical_devices","totalInvestmentCny":3000000000},"reason":"a zero was missing"}"#
        #expect(try CLI.run(["append", "--ledger", ledger, "--type", "event.corrected", "--stream", "project/m", "--data", fix]).status == 0)

        let then = try CLI.jsonLines(try CLI.run(["audit", "--as-of", "2021-12-31", "--known-at", knownAt, "--json", "--ledger", ledger]).stdout)[0]
        #expect(then["knownAtSeq"] as? Int == 1 && then["headSeq"] as? Int == 2)
        #expect(((then["years"] as? [String: Any])?["2021"] as? [String: Any])?["investmentCny"] as? Int == 300_000_000)
        #expect((then["hindsight"] as? [[String: Any]])?.map { $0["stream"] as? String } == ["project/m"])
        #expect((then["chain"] as? [String: Any])?["intact"] as? Bool == true)

        let now = try CLI.jsonLines(try CLI.run(["audit", "--as-of", "2030-01-01", "--json", "--ledger", ledger]).stdout)[0]
        #expect(((now["years"] as? [String: Any])?["2021"] as? [String: Any])?["investmentCny"] as? Int == 3_000_000_000)
        #expect((now["projectionDrift"] as? [String])?.isEmpty == true)

        let diff = try CLI.jsonLines(try CLI.run(["audit", "diff", "--from", "2021-05-31", "--to", "2021-06-01", "--json", "--ledger", ledger]).stdout)
        #expect(diff.contains { $0["stream"] as? String == "project/m" && $0["field"] as? String == "status" && $0["to"] as? String == "signed" })
        #expect(try CLI.run(["audit", "--as-of", "2021-02-30", "--ledger", ledger]).status == 65)
        #expect(try CLI.run(["audit", "--ledger", ledger]).status == 64)
    }

    @Test func aSnapshotAnswersTheSameAuditAndCanBeIgnored() throws {
        let lines = (0..<12).map { n in
            #"{"id":"r\#(n)","type":"road.delivered","stream":"road/r\#(n % 4)","effective":"2021-0\#(1 + n % 9)-10","data":{"name":{"zh":"路"},"lengthM":\#(100 + n)}}"#
        }
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: lines.joined(separator: "\n")).status == 0)
        let replayed = try CLI.jsonLines(try CLI.run(["audit", "--as-of", "2021-05-31", "--json", "--ledger", ledger]).stdout)[0]
        #expect(replayed["method"] as? String == "replay")

        func snapshotRow() throws -> String? {
            try CLI.run(["projections", "--ledger", ledger]).stdout.split(separator: "\n").first { $0.hasPrefix("snapshot ") }.map(String.init)
        }
        #expect(try snapshotRow()?.contains("none: 'civic-ledger audit snapshot' makes audits faster") == true)
        let taken = try CLI.run(["audit", "snapshot", "--json", "--ledger", ledger])
        #expect(taken.status == 0 && taken.stderr.isEmpty)
        let report = try CLI.jsonLines(taken.stdout)[0]
        #expect(report["seq"] as? Int == 12 && report["entities"] as? Int == 4)
        let row = try snapshotRow()
        #expect(row?.hasSuffix(" 12  current") == true, "\(row ?? "")")
        let fast = try CLI.jsonLines(try CLI.run(["audit", "--as-of", "2021-05-31", "--json", "--ledger", ledger]).stdout)[0]
        #expect(fast["method"] as? String == "snapshot")
        #expect(NSDictionary(dictionary: fast["entities"] as! [String: Any]) == NSDictionary(dictionary: replayed["entities"] as! [String: Any]))
        #expect(NSDictionary(dictionary: fast["years"] as! [String: Any]) == NSDictionary(dictionary: replayed["years"] as! [String: Any]))
        let forced = try CLI.jsonLines(try CLI.run(["audit", "--as-of", "2021-05-31", "--full-replay", "--json", "--ledger", ledger]).stdout)[0]
        #expect(forced["method"] as? String == "replay")
        // No ledger, no snapshot.
        #expect(try CLI.run(["audit", "snapshot", "--ledger", dir.path + "/missing"]).status == 66)
    }
}
