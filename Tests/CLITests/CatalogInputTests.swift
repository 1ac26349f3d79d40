import Foundation
import Testing
import TestSupport

/// For every type in the catalog, bad data is refused with exit 65 before anything is
/// written; so are the general bad inputs.
@Suite struct CatalogInputTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    /// Each type's first example, from the catalog the binary carries.
    private func examples() throws -> [(type: String, data: [String: Any], required: [String], properties: [String])] {
        try CLI.jsonLines(try CLI.run(["schema", "list", "--json"]).stdout).map { entry in
            let type = entry["type"] as! String
            let schema = try CLI.jsonLines(try CLI.run(["schema", "show", type, "--json"]).stdout)[0]
            let example = (schema["examples"] as! [[String: Any]])[0]
            return (type, example, schema["required"] as? [String] ?? [], ((schema["properties"] as? [String: Any]) ?? [:]).keys.sorted())
        }
    }

    private func line(_ type: String, _ data: [String: Any], extra: [String: Any] = [:]) throws -> Data {
        var event: [String: Any] = ["type": type, "stream": "test/" + type.replacingOccurrences(of: ".", with: "-"), "data": data]
        for (key, value) in extra { event[key] = value }
        return try JSONSerialization.data(withJSONObject: event)
    }

    @Test func badDataForEveryTypeIsInvalidInputAndWritesNothing() throws {
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        var cases: [(String, Data)] = []
        for (type, example, required, properties) in try examples() {
            if let field = required.first {
                var missing = example
                missing[field] = nil
                cases.append(("\(type): missing \(field)", try line(type, missing)))
            }
            if let field = required.first ?? properties.first {
                var wrong = example
                wrong[field] = [true]
                cases.append(("\(type): \(field) of the wrong type", try line(type, wrong)))
            }
            var unknown = example
            unknown["bogusField"] = 1
            cases.append(("\(type): unknown field", try line(type, unknown)))
        }
        let road: [String: Any] = ["name": ["zh": "徐家观路"]]
        cases += [
            ("negative units", try line("housing.batch_handed_over", ["estate": ["zh": "安置房"], "units": -3])),
            ("zero units", try line("housing.batch_handed_over", ["estate": ["zh": "安置房"], "units": 0])),
            ("amount as a float", try line("project.signed", ["investor": ["zh": "美德乐"], "sector": "medical_devices", "totalInvestmentCny": 1_200_000_000.5])),
            ("unknown sector", try line("project.signed", ["investor": ["zh": "美德乐"], "sector": "tourism"])),
            ("impossible date", try line("road.delivered", road, extra: ["effective": "2021-02-30"])),
            ("impossible target period", try line("target.set", ["metric": "gdp", "period": "2022-13", "comparator": ">=", "value": 6, "unit": "percent", "basis": "yoy"])),
            ("unknown type", try line("project.teleported", road)),
            ("unknown schema version", try line("road.delivered", road, extra: ["schemaVersion": 7])),
            ("10 MB payload", try line("road.delivered", ["name": ["zh": String(repeating: "路", count: 3_500_000)]])),
            ("invalid UTF-8", Data(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":""#.utf8) + Data([0xC3, 0x28]) + Data(#""}}}"#.utf8)),
            ("correction of an event the ledger does not hold", try line("event.corrected", ["target": ["id": "nowhere"], "data": road, "reason": "test"])),
        ]
        let before = try CLI.run(["stats", "--json", "--ledger", ledger]).stdout
        for (name, input) in cases {
            let result = try CLI.run(["append", "--ledger", ledger, "--batch", "-"], input: input + Data("\n".utf8))
            #expect(result.status == 65, "\(name): exit \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("civic-ledger: line 1: "), "\(name): \(result.stderr)")
        }
        #expect(try CLI.run(["stats", "--json", "--ledger", ledger]).stdout == before)
    }

    @Test func errorsNameTheLineThePointerAndTheRule() throws {
        let batch = """
            {"type":"road.delivered","stream":"road/a","data":{"name":{"zh":"徐家观路"}}}
            {"type":"housing.batch_handed_over","stream":"housing/a","data":{"estate":{"zh":"安置房"},"units":2.5}}
            """
        let result = try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: batch)
        #expect(result.status == 65)
        #expect(result.stderr == "civic-ledger: line 2: data/units: must be integer, not a number (type)\n")
        #expect(!FileManager.default.fileExists(atPath: ledger), "nothing may be written, not even the ledger")
    }

    @Test func version1OfProjectSignedIsAppendableByFlagAndReadable() throws {
        let v1 = #"{"investor":{"zh":"美德乐","en":"Medela"},"sector":"medical_devices","origin":"CH","foreignCapitalUsd":30000000}"#
        // Without the flag the current version (2) applies, which has no foreignCapitalUsd.
        let refused = try CLI.run(["append", "--ledger", ledger, "--create", "--type", "project.signed", "--stream", "project/medela", "--data", v1])
        #expect(refused.status == 65 && refused.stderr.contains("foreignCapitalUsd"))
        #expect(!FileManager.default.fileExists(atPath: ledger), "a refused append must not create the ledger")
        let accepted = try CLI.run(["append", "--ledger", ledger, "--create", "--type", "project.signed", "--stream", "project/medela",
                                    "--schema-version", "1", "--data", v1])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let shown = try CLI.jsonLines(try CLI.run(["show", "1", "--json", "--ledger", ledger]).stdout)[0]
        #expect(shown["schemaVersion"] as? Int == 1)
    }

    @Test func correctionsMustStayInTheStreamOfWhatTheyCorrectAndFitItsSchema() throws {
        let road = #"{"id":"r1","type":"road.delivered","stream":"road/xujiaguan","data":{"name":{"zh":"徐家观路"}}}"#
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: road).status == 0)
        let elsewhere = try CLI.run(["append", "--ledger", ledger, "--type", "event.corrected", "--stream", "road/other",
                                     "--data", #"{"target":{"id":"r1"},"data":{"name":{"zh":"徐家观路"}},"reason":"x"}"#])
        #expect(elsewhere.status == 65 && elsewhere.stderr.contains("road/xujiaguan"))
        let badData = try CLI.run(["append", "--ledger", ledger, "--type", "event.corrected", "--stream", "road/xujiaguan",
                                   "--data", #"{"target":{"seq":1},"data":{"lengthM":-1},"reason":"x"}"#])
        #expect(badData.status == 65 && badData.stderr.contains("data/data"))
        let good = try CLI.run(["append", "--ledger", ledger, "--type", "event.corrected", "--stream", "road/xujiaguan",
                                "--data", #"{"target":{"seq":1},"data":{"name":{"zh":"徐家观路"},"lengthM":2300},"reason":"surveyed"}"#])
        #expect(good.status == 0, "\(good.stderr)")
        let retractCorrection = try CLI.run(["append", "--ledger", ledger, "--type", "event.retracted", "--stream", "road/xujiaguan",
                                             "--data", #"{"target":{"seq":2},"reason":"x"}"#])
        #expect(retractCorrection.status == 65)
    }

    @Test func schemaValidateChecksFilesWithTheSameValidator() throws {
        let good = dir.path + "/good.json", bad = dir.path + "/bad.json", schema = dir.path + "/schema.json"
        try #"{"name":{"zh":"徐家观路"},"lengthM":10}"#.write(toFile: good, atomically: true, encoding: .utf8)
        try #"{"name":{},"lengthM":"long"}"#.write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["schema", "validate", "--type", "road.delivered", good]).status == 0)
        let result = try CLI.run(["schema", "validate", "--type", "road.delivered", good, bad, "--json"])
        #expect(result.status == 1)
        let reports = try CLI.jsonLines(result.stdout)
        #expect(reports.map { $0["valid"] as? Bool } == [true, false])
        let pointers = (reports[1]["errors"] as? [[String: Any]])?.compactMap { $0["pointer"] as? String }
        #expect(pointers == ["/lengthM", "/name"])
        try #"{"type":"object","multipleOf":3}"#.write(toFile: schema, atomically: true, encoding: .utf8)
        let unsupported = try CLI.run(["schema", "validate", "--schema", schema, good])
        #expect(unsupported.status == 65 && unsupported.stderr.contains("multipleOf"))
    }
}
