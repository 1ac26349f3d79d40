import Crypto
import LedgerValues

/// A SHA-256 digest in the hash chain: each event's hash covers its canonical bytes, which hold
/// the previous event's hash as `prev`.
public struct ChainHash: Sendable, Hashable, CustomStringConvertible {
    public let bytes: SIMD32<UInt8>

    /// The `prev` of the first event: 32 zero bytes.
    public static let genesis = ChainHash(bytes: SIMD32(repeating: 0))

    public init(bytes: SIMD32<UInt8>) { self.bytes = bytes }

    /// Reads the first 32 bytes of `raw`.
    public init(raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 32)
        bytes = raw.loadUnaligned(as: SIMD32<UInt8>.self)
    }

    /// Parses 64 lowercase or uppercase hexadecimal digits.
    public init?(hex: some StringProtocol) {
        let parsed = hex.utf8.withContiguousStorageIfAvailable(ChainHash.parse) ?? Array(hex.utf8).withUnsafeBufferPointer(ChainHash.parse)
        guard let parsed else { return nil }
        bytes = parsed
    }

    /// Parses 64 hexadecimal digits given as bytes.
    init?(hex text: UnsafeBufferPointer<UInt8>) {
        guard let parsed = ChainHash.parse(text) else { return nil }
        bytes = parsed
    }

    private static func parse(_ text: UnsafeBufferPointer<UInt8>) -> SIMD32<UInt8>? {
        guard text.count == 64 else { return nil }
        // Eight digits at a time, as bytes of a word (verify parses one `prev` per event).
        let raw = UnsafeRawBufferPointer(text)
        var words = SIMD4<UInt64>()
        for word in 0..<4 {
            let low = hexWord(raw.loadUnaligned(fromByteOffset: 16 * word, as: UInt64.self))
            let high = hexWord(raw.loadUnaligned(fromByteOffset: 16 * word + 8, as: UInt64.self))
            guard let low, let high else { return nil }
            words[word] = UInt64(low) | UInt64(high) << 32
        }
        return unsafeBitCast(words, to: SIMD32<UInt8>.self)
    }

    /// The 4 bytes that 8 hex digits (a little-endian word: the first digit in its low byte)
    /// spell, or nil if any is not a digit. Every step works on all 8 bytes at once; no byte
    /// carries into the next because valid digits are below 0x80.
    @inline(__always)
    private static func hexWord(_ chars: UInt64) -> UInt32? {
        let ones: UInt64 = 0x0101_0101_0101_0101, highBits: UInt64 = 0x8080_8080_8080_8080
        guard chars & highBits == 0 else { return nil }
        /// The high bit of each byte set where that byte lies in lo...hi.
        func inRange(_ x: UInt64, _ lo: UInt8, _ hi: UInt8) -> UInt64 {
            (x &+ ones &* UInt64(0x80 - lo)) & ~(x &+ ones &* UInt64(0x7F - hi)) & highBits
        }
        let lowercase = chars | 0x2020_2020_2020_2020
        guard inRange(chars, UInt8(ascii: "0"), UInt8(ascii: "9")) | inRange(lowercase, UInt8(ascii: "a"), UInt8(ascii: "f")) == highBits
        else { return nil }
        // '0'…'9' are 0x30…0x39, 'a'…'f' and 'A'…'F' are 0x?1…0x?6 with bit 6 set.
        let nibbles = (chars & 0x0F0F_0F0F_0F0F_0F0F) &+ ((chars >> 6) & ones) &* 9
        // Byte k becomes nibble k << 4 | nibble k+1; the even bytes are the digits' bytes.
        var pairs = (nibbles << 4 | nibbles >> 8) & 0x00FF_00FF_00FF_00FF
        pairs = (pairs | pairs >> 8) & 0x0000_FFFF_0000_FFFF
        return UInt32(truncatingIfNeeded: pairs | pairs >> 16)
    }

    /// SHA-256 of `data`.
    public static func of(_ data: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        hasher.update(bufferPointer: data)
        return hasher.finalize().withUnsafeBytes { ChainHash(raw: $0) }
    }

    /// Appends the 64 lowercase hexadecimal digits to `out`.
    public func writeHex(into out: inout [UInt8]) {
        withUnsafeBytes(of: bytes) { Hex.write($0, into: &out) }
    }

    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        writeHex(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
}
