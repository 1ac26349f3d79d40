/// Reading JSON text's bytes, shared by the parser, the tape and the canonical writer: strings
/// eight bytes at a time, white space.
enum StringBytes {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// A flag (0x80) in each byte of `word` (little-endian) that a JSON string cannot hold as it
    /// is: a quote, a backslash or a control character. A byte is flagged when the XOR makes it
    /// zero, or when it is below 0x20; the lowest flag is always a true one (a borrow can raise
    /// false ones above it).
    @inline(__always)
    static func specials(_ word: UInt64) -> UInt64 {
        let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
        return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes | (word &- ones &* 0x20) & ~word) & highBits
    }

    /// The word of `bytes` at `offset`, as a little-endian number.
    @inline(__always)
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
