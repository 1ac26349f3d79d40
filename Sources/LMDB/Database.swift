import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A named database inside an environment. The handle is valid for the environment's lifetime
/// once the transaction that opened it has committed.
public struct Database: Sendable, Hashable {
    public let name: String
    let dbi: MDB_dbi

    /// LMDB's default key order: the common bytes compared as unsigned bytes, then the shorter
    /// key first. Negative when `a` comes first, zero when equal.
    public static func keyOrder(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let x = a.baseAddress, let y = b.baseAddress {
            let order = memcmp(x, y, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}

/// How a value is written.
public struct PutOptions: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Fail with `MDB_KEYEXIST` rather than overwrite.
    public static let noOverwrite = PutOptions(rawValue: UInt32(MDB_NOOVERWRITE))
    /// The key sorts after every key in the database: a fast append.
    public static let append = PutOptions(rawValue: UInt32(MDB_APPEND))
}

/// Entry counts and page use of one database (`mdb_stat`).
public struct DatabaseStatistics: Sendable {
    public var entries: Int
    public var depth: Int
    public var pages: Int
    public var pageSize: Int
}
