import LMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LedgerValues

/// A ledger: one LMDB environment in one directory, holding the events and their indexes.
///
/// Open it once per process (`Ledger.open` returns the environment already open for a path).
/// Appends run in LMDB's single write transaction; reads run in short read transactions.
public final class Ledger: Sendable {
    /// The on-disk format this code reads and writes (docs/FORMAT.md).
    public static let formatVersion = "civic-ledger/1"

    public struct Options: Sendable {
        /// Create the ledger if the directory holds none.
        public var create = false
        /// Open without write access; every writing call then fails with `.readOnly`.
        public var readOnly = false
        /// When creating: let the owner's group read the ledger (files 0640, directory 0750)
        /// instead of the owner alone (0600, 0700).
        public var groupReadable = false
        /// The map size to start with; it grows by itself.
        public var initialMapSize = 256 << 20
        /// Views kept up to date inside every append's transaction.
        public var projectors: [any LedgerProjector] = []
        /// Whether a batch grows the map for its estimate before writing (tests turn it off
        /// to have a batch fill the map halfway).
        package var growsMapUpFront = true

        public init(create: Bool = false, readOnly: Bool = false, groupReadable: Bool = false, projectors: [any LedgerProjector] = []) {
            self.create = create
            self.readOnly = readOnly
            self.groupReadable = groupReadable
            self.projectors = projectors
        }
    }

    var projectors: [any LedgerProjector] { options.projectors }

    public let path: String
    public let options: Options
    /// The environment, for the package's other modules (projections keep their own tables).
    package let environment: Environment
    package let databases: Databases

    /// The named LMDB databases of a ledger (docs/FORMAT.md lists their layouts).
    package struct Databases: Sendable {
        /// seq (u64 big-endian) → 32-byte hash ‖ canonical envelope bytes.
        package let events: Database
        /// id (UTF-8) → seq.
        package let ids: Database
        /// stream (UTF-8) → the stream's version (u64 big-endian).
        package let streams: Database
        /// stream ‖ 0x00 ‖ version (u64 big-endian) → seq.
        package let streamEvents: Database
        /// Text keys → text values: the format version.
        package let meta: Database

        static let names = ["events", "ids", "streams", "stream-events", "meta"]
    }

    private init(path: String, options: Options, environment: Environment, databases: Databases) {
        self.path = path
        self.options = options
        self.environment = environment
        self.databases = databases
    }

    /// Opens the ledger in directory `path`; `.notFound` when there is none and `create` is off.
    public static func open(_ path: String, options: Options = Options()) throws(LedgerError) -> Ledger {
        let dataFile = path + "/data.mdb"
        let exists = access(dataFile, F_OK) == 0
        if !exists {
            guard options.create, !options.readOnly else {
                throw LedgerError(.notFound, "no ledger at '\(path)' (create one with 'civic-ledger init' or append with --create)")
            }
            try makeDirectories(path, mode: options.groupReadable ? 0o750 : 0o700)
        }
        var environmentOptions = Environment.Options()
        environmentOptions.fileMode = options.groupReadable ? 0o640 : 0o600
        environmentOptions.readOnly = options.readOnly
        environmentOptions.initialMapSize = options.initialMapSize
        do {
            let environment = try Environment.open(path: path, options: environmentOptions)
            let create = !exists || !options.readOnly
            let handles = try Databases.names.map { try environment.openDatabase(named: $0, create: create) }
            let databases = Databases(events: handles[0], ids: handles[1], streams: handles[2],
                                      streamEvents: handles[3], meta: handles[4])
            let ledger = Ledger(path: path, options: options, environment: environment, databases: databases)
            try ledger.checkFormat(creating: !exists)
            if !exists {
                // Exact modes, whatever the umask. A group's readers need a reader slot, so
                // they write the lock file (never the data).
                chmod(path, options.groupReadable ? 0o750 : 0o700)
                chmod(dataFile, options.groupReadable ? 0o640 : 0o600)
                chmod(path + "/lock.mdb", options.groupReadable ? 0o660 : 0o600)
            }
            return ledger
        } catch let error as LedgerError {
            throw error
        } catch let error as LMDBError {
            if error.isNotFound {
                throw LedgerError(.storage, "'\(path)' is not a CivicLedger ledger (its LMDB file lacks the ledger's databases)")
            }
            throw LedgerError.storage(error, doing: "cannot open the ledger at '\(path)'")
        } catch {
            throw LedgerError(.storage, "cannot open the ledger at '\(path)': \(error)")
        }
    }

    private func checkFormat(creating: Bool) throws {
        let key = Array("format".utf8)
        if creating {
            try environment.write { txn in
                try key.withUnsafeBytes { k in
                    try Array(Ledger.formatVersion.utf8).withUnsafeBytes { v in
                        try txn.put(databases.meta, key: k, value: v)
                    }
                }
            }
            return
        }
        let format = try environment.read { txn in
            try key.withUnsafeBytes { k in try txn.get(databases.meta, key: k).map { String(decoding: $0, as: UTF8.self) } }
        }
        guard format == Ledger.formatVersion else {
            throw LedgerError(.storage, "the ledger at '\(path)' has format '\(format ?? "none")'; this program reads '\(Ledger.formatVersion)'")
        }
    }

    static func makeDirectories(_ path: String, mode: mode_t) throws(LedgerError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw LedgerError(.storage, "cannot create the ledger directory '\(current)': \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Runs a storage operation, turning LMDB's errors into the ledger's.
    package func storage<T>(_ what: String, _ body: () throws -> T) throws(LedgerError) -> T {
        do {
            return try body()
        } catch let error as LedgerError {
            throw error
        } catch let error as LMDBError {
            throw LedgerError.storage(error, doing: what)
        } catch {
            throw LedgerError(.storage, "\(what): \(error)")
        }
    }
}
