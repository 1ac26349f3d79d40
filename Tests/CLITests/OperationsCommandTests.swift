import Foundation
import Testing
import TestSupport

/// What operators do: back up while appends run, move a ledger by export and import, keep
/// files private, and read a ledger without write access.
@Suite struct OperationsCommandTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }
    static let zoneData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("tools/data/xiangcheng-2021-2022.ndjson").path

    private func stats(_ path: String) throws -> [String: Any] {
        try CLI.jsonLines(try CLI.run(["stats", "--json", "--ledger", path]).stdout)[0]
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func anExportImportsIntoALedgerWithTheSameHeadAndProjections() throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", Self.zoneData]).status == 0)
        let export = try CLI.run(["export", "--json", "--ledger", ledger])
        #expect(export.status == 0 && export.stdout.split(separator: "\n").count == 49)
        let copy = dir.path + "/imported"
        let imported = try CLI.run(["import", "-", "--json", "--ledger", copy], stdin: export.stdout)
        #expect(imported.status == 0, "\(imported.stderr)")
        let original = try stats(ledger), moved = try stats(copy)
        #expect(moved["headHash"] as? String == original["headHash"] as? String && moved["events"] as? Int == 49)
        #expect(try CLI.run(["log", "--json", "--ledger", copy]).stdout == export.stdout)
        #expect(try CLI.run(["summary", "--json", "--ledger", copy]).stdout == (try CLI.run(["summary", "--json", "--ledger", ledger]).stdout))
        // Never into a ledger that exists.
        let again = try CLI.run(["import", "-", "--ledger", copy], stdin: export.stdout)
        #expect(again.status == 65 && again.stderr.contains("already holds a ledger"))
    }

    @Test(arguments: ["altered", "missing", "forked", "garbage"])
    func importRefusesABrokenExportAndLeavesNothing(_ damage: String) throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", Self.zoneData]).status == 0)
        var lines = try CLI.run(["export", "--ledger", ledger]).stdout.split(separator: "\n").map(String.init)
        var expected: Int32 = 1
        switch damage {
        case "altered": lines[9] = lines[9].replacingOccurrences(of: "\"actor\":\"", with: "\"actor\":\"x")
        case "missing": lines.remove(at: 20)
        case "forked": lines[0] = lines[0].replacingOccurrences(of: String(repeating: "0", count: 64), with: String(repeating: "1", count: 64))
        default:
            lines[30] = "{\"id\":\"x\""
            expected = 65
        }
        let target = dir.path + "/target"
        let result = try CLI.run(["import", "-", "--ledger", target], stdin: lines.joined(separator: "\n"))
        #expect(result.status == expected, "\(damage): \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: target), "a refused import leaves no ledger behind")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains("importing") })
    }

    @Test func aBackupTakenWhileAppendsRunVerifiesAndMatchesItsCheckpoint() throws {
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        let key = dir.path + "/zone.key", pub = dir.path + "/zone.pub"
        #expect(try CLI.run(["keys", "generate", "--private-key", key, "--public-key", pub]).status == 0)
        // A writer appending batches the whole time.
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", """
            i=0; while [ $i -lt 60 ]; do
              seq 1 200 | sed "s/.*/{\\"id\\":\\"w$i-&\\",\\"type\\":\\"road.delivered\\",\\"stream\\":\\"road\\/r&\\",\\"data\\":{\\"name\\":{\\"zh\\":\\"路\\"}}}/" \
                | '\(CLI.binary)' append --ledger '\(ledger)' --batch - >/dev/null || exit 1
              i=$((i+1)); done
            """]
        try writer.run()
        Thread.sleep(forTimeInterval: 0.3)
        let backup = dir.path + "/backup"
        let result = try CLI.run(["backup", backup, "--key", key, "--json", "--ledger", ledger])
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try CLI.jsonLines(result.stdout)[0]
        let headSeq = try #require(report["headSeq"] as? Int)
        #expect(headSeq > 0 && headSeq % 200 == 0, "a backup holds whole batches")
        #expect(try CLI.run(["verify", "--ledger", backup]).status == 0)
        let checkpoint = backup + "/checkpoint.json"
        for path in [backup, ledger] {
            #expect(try CLI.run(["verify", "--checkpoint", checkpoint, "--public-key", pub, "--ledger", path]).status == 0)
        }
        // The copy is the live ledger's prefix.
        let live = try CLI.run(["log", "--json", "--limit", String(headSeq), "--ledger", ledger]).stdout
        #expect(try CLI.run(["log", "--json", "--ledger", backup]).stdout == live)
        #expect(try mode(backup + "/data.mdb") == 0o600)
        // Never over an existing ledger.
        #expect(try CLI.run(["backup", backup, "--ledger", ledger]).status == 65)
    }

    @Test func ledgerFilesAreTheOwnersUnlessGroupReadableIsAsked() throws {
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        #expect(try mode(ledger) == 0o700)
        #expect(try mode(ledger + "/data.mdb") == 0o600 && mode(ledger + "/lock.mdb") == 0o600)
        let shared = dir.path + "/shared"
        #expect(try CLI.run(["init", "--group-readable", "--ledger", shared]).status == 0)
        #expect(try mode(shared) == 0o750)
        #expect(try mode(shared + "/data.mdb") == 0o640 && mode(shared + "/lock.mdb") == 0o660)
        #expect(try CLI.run(["backup", dir.path + "/shared-copy", "--ledger", shared]).status == 0)
        #expect(try mode(dir.path + "/shared-copy/data.mdb") == 0o640)
    }

    @Test func readOnlyRefusesEveryWritingCommandAndServesReaders() throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", Self.zoneData]).status == 0)
        let before = try stats(ledger)
        let writing: [[String]] = [
            ["append", "--type", "road.delivered", "--stream", "road/x", "--data", #"{"name":{"zh":"路"}}"#],
            ["append", "--batch", Self.zoneData], ["init"], ["rebuild", "--all"], ["audit", "snapshot"],
            ["summary", "--auto-rebuild"],
            // Refused before the input is read: not 66 for the missing file.
            ["append", "--batch", dir.path + "/missing.ndjson"], ["import", dir.path + "/missing.ndjson"],
        ]
        for arguments in writing {
            let result = try CLI.run(arguments + ["--read-only", "--ledger", ledger])
            #expect(result.status == 77 && result.stderr.contains("--read-only"), "\(arguments)")
        }
        #expect(try stats(ledger)["headHash"] as? String == before["headHash"] as? String)
        for arguments in [["log"], ["verify"], ["stats"], ["summary"], ["audit", "--as-of", "2022-12-31"], ["export"]] {
            #expect(try CLI.run(arguments + ["--read-only", "--ledger", ledger]).status == 0, "\(arguments)")
        }
    }

    /// An auditor's copy on a read-only file system: reading and verifying work.
    @Test(.enabled(if: TmpfsMount.available, "needs root to mount a tmpfs"))
    func aCopyOnAReadOnlyFileSystemCanBeReadAndVerified() throws {
        #expect(try CLI.run(["append", "--ledger", ledger, "--create", "--batch", Self.zoneData]).status == 0)
        let disk = try #require(TmpfsMount(megabytes: 8))
        let copy = disk.path + "/copy"
        #expect(try CLI.run(["backup", copy, "--ledger", ledger]).status == 0)
        unlink(copy + "/lock.mdb")
        try #require(disk.remountReadOnly())
        #expect(try CLI.run(["verify", "--read-only", "--ledger", copy]).status == 0)
        #expect(try CLI.run(["log", "--ledger", copy]).stdout.split(separator: "\n").count == 49)
        let refused = try CLI.run(["append", "--ledger", copy, "--type", "road.delivered", "--stream", "road/x", "--data", #"{"name":{"zh":"路"}}"#])
        #expect(refused.status == 74 || refused.status == 77, "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
    }
}
