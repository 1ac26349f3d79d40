import Foundation
import LedgerCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted for one test: a disk that really fills up. Needs root.
final class TmpfsMount {
    let path: String
    private let dir = TemporaryDirectory()
    private var mounted = false

    init?(megabytes: Int) {
        path = dir.path + "/disk"
        guard mkdir(path, 0o700) == 0 else { return nil }
        guard Glibc.mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else { return nil }
        mounted = true
    }

    /// Grows (or shrinks) the file system in place, keeping its files.
    func resize(megabytes: Int) -> Bool {
        Glibc.mount("tmpfs", path, "tmpfs", UInt(MS_REMOUNT), "size=\(megabytes)m,mode=0700") == 0
    }

    /// Makes the file system read-only, keeping its files.
    func remountReadOnly() -> Bool {
        Glibc.mount("tmpfs", path, "tmpfs", UInt(MS_REMOUNT | MS_RDONLY), "mode=0700") == 0
    }

    func unmount() {
        guard mounted else { return }
        if umount(path) != 0 { umount2(path, Int32(MNT_DETACH)) }
        mounted = false
    }

    deinit { unmount() }

    /// True when this process may mount a tmpfs (root, and a trial mount works).
    static let available: Bool = {
        guard geteuid() == 0, let probe = TmpfsMount(megabytes: 1) else { return false }
        probe.unmount()
        return true
    }()

    /// Writes zeros to `file` until the disk is full (or `megabytes` are written).
    @discardableResult
    func fill(_ file: String, megabytes: Int = .max) -> Int {
        let fd = open(path + "/" + file, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 64 << 10)
        var written = 0
        while written < megabytes << 20 {
            let count = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            written += count
        }
        return written
    }

    var freeBytes: Int {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return 0 }
        return Int(status.f_bfree) * Int(status.f_frsize)
    }
}

/// A disk that fills up: an append that does not fit fails with exit 74 and one line saying
/// the disk is full, writes nothing, leaves every reading command working, and succeeds once
/// there is room again. The map grows by itself until the disk, not the map, is the limit.
@Suite(.enabled(if: TmpfsMount.available, "needs root to mount a tmpfs"))
struct FullDiskTests {
    /// `count` valid events of about 5 KB each (actor, source and reason near their limits).
    static func batch(_ tag: String, count: Int) -> String {
        let actor = String(repeating: "a", count: 1000), source = String(repeating: "s", count: 1000)
        let reason = String(repeating: "理", count: 1000)
        return (0..<count).map { i in
            #"{"id":"\#(tag)-\#(i)","type":"project.cancelled","stream":"project/p\#(i % 7)","actor":"\#(actor)","source":"\#(source)","data":{"reason":"\#(reason)"}}"#
        }.joined(separator: "\n") + "\n"
    }

    static func headSeq(_ ledger: String) throws -> Int {
        let stats = try CLI.run(["stats", "--json", "--ledger", ledger])
        try #require(stats.status == 0, "stats: \(stats.stderr)")
        return try #require(CLI.jsonLines(stats.stdout).first?["headSeq"] as? Int)
    }

    /// Everything that reads must still work, and the chain still verify.
    static func expectReadable(_ ledger: String, head: Int) throws {
        let verify = try CLI.run(["verify", "--ledger", ledger])
        #expect(verify.status == 0, "verify: \(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("intact: \(head) events"))
        let log = try CLI.run(["log", "--json", "--ledger", ledger])
        #expect(log.status == 0, "log: \(log.stderr)")
        #expect(log.stdout.split(separator: "\n").count == head)
        let stats = try CLI.run(["stats", "--ledger", ledger])
        #expect(stats.status == 0, "stats: \(stats.stderr)")
        #expect(try headSeq(ledger) == head)
    }

    static func expectDiskFullMessage(_ result: CLI.Result, _ what: String) {
        #expect(result.status == 74, "\(what): exit \(result.status): \(result.stderr)")
        #expect(result.stderr.hasPrefix("civic-ledger: ") && result.stderr.hasSuffix("\n"), "\(what): \(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(what): not one line: \(result.stderr)")
        #expect(result.stderr.contains("disk is full"), "\(what): does not say the disk is full: \(result.stderr)")
    }

