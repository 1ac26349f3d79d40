import CLMDB
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An LMDB environment: one directory holding `data.mdb` and `lock.mdb`.
///
/// There is at most one `Environment` per directory in a process (opening a path twice in one
/// process breaks LMDB's file locks), so `open` hands back the instance already open.
/// Transactions are scoped in closures: `read` for `MDB_NOTLS` read transactions, `write` for
/// the single writer, which grows the map and retries by itself when it is full.
public final class Environment: @unchecked Sendable {
    public struct Options: Sendable {
        /// The map size to start from; a larger size already recorded in the file wins.
        public var initialMapSize: Int = 256 << 20
        /// Open without write access: every write fails.
        public var readOnly: Bool = false
        /// Create the directory (and the files) if missing.
        public var create: Bool = false
        /// Permission bits of the files LMDB creates.
        public var fileMode: mode_t = 0o600
        public var maxDatabases: UInt32 = 32
        public var maxReaders: UInt32 = 126

        public init() {}
    }

    /// The directory, as given.
    public let path: String
    public let options: Options

    let env: OpaquePointer
    /// `lock.mdb`, held open for the environment's life (closing any descriptor of it would
    /// drop LMDB's own fcntl locks on it), for the open/commit lock below; -1 without one.
    private let lockFile: Int32
    private let resizeLock = ReadWriteLock()
    /// Serialises this process's writers before they queue on LMDB's own cross-process lock.
    private let writerLock = ReadWriteLock()
    private let writerQueue = DispatchQueue(label: "civicledger.lmdb.writer")
    /// Where the registry knows this environment by.
    private let registryKey: String

    /// Called, when set, with LMDB's message when one of LMDB's own consistency checks fails,
    /// which means its file is damaged; LMDB aborts the process (SIGABRT) when this returns.
    /// The command-line tool sets it to say so on one line and exit 74.
    nonisolated(unsafe) public static var assertionHandler: (@Sendable (String) -> Void)?

    /// How many times this environment grew its map (for tests and statistics).
    public private(set) var mapGrowths = 0
    /// How many requests to start writing to disk early (`EarlyWriteback`) the kernel
    /// accepted during commits, for tests.
    package private(set) var earlyWritebackRequests = 0
    /// For tests: a big commit waits for its `EarlyWriteback` helper's first request.
    package var waitsForEarlyWriteback = false

    /// The descriptor LMDB writes `data.mdb` through.
    private var dataFileDescriptor: Int32? {
        var fd: Int32 = -1
        return mdb_env_get_fd(env, &fd) == 0 && fd >= 0 ? fd : nil
    }
    private init(path: String, registryKey: String, options: Options, env: OpaquePointer, lockFile: Int32) {
        self.path = path
        self.registryKey = registryKey
        self.options = options
        self.env = env
        self.lockFile = lockFile
    }

    deinit {
        // Close under the registry lock so that no second handle on this path opens meanwhile.
        Environment.registry.withLock { entries in
            mdb_env_close(env)
            if lockFile >= 0 { close(lockFile) }
            entries[registryKey] = nil
        }
    }

    /// Opens (or returns the already open) environment at `path`.
    public static func open(path: String, options: Options = Options()) throws(LMDBError) -> Environment {
        if options.create {
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw LMDBError(code: errno, operation: "mkdir", context: path)
            }
        }
        guard let resolved = realpath(path, nil) else {
            throw LMDBError(code: errno, operation: "realpath", context: path)
        }
        let key = String(cString: resolved)
        free(resolved)

