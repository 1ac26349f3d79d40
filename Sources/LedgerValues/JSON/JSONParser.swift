/// A strict JSON parser for I-JSON (RFC 7493): it refuses what RFC 8259 refuses and also
/// duplicate keys, lone surrogates, invalid UTF-8, numbers no double can hold (`1e400`),
/// integers beyond ±2^53 (they would not survive as exact amounts), and nesting deeper than
/// `maxDepth`. Errors carry the byte offset.
public struct JSONParser {
    public static let defaultMaxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private let maxDepth: Int

    private init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    /// Parses exactly one JSON value, with optional white space around it.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        let result: Result<JSONValue, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth) }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer, maxDepth: maxDepth) }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    /// Reads a JSON object member by member, in document order, without building the values
    /// of the keys `skip` names: those are stepped over (checked for balanced brackets and
    /// closed strings only) and passed as nil. `verify` uses it to read an event's envelope
    /// fields without building its data.
    public static func forEachMember(of bytes: UnsafeBufferPointer<UInt8>, skip: (String) -> Bool,
                                     _ body: (String, JSONValue?) throws(JSONParseError) -> Void) throws(JSONParseError) {
        var parser = JSONParser(bytes: bytes, maxDepth: defaultMaxDepth)
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "{") else { throw parser.error("an object was expected") }
        parser.index += 1
        parser.skipWhitespace()
        if parser.peek() == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                guard parser.peek() == UInt8(ascii: "\"") else { throw parser.error("an object key (a string) was expected") }
                let key = try parser.parseString()
                parser.skipWhitespace()
                guard parser.peek() == UInt8(ascii: ":") else { throw parser.error("':' was expected after an object key") }
                parser.index += 1
                parser.skipWhitespace()
                if skip(key) {
                    try parser.skipValue()
                    try body(key, nil)
                } else {
                    try body(key, try parser.parseValue(depth: 1))
                }
                parser.skipWhitespace()
                guard parser.index < bytes.count else { throw parser.error("unexpected end of input inside an object") }
                if bytes[parser.index] == UInt8(ascii: ",") {
                    parser.index += 1
                    parser.skipWhitespace()
                    continue
                }
                if bytes[parser.index] == UInt8(ascii: "}") { parser.index += 1; break }
                throw parser.error("',' or '}' was expected in an object")
            }
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected data after the JSON value") }
    }

    /// Steps over one value: strings to their closing quote, arrays and objects to their
    /// matching bracket, anything else to the next delimiter.
    private mutating func skipValue() throws(JSONParseError) {
        var depth = 0
        repeat {
            guard index < bytes.count else { throw error("unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { throw error("unterminated string") }
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                guard depth >= 0 else { throw error("unbalanced brackets") }
                index += 1
            case UInt8(ascii: ","), UInt8(ascii: ":"):
                guard depth > 0 else { throw error("a value was expected") }
                index += 1
            default:
                index += 1
            }
        } while depth > 0 || (index < bytes.count && !isDelimiter(bytes[index]))
    }

    @inline(__always)
    private func isDelimiter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
            || byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    // MARK: Values

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, a value was expected") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth + 1))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "N"), UInt8(ascii: "I"): throw error("NaN and Infinity are not JSON numbers")
        default: throw error("unexpected character \(StringBytes.describe(bytes[index])), a value was expected")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONObject {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; return JSONObject() }
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(8)
        var sorted = true
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw error("an object key (a string) was expected") }
            let keyStart = index
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("':' was expected after an object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if sorted, let last = members.last?.key, !JSONObject.canonicalOrder(last, key) {
                if JSONObject.sameKey(last, key) { throw JSONParseError(offset: keyStart, reason: "duplicate key \"\(MessageText.quote(key))\"") }
                sorted = false
            }
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("',' or '}' was expected in an object")
        }
        if sorted { return JSONObject(sortedMembers: members) }
        if members.count <= 16 {
            // Few members (most objects): insertion sort in place, no arrays made.
            for next in 1..<members.count {
                var position = next
                while position > 0, JSONObject.canonicalOrder(members[position].key, members[position - 1].key) {
                    members.swapAt(position, position - 1)
                    position -= 1
                }
            }
        } else {
            // Sort positions rather than members, so values are moved once.
            let order = members.indices.sorted { JSONObject.canonicalOrder(members[$0].key, members[$1].key) }
            members = order.map { members[$0] }
        }
        for position in 1..<members.count where JSONObject.sameKey(members[position - 1].key, members[position].key) {
            throw error("duplicate key \"\(MessageText.quote(members[position].key))\"")
        }
        return JSONObject(sortedMembers: members)
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) -> [JSONValue] {
        guard depth <= maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; return elements }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an array") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return elements }
            throw error("',' or ']' was expected in an array")
        }
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes, so the bytes are the string once checked as UTF-8. Eight
        // bytes at a time up to the first quote, backslash or control character (a byte is
        // flagged when the XOR makes it zero, or when it is below 0x20; the lowest flag is
        // always a true one), noting on the way whether any byte is non-ASCII.
        var highBitsSeen = StringBytes.skipPlainWords(bytes, from: &index)
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if highBitsSeen & StringBytes.highBits == 0 { return String(decoding: text, as: UTF8.self) }
                return try decodeUTF8(text, at: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character \(StringBytes.describe(byte)) inside a string must be escaped") }
            highBitsSeen |= UInt64(byte)
            index += 1
        }
        guard index < bytes.count else { throw JSONParseError(offset: start - 1, reason: "unterminated string") }
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return try buffer.withUnsafeBufferPointer { raw throws(JSONParseError) in try decodeUTF8(raw, at: start) }
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw error("control character \(StringBytes.describe(byte)) inside a string must be escaped")
            default:
                buffer.append(byte)
                index += 1
            }
        }
        throw JSONParseError(offset: start - 1, reason: "unterminated string")
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(JSONParseError) {
        appendUTF8(try StringBytes.readEscape(bytes, at: &index).get(), to: &buffer)
    }

    private func decodeUTF8(_ raw: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONParseError) -> String {
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw JSONParseError(offset: offset, reason: "string is not valid UTF-8")
        }
        return text
    }

    // MARK: Numbers

    private mutating func parseNumber() throws(JSONParseError) -> Double {
        do {
            let literal = try NumberLiteral.scan(bytes, at: index).get()
            index = literal.end
            return try literal.value(in: bytes).get()
        } catch {
            throw JSONParseError(offset: error.offset, reason: error.reason)
        }
    }

    // MARK: Helpers

    @inline(__always)
    private mutating func skipWhitespace() { StringBytes.skipWhitespace(bytes, from: &index) }

    @inline(__always)
    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        guard index + count <= bytes.count, zip(bytes[index..<index + count], expected).allSatisfy({ $0 == $1 }) else {
            throw error("invalid literal (expected \(literal))")
        }
        index += count
    }

    private func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }

}

@inline(__always)
func appendUTF8(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) {
    let value = scalar.value
    switch value {
    case 0..<0x80:
        buffer.append(UInt8(value))
    case 0x80..<0x800:
        buffer.append(UInt8(0xC0 | (value >> 6)))
        buffer.append(UInt8(0x80 | (value & 0x3F)))
    case 0x800..<0x10000:
        buffer.append(UInt8(0xE0 | (value >> 12)))
        buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
        buffer.append(UInt8(0x80 | (value & 0x3F)))
    default:
        buffer.append(UInt8(0xF0 | (value >> 18)))
        buffer.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
        buffer.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
        buffer.append(UInt8(0x80 | (value & 0x3F)))
    }
}
