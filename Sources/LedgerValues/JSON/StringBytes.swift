/// Reading JSON text's bytes, shared by the parser, the tape and the canonical writer: strings
/// eight bytes at a time, white space.
@usableFromInline enum StringBytes {
    @usableFromInline static let ones: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// A flag (0x80) in each byte of `word` (little-endian) that a JSON string cannot hold as it
    /// is: a quote, a backslash or a control character. A byte is flagged when the XOR makes it
    /// zero, or when it is below 0x20; the lowest flag is always a true one (a borrow can raise
    /// false ones above it).
    @inlinable @inline(__always)
    static func specials(_ word: UInt64) -> UInt64 {
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes | (word &- ones &* 0x20) & ~word) & highBits
    }

    /// The word of `bytes` at `offset`, as a little-endian number.
    @inlinable @inline(__always)
    static func word(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt64 {
        UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// Moves `index` over the string's bytes eight at a time up to the word holding its first
    /// quote, backslash or control character (or the last whole word); returns the OR of the
    /// words passed, whose high bits tell whether any byte was not ASCII.
    @inline(__always)
    static func skipPlainWords(_ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int) -> UInt64 {
        var seen: UInt64 = 0
        let raw = UnsafeRawBufferPointer(bytes)
        while index + 8 <= bytes.count {
            let word = StringBytes.word(raw, at: index)
            if StringBytes.specials(word) != 0 { break }
            seen |= word
            index += 8
        }
        return seen
    }

    /// Moves `index` past JSON white space (space, tab, line feed, carriage return).
    @inline(__always)
    static func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }
}

extension StringBytes {
    /// The character an escape sequence stands for, read from its backslash at `index`, which
    /// moves past it: a short form, `\uXXXX`, or a surrogate pair of two of those. The error
    /// is the parser's wording, at its offset; the tape declines on any.
    static func readEscape(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> Result<Unicode.Scalar, JSONParseError> {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { return .failure(JSONParseError(offset: index, reason: "unterminated escape sequence")) }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return .success(Unicode.Scalar(byte))
        case UInt8(ascii: "b"): return .success("\u{08}")
        case UInt8(ascii: "f"): return .success("\u{0C}")
        case UInt8(ascii: "n"): return .success("\n")
        case UInt8(ascii: "r"): return .success("\r")
        case UInt8(ascii: "t"): return .success("\t")
        case UInt8(ascii: "u"):
            guard var scalar = readHex4(bytes, at: &index) else {
                return .failure(JSONParseError(offset: index, reason: "\\u needs four hexadecimal digits"))
            }
            if (0xD800...0xDBFF).contains(scalar) {
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    return .failure(JSONParseError(offset: escapeStart, reason: "lone high surrogate \\u\(hex4(scalar)) (not valid Unicode)"))
                }
                index += 2
                guard let low = readHex4(bytes, at: &index) else {
                    return .failure(JSONParseError(offset: index, reason: "\\u needs four hexadecimal digits"))
                }
                guard (0xDC00...0xDFFF).contains(low) else {
                    return .failure(JSONParseError(offset: escapeStart, reason: "high surrogate \\u\(hex4(scalar)) not followed by a low surrogate"))
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                return .failure(JSONParseError(offset: escapeStart, reason: "lone low surrogate \\u\(hex4(scalar)) (not valid Unicode)"))
            }
            return .success(Unicode.Scalar(scalar)!)
        default:
            return .failure(JSONParseError(offset: escapeStart, reason: "invalid escape: \\ followed by \(describe(byte))"))
        }
    }

    /// Four hexadecimal digits at `index` (either case), moving past them; nil at the first
    /// that is not one, with `index` on it.
    private static func readHex4(_ bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Hex.nibble(bytes[index]) else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A byte as an error message names it: the character if printable, else its hex value.
    static func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x\(hex4(UInt32(byte)))"
    }

    /// At least four uppercase hexadecimal digits.
    static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