        while true {
            let outcome: Result<Environment, LMDBError>? = registry.withLock { entries in
                if let entry = entries[key] {
                    // An entry whose environment is gone is being closed by its deinit: wait.
                    guard let existing = entry.environment else { return nil }
                    if existing.options.readOnly && !options.readOnly {
                        return .failure(LMDBError(code: EBUSY, operation: "mdb_env_open",
                                                  context: "\(path) is already open read-only in this process"))
                    }
                    return .success(existing)
                }
                let result = Result { () throws(LMDBError) -> Environment in
                    try openNew(path: path, key: key, options: options)
                }
                if case .success(let environment) = result { entries[key] = WeakEnvironment(environment) }
                return result
            }
            if let outcome { return try outcome.get() }
            sched_yield()
        }
    }

    private static func openNew(path: String, key: String, options: Options) throws(LMDBError) -> Environment {
        do {
            return try openNew(path: path, key: key, options: options, withoutLocks: false)
        } catch let error where options.readOnly && error.code == EACCES && access(path + "/lock.mdb", F_OK) != 0 {
            // A copy without a lock file in a directory this user cannot write (an auditor's
            // copy): no writer has ever opened it here, so there is nothing to coordinate.
            // A ledger that has a lock file is a live one: reading it without a reader slot
            // could see pages a writer reuses, so that stays an error.
            return try openNew(path: path, key: key, options: options, withoutLocks: true)
        }
    }

    private static func openNew(path: String, key: String, options: Options, withoutLocks: Bool) throws(LMDBError) -> Environment {
        var handle: OpaquePointer?
        var stale: Int32 = 0
        try check(mdb_env_create(&handle), "mdb_env_create", context: path)
        guard let handle else { throw LMDBError(code: ENOMEM, operation: "mdb_env_create", context: path) }
        mdb_env_set_assert(handle) { _, message in
            Environment.assertionHandler?(message.map { String(cString: $0) } ?? "")
        }
        var lockFile: Int32 = -1
        do throws(LMDBError) {
            try check(mdb_env_set_maxdbs(handle, options.maxDatabases), "mdb_env_set_maxdbs")
            try check(mdb_env_set_maxreaders(handle, options.maxReaders), "mdb_env_set_maxreaders")
            try check(mdb_env_set_mapsize(handle, options.initialMapSize), "mdb_env_set_mapsize")
            if !withoutLocks { lockFile = try openLockFile(path: path, options: options) }
            let flags = UInt32(MDB_NOTLS) | (options.readOnly ? UInt32(MDB_RDONLY) : 0) | (withoutLocks ? UInt32(MDB_NOLOCK) : 0)
            // LMDB 0.9.24 (Debian's) can write a meta page while a writable environment opens,
            // without the writer lock: a commit by another process at that moment can be lost
            // (LMDB ITS#9496, fixed in 0.9.29). Writable opens exclude commits here.
            let exclusive = lockFile >= 0 && !options.readOnly
            if exclusive { flockRetrying(lockFile, LOCK_EX) }
            let rc = mdb_env_open(handle, path, flags, options.fileMode)
            if exclusive { flock(lockFile, LOCK_UN) }
            try check(rc, "mdb_env_open", context: path)
            // Clear reader slots left by processes that were killed mid-read.
            try check(mdb_reader_check(handle, &stale), "mdb_reader_check", context: path)
        } catch {
            mdb_env_close(handle)
            if lockFile >= 0 { close(lockFile) }
            throw error
        }
        return Environment(path: path, registryKey: key, options: options, env: handle, lockFile: lockFile)
    }

    /// `flock`, again when a signal interrupts it.
    private static func flockRetrying(_ fd: Int32, _ operation: Int32) {
        while flock(fd, operation) != 0 && errno == EINTR {}
    }

    /// Opens `lock.mdb` (creating it) and gives it its disk blocks before LMDB maps it. LMDB
    /// sizes the file with `ftruncate` and writes to it through a shared mapping: on a full
    /// disk (a full tmpfs above all) the first store to a page that has no block behind it
    /// kills the process with SIGBUS. Allocated here, a full disk is an ENOSPC error instead.
    /// Returns the descriptor, or -1 without write access.
    private static func openLockFile(path: String, options: Options) throws(LMDBError) -> Int32 {
        let lockPath = path + "/lock.mdb"
        var created = true
        var fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, options.fileMode)
        if fd < 0 && errno == EEXIST {
            created = false
            fd = Glibc.open(lockPath, O_RDWR | O_CLOEXEC)
        }
        // No write access (a read-only ledger or file system): LMDB says what it can't do.
        guard fd >= 0 else { return -1 }
        // LMDB's lock file: a 192-byte header and one 64-byte slot per reader after the
        // first, in whole pages. One of the right size has been set up by an earlier open.
        let pageSize = max(Int(sysconf(Int32(_SC_PAGESIZE))), 4096)
        let wanted = ((Int(options.maxReaders) - 1) * 64 + 192 + pageSize - 1) / pageSize * pageSize
        var status = stat()
        guard fstat(fd, &status) == 0, Int(status.st_size) < wanted else { return fd }
        let rc = posix_fallocate(fd, 0, off_t(wanted))
        if rc == ENOSPC || rc == EDQUOT {
            close(fd)
            if created { unlink(lockPath) }
            throw LMDBError(code: rc, operation: "mdb_env_open", context: lockPath)
        }
        return fd
    }

    // MARK: Registry

    private final class WeakEnvironment: @unchecked Sendable {
        weak var environment: Environment?
        init(_ environment: Environment) { self.environment = environment }
    }

    private static let registry = Mutex<[String: WeakEnvironment]>([:])

    // MARK: Transactions

    /// Runs `body` in a read transaction. Keep it short: an open reader pins old pages.
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            do {
                return try resizeLock.withShared {
                    let txn = try begin(readOnly: true)
                    defer { mdb_txn_abort(txn) }
                    return try body(Transaction(txn: txn, isReadOnly: true, state: TransactionState()))
                }
            } catch let error as LMDBError where error.isMapResized {
                try adoptMapSize()
            }
        }
    }

    /// Runs `body` in the write transaction and commits it; an error thrown by `body` aborts it.
    ///
    /// `body` is synchronous, so nothing can suspend between begin and commit (an `await` there
    /// would leave LMDB's writer lock held on a thread that may never come back). It may run more
    /// than once: when the map fills up, the transaction is thrown away, the map grows with no
    /// transaction open, and `body` runs again from the start.
    ///
    /// `expectedBytes` is about how much the caller will put: for a big write (from
    /// `EarlyWriteback.threshold` on) the data file's next blocks are reserved, and for one big
    /// enough that LMDB writes pages before the commit (`EarlyWriteback.spillingTransaction`)
    /// the disk starts on them as the transaction goes.
    public func write<T>(expectedBytes: Int = 0, _ body: (Transaction) throws -> T) throws -> T {
        try writerLock.withExclusive {
            var growths = 0
            if expectedBytes >= EarlyWriteback.threshold { preallocate(bytes: expectedBytes) }
            while true {
                let state = TransactionState()
                do {
                    return try resizeLock.withShared {
                        try commitOnce(state: state, spills: expectedBytes >= EarlyWriteback.spillingTransaction, body)
                    }
                } catch let error as LMDBError where error.isMapResized {
                    try adoptMapSize()
                } catch where state.mapFull {
                    growths += 1
                    guard growths <= 40 else { throw error }
                    try growMap()
                }
            }
        }
    }

    /// The async face of `write`: `body` runs synchronously on this environment's writer queue.
    public func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            writerQueue.async {
                continuation.resume(with: Result { try self.write(body) })
            }
        }
    }

    /// `spills`: the caller expects a write big enough for LMDB to write pages before the
    /// commit, so the early writeback starts with the transaction rather than at its commit.
    private func commitOnce<T>(state: TransactionState, spills: Bool, _ body: (Transaction) throws -> T) throws -> T {
        let txn = try begin(readOnly: false)
        let value: T
        var writeback = spills ? dataFileDescriptor.map(EarlyWriteback.init) : nil
        do {
            value = try body(Transaction(txn: txn, isReadOnly: false, state: state))
        } catch {
            writeback?.finish()
            mdb_txn_abort(txn)
            throw error
        }
        // A failed commit has already freed the transaction: it must not be aborted again.
        // Commits share the lock file's flock; a writable open takes it alone (see openNew).
        if lockFile >= 0 { Environment.flockRetrying(lockFile, LOCK_SH) }
        if writeback == nil, state.bytesPut >= EarlyWriteback.threshold { writeback = dataFileDescriptor.map(EarlyWriteback.init) }
        if waitsForEarlyWriteback { writeback?.waitForFirstCall() }
        var rc = mdb_txn_commit(txn)
        if let writeback { earlyWritebackRequests += writeback.finish() }
        if lockFile >= 0 { flock(lockFile, LOCK_UN) }
        if rc == MDB_MAP_FULL { state.mapFull = true }
        // LMDB reports a write the file system cut short as EIO; on a full disk that is
        // what it is, so say so.
        if rc == EIO && fileSystemIsFull { rc = ENOSPC }
        try check(rc, "mdb_txn_commit", context: path)
        return value
    }

    /// Less than 1 MiB left for this process on the file system that holds the environment.
    private var fileSystemIsFull: Bool {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { return false }
        let blocks = geteuid() == 0 ? UInt64(status.f_bfree) : UInt64(status.f_bavail)
        return blocks * UInt64(status.f_frsize) < 1 << 20
    }

    private func begin(readOnly: Bool) throws(LMDBError) -> OpaquePointer {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "mdb_txn_begin", context: path)
        guard let txn else { throw LMDBError(code: EINVAL, operation: "mdb_txn_begin", context: path) }
        return txn
    }

    // MARK: Map size

    /// Grows the map: doubling while small, then by 4 GiB at a time. Runs with no transaction
    /// of this process open, as `mdb_env_set_mapsize` requires.
    private func growMap() throws(LMDBError) {
        try resizeLock.withExclusive { () throws(LMDBError) in
            let current = info.mapSize
            let next = current + min(current, 4 << 30)
            try check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize", context: path)
            mapGrowths += 1
        }
    }

    /// Takes on the larger map size another process has set.
    private func adoptMapSize() throws(LMDBError) {
        try resizeLock.withExclusive { () throws(LMDBError) in
            try check(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize", context: path)
        }
    }

    // MARK: Databases and information

    /// Opens the named database, creating it when `create` is set (which needs a writable
    /// environment). Open every database once, before concurrent use.
    public func openDatabase(named name: String, create: Bool) throws -> Database {
        let open = { (transaction: Transaction) throws -> Database in
            guard let database = try transaction.openDatabase(named: name, create: create) else {
                throw LMDBError(code: MDB_NOTFOUND, operation: "mdb_dbi_open", context: name)
            }
            return database
        }
        if create { return try write(open) }
        // A handle opened in a read transaction lives on only if that transaction commits.
        while true {
            do {
                return try resizeLock.withShared {
                    let txn = try begin(readOnly: true)
                    let database: Database
                    do {
                        database = try open(Transaction(txn: txn, isReadOnly: true, state: TransactionState()))
                    } catch {
                        mdb_txn_abort(txn)
                        throw error
                    }
                    try check(mdb_txn_commit(txn), "mdb_txn_commit", context: path)
                    return database
                }
            } catch let error as LMDBError where error.isMapResized {
                try adoptMapSize()
            }
        }
    }

    public struct Info: Sendable {
        /// Bytes the map can hold now.
        public var mapSize: Int
        /// Bytes in use: pages up to the last one written.
        public var usedSize: Int
        public var pageSize: Int
        public var maxReaders: Int
        public var readersInUse: Int
    }

    public var info: Info {
        var envInfo = MDB_envinfo()
        mdb_env_info(env, &envInfo)
        var stat = MDB_stat()
        mdb_env_stat(env, &stat)
        let pageSize = Int(stat.ms_psize)
        // The last page number comes from the file's header: a damaged one can be any
        // number, which must not crash a statistics call.
        let (used, overflow) = (envInfo.me_last_pgno &+ 1).multipliedReportingOverflow(by: pageSize)
        return Info(mapSize: envInfo.me_mapsize, usedSize: overflow || used < 0 ? .max : used,
                    pageSize: pageSize, maxReaders: Int(envInfo.me_maxreaders),
                    readersInUse: Int(envInfo.me_numreaders))
    }

    /// Makes sure the map can take `bytes` more than it holds now, growing it before a big
    /// write so the write does not fill the map halfway and run again.
    public func reserve(bytes: Int) throws(LMDBError) {
        try writerLock.withExclusive { () throws(LMDBError) in
            try resizeLock.withExclusive { () throws(LMDBError) in
                let current = info
                // Past any real size (a damaged header): leave it to the write to fail.
                guard current.usedSize < 1 << 56, bytes < 1 << 56, current.mapSize > 0 else { return }
                let wanted = current.usedSize + bytes
                guard wanted > current.mapSize else { return }
                var next = current.mapSize
                while next < wanted { next += min(next, 4 << 30) }
                try check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize", context: path)
            }
        }
    }

    /// Reserves disk blocks for `bytes` past the end of the data file without changing its size
    /// (`fallocate` with `FALLOC_FL_KEEP_SIZE`). Otherwise the file system finds blocks for each
    /// page as LMDB writes it: measured here, writing 572 MiB past the end of a file took
    /// 0.10 s, and 0.057 s into blocks reserved beforehand (reserving took 1 ms). No data
    /// changes: LMDB never reads past its last page, and later writes use what an earlier one
    /// left reserved. Where the file system cannot, nothing happens; on tmpfs, where reserved
    /// blocks would be memory held, nothing is asked.
    private func preallocate(bytes: Int) {
        guard let fd = dataFileDescriptor, civic_is_on_tmpfs(fd) == 0 else { return }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return }
        _ = civic_preallocate(fd, Int(status.st_size), bytes)
    }

    /// Writes a consistent copy (the view of one read transaction, so writers may go on) to
    /// the open file `fd`, leaving free pages out. The caller creates, syncs and closes it.
    public func copy(to fd: Int32, context: String) throws(LMDBError) {
        try resizeLock.withShared { () throws(LMDBError) in
            try check(mdb_env_copyfd2(env, fd, UInt32(MDB_CP_COMPACT)), "mdb_env_copyfd2", context: context)
        }
    }

    /// Clears reader slots of dead processes; returns how many were cleared.
    @discardableResult
    public func clearStaleReaders() throws(LMDBError) -> Int {
        var stale: Int32 = 0
        try check(mdb_reader_check(env, &stale), "mdb_reader_check", context: path)
        return Int(stale)
    }
}
