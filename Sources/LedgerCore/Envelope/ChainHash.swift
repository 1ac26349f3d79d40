import Crypto
import LedgerValues
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
        // Assemble 8 bytes a word (little-endian in memory, so byte i of a word sits at bit
        // 8·i): setting SIMD lanes one by one is several times slower.
        var words = SIMD4<UInt64>()
        for word in 0..<4 {
            var value: UInt64 = 0
            for i in 0..<8 {
                guard let high = Hex.nibble(text[16 * word + 2 * i]), let low = Hex.nibble(text[16 * word + 2 * i + 1]) else { return nil }
                value |= UInt64(high << 4 | low) << (8 * UInt64(i))
            }
            words[word] = value
        }
        return unsafeBitCast(words, to: SIMD32<UInt8>.self)
    }

    /// SHA-256 of `data`.
    public static func of(_ data: UnsafeRawBufferPointer) -> ChainHash {
        var hasher = SHA256()
        hasher.update(bufferPointer: data)
        return hasher.finalize().withUnsafeBytes { ChainHash(raw: $0) }
    }

    /// Appends the 64 lowercase hexadecimal digits to `out`.
    public func writeHex(into out: inout [UInt8]) {
        for i in 0..<32 {
            out.append(Hex.digits[Int(bytes[i] >> 4)])
            out.append(Hex.digits[Int(bytes[i] & 0xF)])
        }
    }

    public var hex: String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        writeHex(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { hex }
}
