/// Lowercase hexadecimal, as hashes, keys and signatures are written in the ledger's JSON.
public enum Hex {
    public static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        bytes.withUnsafeBytes { write($0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the digits of `bytes` to `out`, two per byte: four bytes at a time, worked
    /// out in one word (the writer spells every record's `prev` this way).
    @inlinable
    public static func write(_ bytes: UnsafeRawBufferPointer, into out: inout some ByteSink) {
        var index = 0
        while index + 4 <= bytes.count {
            let word = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
            withUnsafeBytes(of: digits(of: word).bigEndian) { $0.withMemoryRebound(to: UInt8.self) { out.append(contentsOf: $0) } }
            index += 4
        }
        digits.withUnsafeBufferPointer { digits in
            for byte in bytes[index...] {
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            }
        }
    }

    /// The eight digits of `word` as ASCII bytes, the first in the most significant byte.
    @inlinable @inline(__always)
    static func digits(of word: UInt32) -> UInt64 {
        // Spread the nibbles one per byte, in order...
        var x = UInt64(word)
        x = (x & 0xFFFF_0000) << 16 | (x & 0xFFFF)
        x = (x & 0x0000_FF00_0000_FF00) << 8 | (x & 0x0000_00FF_0000_00FF)
        x = (x & 0x00F0_00F0_00F0_00F0) << 4 | (x & 0x000F_000F_000F_000F)
        // ...then add "0" to each, and to those of 10 or more the gap from "9" + 1 to "a".
        let letters = ((x &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return x &+ 0x3030_3030_3030_3030 &+ letters &* 0x27
    }

    /// The bytes of an even-length hex string (either case), or nil.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    /// The value of one hex digit, either case.
    @inlinable @inline(__always)
    public static func nibble(_ c: UInt8) -> UInt8? {
        let digit = c &- UInt8(ascii: "0")
        if digit < 10 { return digit }
        let letter = (c | 0x20) &- UInt8(ascii: "a")
        return letter < 6 ? letter + 10 : nil
    }
}
