import Foundation
import Testing
import TestSupport

/// The Python verifier (tools/verify-ledger), written from docs/FORMAT.md, and the ledger's own
/// `verify` must agree on good and tampered ledgers, and on signed checkpoints.
@Suite struct IndependentVerifierTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    static let verifier = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/verify-ledger").path

    private func independent(_ arguments: [String]) throws -> (status: Int32, report: [String: Any]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.verifier] + arguments + ["--json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let report = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
        return (process.terminationStatus, report)
    }

    private func appendRoads(_ range: Range<Int>, to ledger: String, create: Bool = false) throws {
        let batch = range.map { #"{"id":"r\#($0)","type":"road.delivered","stream":"road/r\#($0 % 4)","effective":"2021-0\#(1 + $0 % 9)-10","data":{"name":{"zh":"路MARK\#($0)X","en":"Road \"\#($0)\"\n"},"lengthM":\#($0 + 1)}}"# }
        #expect(try CLI.run(["append", "--ledger", ledger, "--batch", "-"] + (create ? ["--create"] : []), stdin: batch.joined(separator: "\n")).status == 0)
    }

    @Test func bothVerifiersAcceptAGoodLedgerAndNameTheSameBadSeq() throws {
        try appendRoads(0..<40, to: ledger, create: true)
        let good = try independent([ledger])
        #expect(good.status == 0 && good.report["events"] as? Int == 40)
        #expect(try CLI.run(["verify", "--ledger", ledger]).status == 0)

        let file = ledger + "/data.mdb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        let range = try #require(bytes.range(of: Data("MARK23X".utf8)))
        bytes[range.lowerBound + 4] = UInt8(ascii: "7")
        try bytes.write(to: URL(fileURLWithPath: file))
        let bad = try independent([ledger])
        let own = try CLI.jsonLines(try CLI.run(["verify", "--json", "--ledger", ledger]).stdout)[0]
        #expect(bad.status == 1)
        #expect(bad.report["firstBadSeq"] as? Int == 24)
        #expect(own["firstBadSeq"] as? Int == 24)
    }

    @Test func aSignedCheckpointHoldsWhileTheLedgerGrowsAndFailsForAForkOrATruncation() throws {
        try appendRoads(0..<20, to: ledger, create: true)
        let key = dir.path + "/zone.key", pub = dir.path + "/zone.pub", checkpoint = dir.path + "/checkpoint.json"
        #expect(try CLI.run(["keys", "generate", "--private-key", key, "--public-key", pub]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try CLI.run(["keys", "generate", "--private-key", key, "--public-key", pub]).status == 65)
        #expect(try CLI.run(["checkpoint", "--key", key, "--out", checkpoint, "--ledger", ledger]).status == 0)

        try appendRoads(20..<30, to: ledger)  // the ledger grows: it still extends the checkpoint
        let arguments = ["--checkpoint", checkpoint, "--public-key", pub]
        #expect(try CLI.run(["verify", "--ledger", ledger] + arguments).status == 0)
        #expect(try independent([ledger] + arguments).status == 0)

        // A fork: the same events re-chained with one changed, same length and more.
        let fork = dir.path + "/fork"
        try appendRoads(0..<5, to: fork, create: true)
        try appendRoads(105..<130, to: fork)
        #expect(try CLI.run(["verify", "--ledger", fork]).status == 0)
        #expect(try CLI.run(["verify", "--ledger", fork] + arguments).status == 1)
        #expect(try independent([fork] + arguments).status == 1)

        // A truncation: a ledger that stops before the signed seq.
        let short = dir.path + "/short"
        try appendRoads(0..<10, to: short, create: true)
        let truncated = try CLI.run(["verify", "--ledger", short] + arguments)
        #expect(truncated.status == 1 && truncated.stdout.contains("truncated"))
        #expect(try independent([short] + arguments).status == 1)

        // Another key, or an altered document, is refused.
        let otherKey = dir.path + "/other.key", otherPub = dir.path + "/other.pub"
        #expect(try CLI.run(["keys", "generate", "--private-key", otherKey, "--public-key", otherPub]).status == 0)
        #expect(try CLI.run(["verify", "--ledger", ledger, "--checkpoint", checkpoint, "--public-key", otherPub]).status == 1)
        let document = try String(contentsOfFile: checkpoint, encoding: .utf8)
        let altered = dir.path + "/altered.json"
        try document.replacingOccurrences(of: #""seq":20"#, with: #""seq":19"#).write(toFile: altered, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["verify", "--ledger", ledger, "--checkpoint", altered, "--public-key", pub]).status == 1)
        #expect(try independent([ledger, "--checkpoint", altered, "--public-key", pub]).status == 1)
    }
}
