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
