import Foundation
import Testing
import TestSupport

@Suite struct ProjectionCommandTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    static func roads(_ range: Range<Int>, prefix: String) -> String {
        range.map { n in
            #"{"id":"\#(prefix)-\#(n)","type":"road.delivered","stream":"road/\#(prefix)-\#(n % 50)","effective":"2021-\#(String(format: "%02d", 1 + n % 12))-15","data":{"name":{"zh":"路\#(n)"},"lengthM":\#(100 + n)}}"#
        }.joined(separator: "\n")
    }

    @Test func theZoneDataAnswersTheQueries() throws {
        let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("tools/data/xiangcheng-2021-2022.ndjson").path
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", data]).status == 0)
        let projects = try CLI.jsonLines(try CLI.run(["projects", "--json", "--ledger", ledger]).stdout)
        #expect(projects.count == 6)
        #expect(projects.contains { ($0["investor"] as? [String: Any])?["zh"] as? String == "八维通" && $0["signed"] as? String == "2022-01-14" })
        let years = try CLI.jsonLines(try CLI.run(["summary", "--json", "--ledger", ledger]).stdout)
        let y2021 = try #require(years.first { $0["year"] as? Int == 2021 })
        #expect(y2021["projectsSigned"] as? Int == 5 && y2021["roadsDelivered"] as? Int == 2 && y2021["housingUnitsHandedOver"] as? Int == 2312)
        let indicators = try CLI.jsonLines(try CLI.run(["indicators", "--json", "--ledger", ledger]).stdout)
        #expect(indicators.contains { $0["metric"] as? String == "gdp" && $0["period"] as? String == "2022" && $0["target"] != nil })
        let history = try CLI.run(["history", "road/xujiaguan", "--ledger", ledger])
        #expect(history.status == 0 && history.stdout.contains("road.delivered"))
        let table = try CLI.run(["projects", "--ledger", ledger]).stdout
        // CJK names take two columns each: the column after them still lines up.
        let lines = table.split(separator: "\n").filter { $0.contains("八维通") || $0.contains("美德乐") }
        #expect(lines.count == 2)
    }

    @Test func aRebuildWhileAnotherProcessAppendsIncludesEverything() async throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: Self.roads(0..<3000, prefix: "a")).status == 0)
        let ledger = self.ledger
        async let rebuild = Task.detached { try CLI.run(["rebuild", "--all", "--ledger", ledger]) }.value
        async let appends = Task.detached { () -> [Int32] in
            try (0..<10).map { batch in
                try CLI.run(["append", "--ledger", ledger, "--batch", "-"], stdin: Self.roads(batch * 20..<(batch + 1) * 20, prefix: "b")).status
            }
        }.value
        let (rebuilt, appended) = try await (rebuild, appends)
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(appended.allSatisfy { $0 == 0 })
        let projections = try CLI.jsonLines(try CLI.run(["projections", "--json", "--ledger", ledger]).stdout)
        #expect(projections.allSatisfy { $0["stale"] as? Bool == false && $0["appliedSeq"] as? Int == 3200 })
        let before = try CLI.run(["summary", "--json", "--ledger", ledger]).stdout
        #expect(try CLI.run(["rebuild", "--all", "--ledger", ledger]).status == 0)
        #expect(try CLI.run(["summary", "--json", "--ledger", ledger]).stdout == before)
        let roads = try CLI.jsonLines(before).reduce(0) { $0 + ($1["roadsDelivered"] as? Int ?? 0) }
        #expect(roads == 100)  // 50 streams of a- and 50 of b-
    }

    @Test func aStaleProjectionRefusesUntilRebuilt() throws {
        // Drop the projection registry, as if an older program had written the ledger.
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", "-"], stdin: Self.roads(0..<10, prefix: "a")).status == 0)
        let script = """
            import ctypes, sys
            lib = ctypes.CDLL("liblmdb.so.0")
            env = ctypes.c_void_p(); txn = ctypes.c_void_p(); dbi = ctypes.c_uint()
            lib.mdb_env_create(ctypes.byref(env)); lib.mdb_env_set_maxdbs(env, 32)
            assert lib.mdb_env_open(env, sys.argv[1].encode(), 0, 0o600) == 0
            assert lib.mdb_txn_begin(env, None, 0, ctypes.byref(txn)) == 0
            assert lib.mdb_dbi_open(txn, b"projections", 0, ctypes.byref(dbi)) == 0
            assert lib.mdb_drop(txn, dbi, 1) == 0
            assert lib.mdb_txn_commit(txn) == 0
            """
        let python = try Process.run(URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", "-c", script, ledger])
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        let refused = try CLI.run(["summary", "--ledger", ledger])
        #expect(refused.status == 69 && refused.stderr.contains("rebuild"))
        let auto = try CLI.run(["summary", "--json", "--auto-rebuild", "--ledger", ledger])
        #expect(auto.status == 0)
        #expect(try CLI.run(["summary", "--ledger", ledger]).status == 0)
    }
}