    @Test func aFullDiskFailsTheAppendCleanlyAndFreeingSpaceLetsItThrough() throws {
        let disk = try #require(TmpfsMount(megabytes: 10))
        defer { disk.unmount() }
        let ledger = disk.path + "/ledger"
        #expect(try CLI.run(["init", "--ledger", ledger]).status == 0)
        // Room to give back later.
        disk.fill("filler", megabytes: 2)

        var head = 0
        var failed: (batch: String, result: CLI.Result)?
        for round in 0..<40 {
            let batch = Self.batch("r\(round)", count: 150)
            let result = try CLI.run(["append", "--batch", "-", "--ledger", ledger], stdin: batch)
            if result.status != 0 {
                failed = (batch, result)
                break
            }
            head += 150
            #expect(try Self.headSeq(ledger) == head)
        }
        let (batch, result) = try #require(failed, "10 MB took 40 batches of 750 KB")
        #expect(head > 0, "not even the first batch fitted")
        Self.expectDiskFullMessage(result, "append on a full disk")
        #expect(result.stdout.isEmpty)
        // Nothing of the failed batch is there, and everything still reads.
        try Self.expectReadable(ledger, head: head)

        // Fill the disk to the last byte: reading still works, and a new ledger (whose lock
        // file LMDB would map with no block behind it) fails with exit 74, not a crash.
        disk.fill("filler-2")
        try Self.expectReadable(ledger, head: head)
        let other = try CLI.run(["init", "--ledger", disk.path + "/other"])
        Self.expectDiskFullMessage(other, "init on a full disk")
        let single = try CLI.run(["append", "--create", "--ledger", disk.path + "/third", "--type", "project.cancelled",
                                  "--stream", "project/x", "--data", #"{"reason":"none"}"#])
        Self.expectDiskFullMessage(single, "append --create on a full disk")
        #expect(!FileManager.default.fileExists(atPath: disk.path + "/other/data.mdb"))

        // Room again: the same batch goes through, and the ledger is intact.
        try FileManager.default.removeItem(atPath: disk.path + "/filler")
        try FileManager.default.removeItem(atPath: disk.path + "/filler-2")
        let retry = try CLI.run(["append", "--batch", "-", "--ledger", ledger], stdin: batch)
        #expect(retry.status == 0, "after freeing space: \(retry.stderr)")
        try Self.expectReadable(ledger, head: head + 150)
        #expect(try CLI.run(["init", "--ledger", disk.path + "/other"]).status == 0)
    }

    @Test func theMapGrowsUntilTheDiskIsTheLimitAndTheLedgerLivesOnInTheSameProcess() throws {
        let disk = try #require(TmpfsMount(megabytes: 12))
        defer { disk.unmount() }
        let path = disk.path + "/ledger"
        let initialMap = 1 << 20
        var options = Ledger.Options(create: true)
        options.initialMapSize = initialMap
        let ledger = try Ledger.open(path, options: options)

        func append(_ tag: String) throws(LedgerError) -> Int {
            let bytes = Array(Self.batch(tag, count: 100).utf8)
            let prepared = try bytes.withUnsafeBufferPointer { buffer throws(LedgerError) in try EventBatch.prepare(buffer) }
            return try ledger.append(prepared: prepared).count
        }

        var appended = 0
        var failure: LedgerError?
        for round in 0..<60 {
            do { appended += try append("g\(round)") } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure, "12 MB took 60 batches of 500 KB")
        #expect(error.kind == .storage)
        #expect(error.message.contains("disk is full"), "\(error)")
        let stats = try ledger.statistics()
        #expect(stats.events == appended)
        // The map grew by itself, far past where it started, and the file with it: the disk
        // stopped the ledger, not the map.
        #expect(stats.mapSize >= 8 * initialMap, "map \(stats.mapSize)")
        #expect(stats.fileSize >= 8 * initialMap, "data.mdb \(stats.fileSize)")
        #expect(disk.freeBytes < 1 << 20)

        // The failed commit left the environment usable: after the disk grows, the same
        // ledger object appends again, and the chain verifies.
        #expect(disk.resize(megabytes: 24))
        appended += try append("after")
        let report = try ledger.verify()
        #expect(report.isIntact, "\(report.problem.map(String.init(describing:)) ?? "")")
        #expect(report.events == appended)
    }
}
