import Foundation
import Testing
import TestSupport

/// Every bad input gets its documented exit code and a one-line message, and leaves the
/// ledger exactly as it was.
@Suite struct ExitCodeTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    init() throws {
        let result = try CLI.run(["append", "--ledger", dir.path + "/ledger", "--create", "--type", "project.signed",
                                  "--stream", "project/medela", "--id", "medela-signed", "--effective", "2021-06-01",
                                  "--data", #"{"investor":{"zh":"美德乐","en":"Medela"},"sector":"medical_devices"}"#])
        precondition(result.status == 0, result.stderr)
    }

    static let road = #"{"name":{"zh":"徐家观路"}}"#

    static let cases: [(name: String, arguments: [String], stdin: String?, status: Int32)] = [
        ("unknown option", ["append", "--bogus"], nil, 64),
        ("no data", ["append", "--type", "road.delivered", "--stream", "road/x"], nil, 64),
        ("batch and single options", ["append", "--batch", "-", "--type", "road.delivered"], nil, 64),
        ("bad limit", ["log", "--limit", "0"], nil, 64),
        ("bad expect-head", ["verify", "--expect-head", "12:nothex"], nil, 64),
        ("bad JSON", ["append", "--type", "road.delivered", "--stream", "road/x", "--data", "{nope}"], nil, 65),
        ("data not an object", ["append", "--type", "road.delivered", "--stream", "road/x", "--data", "[1]"], nil, 65),
        ("bad date", ["append", "--type", "road.delivered", "--stream", "road/x", "--effective", "2021-02-30", "--data", road], nil, 65),
        ("bad type name", ["append", "--type", "Road", "--stream", "road/x", "--data", road], nil, 65),
        ("bad stream name", ["append", "--type", "road.delivered", "--stream", "road x", "--data", road], nil, 65),
        ("missing field in batch", ["append", "--batch", "-"], #"{"type":"road.delivered","data":{}}"#, 65),
        ("unknown field in batch", ["append", "--batch", "-"], #"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}},"colour":"red"}"#, 65),
        ("duplicate key", ["append", "--batch", "-"], #"{"type":"road.delivered","stream":"road/x","data":{"a":1,"a":2}}"#, 65),
        ("NaN", ["append", "--batch", "-"], #"{"type":"road.delivered","stream":"road/x","data":{"a":NaN}}"#, 65),
        ("huge number", ["append", "--batch", "-"], #"{"type":"road.delivered","stream":"road/x","data":{"a":1e999}}"#, 65),
        ("lone surrogate", ["append", "--batch", "-"], #"{"type":"road.delivered","stream":"road/x","data":{"a":"\ud800"}}"#, 65),
        ("bad second line", ["append", "--batch", "-"], "{\"type\":\"road.delivered\",\"stream\":\"road/x\",\"data\":{\"name\":{\"zh\":\"路\"}}}\n{\"type\":\"road.delivered\"}\n", 65),
        ("missing data file", ["append", "--type", "road.delivered", "--stream", "road/x", "--data", "@/nonexistent/data.json"], nil, 66),
        ("missing batch file", ["append", "--batch", "/nonexistent/batch.ndjson"], nil, 66),
        ("no such event", ["show", "999"], nil, 66),
        ("expected version", ["append", "--type", "project.construction_started", "--stream", "project/medela", "--expected-version", "0", "--data", "{}"], nil, 75),
        ("id reused", ["append", "--type", "project.completed", "--stream", "project/medela", "--id", "medela-signed", "--data", "{}"], nil, 75),
    ]

    @Test(arguments: cases.indices)
    func badInputGetsItsExitCodeAndChangesNothing(index: Int) throws {
        let testCase = Self.cases[index]
        let before = try CLI.run(["stats", "--json", "--ledger", ledger]).stdout
        let result = try CLI.run(testCase.arguments + ["--ledger", ledger], stdin: testCase.stdin)
        #expect(result.status == testCase.status, "\(testCase.name): \(result.stderr)")
        let message = result.stderr.trimmingCharacters(in: .newlines)
        #expect(!message.isEmpty, "\(testCase.name) says nothing")
        if testCase.status != 64 {
            #expect(!message.contains("\n"), "\(testCase.name): more than one line: \(message)")
        }
        #expect(try CLI.run(["stats", "--json", "--ledger", ledger]).stdout == before, "\(testCase.name) changed the ledger")
    }

    @Test func batchErrorsNameTheLine() throws {
        let result = try CLI.run(["append", "--ledger", ledger, "--batch", "-"],
                                 stdin: "{\"type\":\"road.delivered\",\"stream\":\"road/x\",\"data\":{\"name\":{\"zh\":\"路\"}}}\n\n{\"type\":\"road.delivered\",\"stream\":\"road/x\"}\n")
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 3: missing required field 'data'"))
    }

    @Test func appendingToAMissingLedgerIsNotFound() throws {
        let result = try CLI.run(["append", "--ledger", dir.path + "/elsewhere", "--type", "road.delivered",
                                  "--stream", "road/x", "--data", Self.road])
        #expect(result.status == 66)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/elsewhere"))
    }

    /// A batch is prepared while the ledger opens: a bad line is still what is reported, for
    /// a ledger that is missing (65, not 66) and for one to be created (which is then not).
    /// The batch is big enough to be prepared in chunks, its bad line in the last one.
    @Test(arguments: [false, true])
    func aBadBatchIsInvalidInputEvenWhereThereIsNoLedger(create: Bool) throws {
        let good = #"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}}}"#
        let batch = Array(repeating: good, count: 5_000).joined(separator: "\n") + "\n" + #"{"type":"road.delivered","stream":"road/x"}"#
        let result = try CLI.run(["append", "--ledger", dir.path + "/elsewhere", "--batch", "-"] + (create ? ["--create"] : []), stdin: batch)
        #expect(result.status == 65)
        #expect(result.stderr == "civic-ledger: line 5001: missing required field 'data'\n")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/elsewhere"))
    }

    @Test func helpDocumentsTheExitCodes() throws {
        let help = try CLI.run(["--help"]).stdout
        for code in ["64", "65", "66", "74", "75"] { #expect(help.contains("  \(code)  ")) }
    }
}
