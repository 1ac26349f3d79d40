#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
/// A JSON value as the ledger holds it: I-JSON (RFC 7493), so every number is an IEEE double,
/// every string valid Unicode, and no object has a key twice.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The number as an integer, when it is one exactly (`7` and `7.0` both are).
    public var integerValue: Int64? {
        guard case .number(let value) = self, value.rounded(.towardZero) == value,
              abs(value) <= JSONValue.maxExactInteger else { return nil }
        return Int64(value)
    }

    /// The largest integer every double holds exactly: 2^53.
    public static let maxExactInteger: Double = 9_007_199_254_740_992

    /// The same JSON value: strings are equal when their code points are, as in JSON Schema's
    /// `enum`, `const` and `uniqueItems` and in canonical bytes (Swift's `==` on `String` would
    /// also match a decomposed "é" with a precomposed one); numbers by value; objects whatever
    /// order their members were written in.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return JSONObject.sameKey(a, b)
        case let (.array(a), .array(b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.object(a), .object(b)): return a == b
        default: return false
        }
    }
}

/// A JSON object whose members are kept sorted in canonical order (by UTF-16 code units, as
/// RFC 8785 sorts them), so that two objects with the same members are equal whatever order
/// they were written in.
public struct JSONObject: Sendable, Equatable {
    public private(set) var members: [(key: String, value: JSONValue)]
    /// Whether every key is ASCII (kept true only while it is known to be): then a lookup with
    /// an ASCII key can use Swift's own `<` and `==`, which on ASCII are byte order and byte
    /// equality, the canonical ones, and are fast on short keys.
    private var asciiKeys = true

    public init() { members = [] }

    /// Builds an object from members; a repeated key keeps its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        members = []
        members.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// Takes members already sorted canonically with no repeated key (the parser's output).
    init(sortedMembers: [(key: String, value: JSONValue)]) {
        members = sortedMembers
        asciiKeys = sortedMembers.allSatisfy { JSONObject.isASCII($0.key) }
    }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            let (index, present) = find(key)
            return present ? members[index].value : nil
        }
        set {
            let (index, present) = find(key)
            switch (present, newValue) {
            case (true, .some(let value)): members[index].value = value
            case (true, .none): members.remove(at: index)
            case (false, .some(let value)):
                members.insert((key, value), at: index)
                asciiKeys = asciiKeys && JSONObject.isASCII(key)
            case (false, .none): break
            }
        }
    }

    /// Changes the object under `key` in place (starting from an empty one if there is no
    /// object there). Taking it out first leaves it referenced once, so changing it does not
    /// copy its members, as `var o = object[key]…; o[k] = v; object[key] = .object(o)` would.
    public mutating func updateObject(_ key: String, _ body: (inout JSONObject) -> Void) {
        let (index, present) = find(key)
        var object = JSONObject()
        if present, case .object(let existing) = members[index].value {
            members[index].value = .null
            object = existing
        }
        body(&object)
        if present { members[index].value = .object(object) } else { self[key] = .object(object) }
    }

    /// Sets each of `keys` that `source` has to its value there: one pass over `source`'s
    /// members, rather than a lookup in `source` per key.
    public mutating func copy(_ keys: [String], from source: JSONObject) {
        for (key, value) in source.members where keys.contains(where: { JSONObject.sameKey($0, key) }) { self[key] = value }
    }

    /// Where `key` is, or would be inserted, and whether it is there.
    private func find(_ key: String) -> (index: Int, present: Bool) {
        var low = 0, high = members.count
        if asciiKeys, JSONObject.isASCII(key) {
            while low < high {
                let mid = (low + high) / 2
                if members[mid].key < key { low = mid + 1 } else { high = mid }
            }
            return (low, low < members.count && members[low].key == key)
        }
        while low < high {
            let mid = (low + high) / 2
            if JSONObject.canonicalOrder(members[mid].key, key) { low = mid + 1 } else { high = mid }
        }
        return (low, low < members.count && JSONObject.sameKey(members[low].key, key))
    }

    /// Whether two keys are the same code points. (Swift's `==` compares by canonical
    /// equivalence: "K" equals the Kelvin sign U+212A there, but they are two JSON keys.)
    @inline(__always)
    package static func sameKey(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let same = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
        return (same ?? nil) ?? a.utf8.elementsEqual(b.utf8)
    }

    @inline(__always)
    static func isASCII(_ key: String) -> Bool {
        key.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var i = 0
            while i + 8 <= raw.count {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
                i += 8
            }
            while i < raw.count {
                if raw[i] >= 0x80 { return false }
                i += 1
            }
            return true
        } ?? key.utf8.allSatisfy { $0 < 0x80 }
    }

    /// RFC 8785's member order: compare keys as sequences of UTF-16 code units.
    @inline(__always)
    public static func canonicalOrder(_ a: String, _ b: String) -> Bool {
        // UTF-8 byte order is code-point order, which differs from UTF-16 order only between
        // U+E000...U+FFFF and the supplementary planes; ASCII bytes take the fast path.
        let fast = a.utf8.withContiguousStorageIfAvailable { ua in
            b.utf8.withContiguousStorageIfAvailable { ub in asciiOrder(ua, ub) } ?? 0
        } ?? 0
        if fast != 0 { return fast < 0 }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// -1 when `a` sorts first, 1 when `b` does, 0 when bytes alone cannot tell (non-ASCII).
    @inline(__always)
    private static func asciiOrder(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int8 {
        let n = Swift.min(a.count, b.count)
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y { return x < 0x80 && y < 0x80 ? (x < y ? -1 : 1) : 0 }
            i += 1
        }
        return a.count < b.count ? -1 : 1
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { sameKey($0.key, $1.key) && $0.value == $1.value }
    }
}
