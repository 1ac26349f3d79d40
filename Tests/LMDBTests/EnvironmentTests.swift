import CLMDB
import Foundation
import Glibc
import Testing
@testable import LMDB
import TestSupport

@Suite struct EnvironmentTests {
    private func open(_ dir: TemporaryDirectory, mapSize: Int = 1 << 20) throws -> Environment {
        var options = Environment.Options()
        options.initialMapSize = mapSize
        return try Environment.open(path: dir.path, options: options)
    }

    @Test func writesAndReadsBackBigEndianKeysInOrder() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        let db = try env.openDatabase(named: "numbers", create: true)
        try env.write { txn in
            for n: UInt64 in [1, 256, 2, 65_536] {
                try n.withBigEndianBytes { key in try txn.put(db, key: key, value: key) }
            }
        }
        let keys = try env.read { txn in
            try txn.withCursor(db) { cursor -> [UInt64] in
                var keys: [UInt64] = []
                var entry = try cursor.first()
                while let current = entry {
                    keys.append(UInt64(bigEndianBytes: current.key)!)
                    entry = try cursor.next()
                }
                return keys
            }
        }
        #expect(keys == [1, 2, 256, 65_536])
    }

    /// A cursor refuses to step to a key that does not come after the one it is on (a damaged
    /// file can link its pages in a loop). LMDB's reverse-key order stands in for the damage:
    /// its keys come back out of byte order. Seq-sized keys take a word compare, others memcmp.
    @Test(arguments: [[[0, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0, 1]], [[1, 0], [0, 1]]] as [[[UInt8]]])
    func aCursorStopsWhereKeysGoBackwards(keys: [[UInt8]]) throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        let db = try env.write { txn -> Database in
            var dbi: MDB_dbi = 0
            try check(mdb_dbi_open(txn.txn, "reversed", UInt32(MDB_CREATE | MDB_REVERSEKEY), &dbi), "mdb_dbi_open", context: "reversed")
            let db = Database(name: "reversed", dbi: dbi)
            for key in keys { try key.withUnsafeBytes { try txn.put(db, key: $0, value: $0) } }
            return db
        }
        #expect(throws: LMDBError.self) {
            try env.read { txn in
                try txn.withCursor(db) { cursor in
                    var entry = try cursor.first()
                    while entry != nil { entry = try cursor.next() }
                }
            }
        }
        // Read backwards, the same keys do not move backwards either.
        #expect(throws: LMDBError.self) {
            try env.read { txn in
                try txn.withCursor(db) { cursor in
                    var entry = try cursor.last()
                    while entry != nil { entry = try cursor.previous() }
                }
            }
        }
    }

    @Test func mapGrowsFromATinyMapAndKeepsEveryWrite() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir, mapSize: 64 << 10)
        let db = try env.openDatabase(named: "blobs", create: true)
        let value = [UInt8](repeating: 0xAB, count: 4000)
        // 2,000 × 4 KB in one transaction: far past a 64 KiB map.
        try env.write { txn in
            for n: UInt64 in 1...2000 {
                try n.withBigEndianBytes { key in try value.withUnsafeBytes { try txn.put(db, key: key, value: $0, options: .append) } }
            }
        }
        #expect(env.mapGrowths > 0)
        #expect(env.info.mapSize > 8_000_000)
        let count = try env.read { try $0.statistics(db).entries }
        #expect(count == 2000)
        let last = try env.read { txn in try txn.get(db, key: 2000).map(Array.init) }
        #expect(last == value)
    }

    /// Ascending puts take MDB_APPEND only past the database's last key: LMDB refuses an
    /// append of a key that sorts before it, so one taken too early fails the write.
    @Test func ascendingPutsLandBeforeAmongAndAfterTheKeysThere() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        let db = try env.openDatabase(named: "names", create: true)
        func put(_ keys: [String], ascending: Bool) throws {
            try env.write { txn in
                try txn.withCursor(db) { cursor in
                    for key in keys {
                        try Array(key.utf8).withUnsafeBytes { key in
                            if ascending { try cursor.putAscending(key: key, value: key) } else { try cursor.put(key: key, value: key) }
                        }
                    }
                }
            }
        }
        try put(["b", "d", "dd"], ascending: false)
        try put(["a", "c", "d", "da", "dd", "de", "e", "f"], ascending: true)
        let keys = try env.read { txn in
            try txn.withCursor(db) { cursor -> [String] in
                var keys: [String] = []
                var entry = try cursor.first()
                while let current = entry {
                    keys.append(String(decoding: current.key, as: UTF8.self))
                    entry = try cursor.next()
                }
                return keys
            }
        }
        #expect(keys == ["a", "b", "c", "d", "da", "dd", "de", "e", "f"])
        // Into an empty database every put appends.
        let empty = try env.openDatabase(named: "empty", create: true)
        try env.write { txn in
            try txn.withCursor(empty) { cursor in
                for n: UInt64 in 1...3 { try n.withBigEndianBytes { try cursor.putAscending(key: $0, value: $0) } }
            }
        }
        #expect(try env.read { try $0.statistics(empty).entries } == 3)
    }

    /// A cursor's reserving put hands out room of the size asked for under the key given; with
    /// `.append` it takes keys in order and refuses one that does not sort after the last.
    @Test func aCursorReservesRoomForAValueAndAppends() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        let db = try env.openDatabase(named: "records", create: true)
        try env.write { txn in
            try txn.withCursor(db) { cursor in
                for n: UInt64 in 1...2_000 {
                    try n.withBigEndianBytes { key in
                        try cursor.put(key: key, reserving: Int(n % 300) + 1, options: .append) { room in
                            #expect(room.count == Int(n % 300) + 1)
                            for i in room.indices { room[i] = UInt8(truncatingIfNeeded: n &+ UInt64(i)) }
                        }
                    }
                }
                let error = #expect(throws: LMDBError.self) {
                    try UInt64(7).withBigEndianBytes { try cursor.put(key: $0, reserving: 4, options: .append) { _ in } }
                }
                #expect(error?.code == MDB_KEYEXIST)
            }
        }
        try env.read { txn in
            #expect(try txn.statistics(db).entries == 2_000)
            for n: UInt64 in [1, 299, 300, 1_000, 2_000] {
                let stored = try txn.get(db, key: n).map(Array.init)
                #expect(stored == (0..<(Int(n % 300) + 1)).map { UInt8(truncatingIfNeeded: n &+ UInt64($0)) })
            }
        }
    }

    @Test func aBigCommitStartsItsDiskWritesEarlyAndKeepsEveryWrite() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        env.waitsForEarlyWriteback = true
        let db = try env.openDatabase(named: "blobs", create: true)
        let value = [UInt8](repeating: 0xCD, count: 4000)
        // A small commit goes as LMDB makes it.
        try env.write { txn in try UInt64(0).withBigEndianBytes { try txn.put(db, key: $0, value: $0) } }
        #expect(env.earlyWritebackRequests == 0)
        // Past the threshold (through cursor puts too), the helper asks the kernel beside the
        // commit, and the kernel takes the request.
        let count = EarlyWriteback.threshold / value.count + 1
        try env.write { txn in
            try txn.withCursor(db) { cursor in
                for n in 1...UInt64(count) {
                    try n.withBigEndianBytes { key in try value.withUnsafeBytes { try cursor.put(key: key, value: $0, options: .append) } }
                }
            }
        }
        #expect(env.earlyWritebackRequests >= 1)
        #expect(try env.read { try $0.statistics(db).entries } == count + 1)
        #expect(try env.read { txn in try txn.get(db, key: UInt64(count)).map(Array.init) } == value)
    }

    /// Announced big writes: from `threshold` on the data file's next blocks are reserved (its
    /// size stays what LMDB wrote); from `spillingTransaction` on the disk is also started with
    /// the transaction, before anything big is put (these bodies put 8 bytes, so a helper
    /// started at the commit would not be). Where the file system cannot reserve blocks (the
    /// probe says so), only the sizes are checked.
    @Test func aWriteAnnouncedAsBigReservesBlocksAndStartsTheDiskEarlyWhenLMDBWillSpill() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        env.waitsForEarlyWriteback = true
        let db = try env.openDatabase(named: "blobs", create: true)
        func sizes() throws -> (size: Int, allocated: Int) {
            var status = stat()
            try #require(stat(dir.path + "/data.mdb", &status) == 0)
            return (Int(status.st_size), Int(status.st_blocks) * 512)
        }
        func putOne(_ key: UInt64, expecting bytes: Int = 0) throws {
            try env.write(expectedBytes: bytes) { txn in try key.withBigEndianBytes { try txn.put(db, key: $0, value: $0) } }
        }
        let canReserve = try reservesBlocks(in: dir)
        try putOne(0)
        let before = try sizes()
        #expect(before.allocated < before.size + EarlyWriteback.threshold)

        try putOne(1, expecting: 2 * EarlyWriteback.threshold)
        let middle = try sizes()
        #expect(env.earlyWritebackRequests == 0)
        #expect(middle.size < EarlyWriteback.threshold)
        if canReserve { #expect(middle.allocated >= before.size + 2 * EarlyWriteback.threshold) }

        try putOne(2, expecting: EarlyWriteback.spillingTransaction)
        let after = try sizes()
        #expect(env.earlyWritebackRequests >= 1)
        #expect(after.size < EarlyWriteback.threshold)
        if canReserve { #expect(after.allocated >= middle.size + EarlyWriteback.spillingTransaction) }
        #expect(try env.read { try $0.statistics(db).entries } == 3)
    }

    /// Whether the file system of `dir` reserves blocks past a file's end.
    private func reservesBlocks(in dir: TemporaryDirectory) throws -> Bool {
        let fd = Glibc.open(dir.path + "/probe", O_CREAT | O_RDWR, 0o600)
        try #require(fd >= 0)
        defer { close(fd); unlink(dir.path + "/probe") }
        return civic_preallocate(fd, 0, 1 << 20) == 0
    }

    /// On tmpfs reserved blocks would be memory held: nothing is reserved there.
    @Test func nothingIsReservedOnTmpfs() throws {
        var fileSystem = statvfs()
        guard statvfs("/dev/shm", &fileSystem) == 0 else { return }
        let path = "/dev/shm/civic-ledger-test-\(UInt64.random(in: 0...UInt64.max))"
        try #require(mkdir(path, 0o700) == 0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = Glibc.open(path + "/probe", O_CREAT | O_RDWR, 0o600)
        let onTmpfs = civic_is_on_tmpfs(fd) == 1
        close(fd)
        guard onTmpfs else { return }  // no tmpfs here to try
        var options = Environment.Options()
        options.initialMapSize = 1 << 20
        let env = try Environment.open(path: path, options: options)
        let db = try env.openDatabase(named: "blobs", create: true)
        try env.write(expectedBytes: 4 * EarlyWriteback.threshold) { txn in try UInt64(1).withBigEndianBytes { try txn.put(db, key: $0, value: $0) } }
        var status = stat()
        try #require(stat(path + "/data.mdb", &status) == 0)
        #expect(Int(status.st_blocks) * 512 < EarlyWriteback.threshold)
    }

    /// The shim's call is the system's `sync_file_range`: on a file with unwritten pages it
    /// succeeds, and on a descriptor that is not open it fails with EBADF.
    @Test func theWritebackShimStartsWritingAFile() throws {
        let dir = TemporaryDirectory()
        let fd = Glibc.open(dir.path + "/file", O_CREAT | O_RDWR, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        let bytes = [UInt8](repeating: 7, count: 1 << 20)
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
        #expect(civic_start_writeback(fd) == 0)
        #expect(civic_start_writeback(-1) == -1 && errno == EBADF)
    }

    @Test func aFailedWriteClosureWritesNothing() throws {
        struct Refused: Error {}
        let dir = TemporaryDirectory()
        let env = try open(dir)
        let db = try env.openDatabase(named: "d", create: true)
        #expect(throws: Refused.self) {
            try env.write { txn in
                try UInt64(1).withBigEndianBytes { try txn.put(db, key: $0, value: $0) }
                throw Refused()
            }
        }
        #expect(try env.read { try $0.statistics(db).entries } == 0)
    }

    @Test func openingOnePathTwiceGivesTheSameEnvironment() throws {
        let dir = TemporaryDirectory()
        let first = try open(dir)
        let second = try Environment.open(path: dir.path + "/.")
        #expect(first === second)
    }

    @Test func errorsCarryTheLMDBCodeAndOperation() throws {
        let dir = TemporaryDirectory()
        let file = dir.path + "/not-a-directory"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        do {
            _ = try Environment.open(path: file)
            Issue.record("opening a plain file should fail")
        } catch {
            #expect(error.operation == "mdb_env_open")
            #expect(error.code != 0)
            #expect(!error.message.isEmpty)
            #expect(error.description.contains("mdb_env_open"))
        }
    }

    @Test func readOnlyEnvironmentRefusesWrites() throws {
        let dir = TemporaryDirectory()
        do {
            let env = try open(dir)
            _ = try env.openDatabase(named: "d", create: true)
        }
        var options = Environment.Options()
        options.readOnly = true
        let env = try Environment.open(path: dir.path, options: options)
        let db = try env.openDatabase(named: "d", create: false)
        #expect(throws: LMDBError.self) {
            try env.write { txn in try UInt64(1).withBigEndianBytes { try txn.put(db, key: $0, value: $0) } }
        }
    }

    /// The threading rule: writes are synchronous closures run on one writer, so many
    /// concurrent async callers all finish (none is left waiting on a lock held across a
    /// suspension) and every write lands.
    @Test func concurrentAsyncWritersAllComplete() async throws {
        let dir = TemporaryDirectory()
        let env = try open(dir, mapSize: 64 << 10)
        let db = try env.openDatabase(named: "d", create: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...200 {
                group.addTask {
                    try await env.write { txn in
                        let value = [UInt8](repeating: UInt8(n % 251), count: 2000)
                        try UInt64(n).withBigEndianBytes { key in try value.withUnsafeBytes { try txn.put(db, key: key, value: $0) } }
                    }
                }
                group.addTask {
                    // Readers alongside, while the map grows under them.
                    _ = try env.read { try $0.statistics(db).entries }
                }
            }
            try await group.waitForAll()
        }
        #expect(try env.read { try $0.statistics(db).entries } == 200)
    }

    /// A reader killed mid-transaction, while other processes keep the environment open,
    /// leaves its slot in the lock file; `mdb_reader_check` (run at every open) clears it.
    @Test func readerCheckClearsSlotsOfKilledProcesses() throws {
        let dir = TemporaryDirectory()
        let env = try open(dir)
        _ = try env.openDatabase(named: "d", create: true)
        // A separate process (Python calling liblmdb through ctypes) opens a read transaction
        // and waits; we kill it with SIGKILL.
        let script = """
            import ctypes, sys, time
            lib = ctypes.CDLL("liblmdb.so.0")
            env = ctypes.c_void_p(); txn = ctypes.c_void_p()
            assert lib.mdb_env_create(ctypes.byref(env)) == 0
            lib.mdb_env_set_maxdbs(env, 16)
            assert lib.mdb_env_open(env, sys.argv[1].encode(), 0x20000 | 0x200000, 0o600) == 0
            assert lib.mdb_txn_begin(env, None, 0x20000, ctypes.byref(txn)) == 0
            print("reading", flush=True)
            time.sleep(60)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, dir.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let line = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
        #expect(line.contains("reading"))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        #expect(env.info.readersInUse >= 1)
        #expect(try env.clearStaleReaders() == 1)
        #expect(try env.clearStaleReaders() == 0)
    }
}
