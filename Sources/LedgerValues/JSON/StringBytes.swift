/// Reading a JSON string's bytes eight at a time, for the parser and the canonical writer.
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
}
