#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One JSON text read into a flat list of nodes that point into the input bytes: no value,
/// string or object is allocated. It is the batch's fast path: an event is validated and
/// written canonically straight from its tape.
///
/// The tape reads only the common form of a line and declines the rest (`read` returns
/// false): a key with an escape or that is not ASCII, a duplicate key, a number it cannot
/// read exactly, nesting deeper than the limit, an object of more than 32 members, a lone
/// surrogate, and every kind of malformed input. A string value with escapes (`\"`, `\n`,
/// `\u4e2d` as Python's `json.dumps` writes Chinese…) is read into a buffer of the tape's own.
/// `JSONParser` handles those, and words the error; a declined line costs one more parse.
/// What the tape does read, it reads as `JSONParser` does (tests compare the two).
///
/// A tape is reused from line to line (`read` replaces its contents), so it allocates only
/// while it grows. Copies share its buffers (the nodes, the unescaped strings): give each thread a
/// tape of its own.
public struct JSONTape {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        case null, boolean, number, string, array, object
    }

    /// A value. Containers are followed by their contents: an array by its elements, an
    /// object by its members, each a key (a string node) then its value.
    public struct Node: BitwiseCopyable {
        public let kind: Kind
        /// A boolean's value; for a string, whether its bytes are unescaped in the tape's own
        /// buffer rather than in the input.
        public let flag: Bool
        /// An array's elements, an object's members.
        public let count: Int32
        /// A string's bytes in the input (without quotes) or in the tape's buffer. An object's
        /// member keys in canonical order: `order[start..<start + count]`.
        public let start: Int32, length: Int32
        /// The node after this value and all it contains.
        public let next: Int32
        /// A number's value; for an object's key, its first eight bytes as a big-endian
        /// integer, zero-padded (see `compareKeys`).
        public let number: Double
    }

    // The tape's lists are `ReusableBuffer`s: appending to them is most of reading, and an
    // Array's append checks uniqueness and capacity through calls each time. Being classes,
    // they are shared by a tape's copies.
    @usableFromInline let nodes = ReusableBuffer<Node>(capacity: 64)
    /// Key nodes, object by object, in canonical key order.
    @usableFromInline let order = ReusableBuffer<Int32>(capacity: 32)
    /// The keys of the objects being read, innermost last.
    private let keys = ReusableBuffer<Int32>(capacity: 32)
    @usableFromInline var bytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// The unescaped bytes of strings that had escapes.
    @usableFromInline let unescaped = ReusableBuffer<UInt8>(capacity: 256)
    private var index = 0
    private var maxDepth = JSONParser.defaultMaxDepth

    public init() {}

    /// Node `index` (0 is the whole value read).
    @inlinable @inline(__always)
    public func node(_ index: Int) -> Node { nodes[index] }

    /// Reads `input` (which must outlive the tape's use) as one JSON value with optional
    /// white space around it. False when the tape declines it.
    public mutating func read(_ input: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Bool {
        nodes.removeAll()
        order.removeAll()
        keys.removeAll()
        unescaped.removeAll()
        bytes = input
        index = 0
        self.maxDepth = maxDepth
        skipWhitespace()
        guard readValue(depth: 0) else { return false }
        skipWhitespace()
        return index == bytes.count
    }

    /// The bytes of the string node `node` (valid UTF-8, escapes resolved), valid until the
    /// next `read`.
    @inlinable @inline(__always)
    public func stringBytes(_ node: Int) -> UnsafeBufferPointer<UInt8> {
        let node = nodes[node]
        if node.flag { return unescaped.slice(Int(node.start), count: Int(node.length)) }
        return UnsafeBufferPointer(rebasing: bytes[Int(node.start)..<Int(node.start + node.length)])
    }

    public func string(_ node: Int) -> String { String(decoding: stringBytes(node), as: UTF8.self) }

    /// The member keys of object `node` in canonical order (each value is the node after its key).
    @inlinable @inline(__always)
    public func memberKeys(_ node: Int) -> UnsafeBufferPointer<Int32> {
        order.slice(Int(nodes[node].start), count: Int(nodes[node].count))
    }

    /// Whether string node `node` holds exactly `text`'s bytes (code points, as JSON compares).
    public func string(_ node: Int, equals text: StaticString) -> Bool {
        ShortBytes.equal(stringBytes(node), ShortBytes.bytes(text))
    }

    /// Whether `node` equals `value`. Only strings, numbers, booleans and null are compared;
    /// a container is never equal here, so a caller that needs containers compared declines.
    public func scalar(_ node: Int, equals value: JSONValue) -> Bool {
        switch (nodes[node].kind, value) {
        case (.null, .null): return true
        case (.boolean, .bool(let flag)): return nodes[node].flag == flag
        case (.number, .number(let number)): return nodes[node].number == number
        case (.string, .string(var text)):
            let own = stringBytes(node)
            return text.withUTF8 { $0.count == own.count && ($0.isEmpty || memcmp($0.baseAddress!, own.baseAddress!, own.count) == 0) }
        default: return false
        }
    }

    /// The canonical bytes (RFC 8785) of `node`, appended to `out`: the same bytes
    /// `JSONValue.writeCanonical` writes for the parsed value.
    @inlinable
    public func writeCanonical(_ node: Int, into out: inout some ByteSink) {
        let value = self.node(node)
        switch value.kind {
        case .null: out.append("null")
        case .boolean: value.flag ? out.append("true") : out.append("false")
        case .number: CanonicalJSON.writeNumber(value.number, into: &out)
        case .string where value.flag:
            CanonicalJSON.writeString(stringBytes(node), into: &out)
        case .string:
            // No escapes and no control characters (the tape declines raw ones): the bytes are canonical.
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: stringBytes(node))
            out.append(UInt8(ascii: "\""))
        case .array:
            out.append(UInt8(ascii: "["))
            var element = node + 1
            for position in 0..<Int(value.count) {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                writeCanonical(element, into: &out)
                element = Int(self.node(element).next)
            }
            out.append(UInt8(ascii: "]"))
        case .object:
            out.append(UInt8(ascii: "{"))
            var first = true
            for key in memberKeys(node) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                writeCanonical(Int(key), into: &out)
                out.append(UInt8(ascii: ":"))
                writeCanonical(Int(key) + 1, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `node` as a value, as `JSONParser` would have returned it.
    public func value(_ node: Int) -> JSONValue {
        let value = nodes[node]
        switch value.kind {
        case .null: return .null
        case .boolean: return .bool(value.flag)
        case .number: return .number(value.number)
        case .string: return .string(string(node))
        case .array:
            var elements: [JSONValue] = []
            elements.reserveCapacity(Int(value.count))
            var element = node + 1
            for _ in 0..<Int(value.count) {
                elements.append(self.value(element))
                element = Int(nodes[element].next)
            }
            return .array(elements)
        case .object:
            return .object(object(node))
        }
    }

    /// Object node `node` as a value.
    public func object(_ node: Int) -> JSONObject {
        JSONObject(sortedMembers: memberKeys(node).map { (string(Int($0)), self.value(Int($0) + 1)) })
    }

    // MARK: Reading

    private mutating func readValue(depth: Int) -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "{"): return readObject(depth: depth + 1)
        case UInt8(ascii: "["): return readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return readString()
        case UInt8(ascii: "t"): return readLiteral("true", .boolean, true)
        case UInt8(ascii: "f"): return readLiteral("false", .boolean, false)
        case UInt8(ascii: "n"): return readLiteral("null", .null, false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return readNumber()
        default: return false
        }
    }

    private mutating func readObject(depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        let node = nodes.count
        nodes.append(Node(kind: .object, flag: false, count: 0, start: 0, length: 0, next: 0, number: 0))
        // Insertion sort below stays cheap for the objects events have; the parser sorts bigger ones.
        guard let count = readItems(closing: UInt8(ascii: "}"), { $0.readMember(depth: depth) }), count <= 32 else { return false }
        // The object's keys are the top of the stack (those of the objects it contains have
        // been moved off): they go to `order`, after those of the objects it contains.
        let start = order.count
        order.append(contentsOf: keys.slice(keys.count - count, count: count))
        keys.removeLast(count)
        guard sortKeys(from: start) else { return false }
        nodes[node] = Node(kind: .object, flag: false, count: Int32(count), start: Int32(start), length: 0,
                           next: Int32(nodes.count), number: 0)
        return true
    }

    /// A key, its colon and its value; the key goes on the stack of keys.
    private mutating func readMember(depth: Int) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), readString(asciiOnly: true) else { return false }
        keys.append(Int32(nodes.count - 1))
        skipWhitespace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
        index += 1
        skipWhitespace()
        return readValue(depth: depth)
    }

    private mutating func readArray(depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        let node = nodes.count
        nodes.append(Node(kind: .array, flag: false, count: 0, start: 0, length: 0, next: 0, number: 0))
        guard let count = readItems(closing: UInt8(ascii: "]"), { $0.readValue(depth: depth) }) else { return false }
        nodes[node] = Node(kind: .array, flag: false, count: Int32(count), start: 0, length: 0, next: Int32(nodes.count), number: 0)
        return true
    }

    /// The items of an array or object, from its opening bracket at `index` to `closing`, read
    /// one by one by `item` with commas between: how many, or nil when declined.
    @inline(__always)
    private mutating func readItems(closing: UInt8, _ item: (inout JSONTape) -> Bool) -> Int? {
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == closing {
            index += 1
            return 0
        }
        var count = 0
        while true {
            guard item(&self) else { return nil }
            count += 1
            skipWhitespace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            guard bytes[index] == closing else { return nil }
            index += 1
            return count
        }
    }

    /// Sorts `order[start...]` (ASCII keys: by bytes, as by UTF-16 code units); false on a
    /// duplicate key, which the parser words. Insertion sort: keys mostly arrive sorted.
    private func sortKeys(from start: Int) -> Bool {
        for next in (start + 1)..<max(start + 1, order.count) {
            var position = next
            while position > start {
                let comparison = JSONTape.compareKeys(nodes[Int(order[position - 1])], nodes[Int(order[position])], in: bytes)
                if comparison == 0 { return false }
                if comparison < 0 { break }
                order.swapAt(position, position - 1)
                position -= 1
            }
        }
        return true
    }

    /// A string without raw control characters, checked as UTF-8 (or, for a key, as ASCII
    /// without escapes). One with escapes goes on in `readEscapedString`.
    private mutating func readString(asciiOnly: Bool = false) -> Bool {
        index += 1
        let start = index
        var highBitsSeen = StringBytes.skipPlainWords(bytes, from: &index)
        if index + 8 <= bytes.count {
            // The word holds a quote, backslash or control character: its lowest flagged
            // byte is the first such (the bytes before it are plain).
            let word = StringBytes.word(UnsafeRawBufferPointer(bytes), at: index)
            let plainBytes = StringBytes.specials(word).trailingZeroBitCount / 8
            highBitsSeen |= plainBytes == 0 ? 0 : word & (UInt64.max >> (64 - 8 * plainBytes))
            index += plainBytes
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            if byte == UInt8(ascii: "\\"), !asciiOnly { return readEscapedString(from: start) }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return false }
            highBitsSeen |= UInt64(byte)
            index += 1
        }
        guard index < bytes.count else { return false }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        if highBitsSeen & StringBytes.highBits != 0 {
            guard !asciiOnly, JSONTape.isValidUTF8(text) else { return false }
        }
        index += 1
        let prefix = asciiOnly ? JSONTape.keyPrefix(text, readableUpTo: bytes.baseAddress! + bytes.count) : 0
        nodes.append(Node(kind: .string, flag: false, count: 0, start: Int32(start), length: Int32(text.count),
                          next: Int32(nodes.count + 1), number: Double(bitPattern: prefix)))
        return true
    }

    /// A key's first eight bytes as a big-endian integer, zero-padded: comparing two of them
    /// orders most keys without looking at their bytes again. `end` bounds what may be read.
    @inline(__always)
    private static func keyPrefix(_ key: UnsafeBufferPointer<UInt8>, readableUpTo end: UnsafePointer<UInt8>) -> UInt64 {
        guard let base = key.baseAddress else { return 0 }
        let count = min(key.count, 8)
        if end - base >= 8 {
            let word = UInt64(bigEndian: UnsafeRawPointer(base).loadUnaligned(as: UInt64.self))
            return count == 8 ? word : word & ~(UInt64.max >> (8 * count))
        }
        var prefix: UInt64 = 0
        for offset in 0..<8 { prefix = prefix << 8 | UInt64(offset < count ? base[offset] : 0) }
        return prefix
    }

    /// The rest of a string that has escapes, from `start` (its first byte; `index` is at the
    /// first backslash), resolved into the tape's buffer. Declined as the parser would refuse
    /// it (an unknown escape, a lone surrogate, a raw control character, bad UTF-8).
    private mutating func readEscapedString(from start: Int) -> Bool {
        let unescapedStart = unescaped.count
        unescaped.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20 else { return false }
            guard byte == UInt8(ascii: "\\") else {
                unescaped.append(byte)
                index += 1
                continue
            }
            guard case .success(let scalar) = StringBytes.readEscape(bytes, at: &index) else { return false }
            for unit in UTF8.encode(scalar)! { unescaped.append(unit) }
        }
        guard index < bytes.count else { return false }
        index += 1
        let length = unescaped.count - unescapedStart
        guard JSONTape.isValidUTF8(unescaped.slice(unescapedStart, count: length)) else { return false }
        nodes.append(Node(kind: .string, flag: true, count: 0, start: Int32(unescapedStart), length: Int32(length),
                          next: Int32(nodes.count + 1), number: 0))
        return true
    }

    /// A number as the parser reads it, declined where the parser would refuse it.
    private mutating func readNumber() -> Bool {
        guard case .success(let literal) = NumberLiteral.scan(bytes, at: index),
              case .success(let number) = literal.value(in: bytes) else { return false }
        index = literal.end
        nodes.append(Node(kind: .number, flag: false, count: 0, start: 0, length: 0, next: Int32(nodes.count + 1), number: number))
        return true
    }

    private mutating func readLiteral(_ literal: StaticString, _ kind: Kind, _ flag: Bool) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0 else { return false }
        index += count
        nodes.append(Node(kind: kind, flag: flag, count: 0, start: 0, length: 0, next: Int32(nodes.count + 1), number: 0))
        return true
    }

    /// Byte order of two ASCII keys: negative, zero (the same) or positive.
    @inline(__always)
    private static func compareKeys(_ a: Node, _ b: Node, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        // The prefixes decide unless both keys start with the same eight bytes (a key's bytes
        // are never 0, so the padding cannot tie with a byte).
        let prefixA = a.number.bitPattern, prefixB = b.number.bitPattern
        if prefixA != prefixB { return prefixA < prefixB ? -1 : 1 }
        // Then both are at least eight bytes long, or both the same shorter key.
        func rest(_ key: Node) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: bytes[Int(key.start) + min(Int(key.length), 8)..<Int(key.start + key.length)])
        }
        return ShortBytes.compare(rest(a), rest(b))
    }

    @inline(__always)
    private mutating func skipWhitespace() { StringBytes.skipWhitespace(bytes, from: &index) }

    /// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 { i += 1; continue }
            func continuation(_ offset: Int) -> Bool { i + offset < n && bytes[i + offset] & 0xC0 == 0x80 }
            switch lead {
            case 0xC2...0xDF:
                guard continuation(1) else { return false }
                i += 2
            case 0xE0...0xEF:
                guard continuation(1), continuation(2) else { return false }
                let second = bytes[i + 1]
                if lead == 0xE0, second < 0xA0 { return false }  // overlong
                if lead == 0xED, second > 0x9F { return false }  // a surrogate
                i += 3
            case 0xF0...0xF4:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                let second = bytes[i + 1]
                if lead == 0xF0, second < 0x90 { return false }  // overlong
                if lead == 0xF4, second > 0x8F { return false }  // above U+10FFFF
                i += 4
            default:
                return false
            }
        }
        return true
    }
}
