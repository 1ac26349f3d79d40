/// SipHash (Aumasson and Bernstein), a keyed hash: without the key, no one can choose inputs
/// that collide. Verify fingerprints index keys with it under a per-process random key. It is
/// the function Swift's `Hasher` computes (SipHash-1-3), written for whole byte buffers: the
/// `Hasher` API buffers its input a byte run at a time, which cost verify several percent.
struct SipHash {
    private let k0: UInt64, k1: UInt64
    /// Rounds per 8-byte word and at the end: 1 and 3 for SipHash-1-3, 2 and 4 for SipHash-2-4.
    private let compressionRounds: Int, finalizationRounds: Int

    init(key: (UInt64, UInt64), compressionRounds: Int = 1, finalizationRounds: Int = 3) {
        (k0, k1) = key
        self.compressionRounds = compressionRounds
        self.finalizationRounds = finalizationRounds
    }

    /// SipHash-1-3 under a key drawn once per process.
    static let fingerprint: SipHash = {
        var random = SystemRandomNumberGenerator()
        return SipHash(key: (random.next(), random.next()))
    }()

    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var v0 = k0 ^ 0x736F_6D65_7073_6575, v1 = k1 ^ 0x646F_7261_6E64_6F6D
        var v2 = k0 ^ 0x6C79_6765_6E65_7261, v3 = k1 ^ 0x7465_6462_7974_6573
        @inline(__always) func round() {
            v0 &+= v1; v1 = v1.rotatedLeft(13); v1 ^= v0; v0 = v0.rotatedLeft(32)
            v2 &+= v3; v3 = v3.rotatedLeft(16); v3 ^= v2
            v0 &+= v3; v3 = v3.rotatedLeft(21); v3 ^= v0
            v2 &+= v1; v1 = v1.rotatedLeft(17); v1 ^= v2; v2 = v2.rotatedLeft(32)
        }
        @inline(__always) func absorb(_ word: UInt64) {
            v3 ^= word
            for _ in 0..<compressionRounds { round() }
            v0 ^= word
        }
        let whole = bytes.count & ~7
        var offset = 0
        while offset < whole {
            absorb(UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            offset += 8
        }
        // The last word: the remaining bytes, and the length's low byte on top.
        var last = UInt64(truncatingIfNeeded: bytes.count) << 56
        for i in 0..<(bytes.count - whole) { last |= UInt64(bytes[whole + i]) << (8 * i) }
        absorb(last)
        v2 ^= 0xFF
        for _ in 0..<finalizationRounds { round() }
        return v0 ^ v1 ^ v2 ^ v3
    }
}

private extension UInt64 {
    @inline(__always) func rotatedLeft(_ count: UInt64) -> UInt64 { self << count | self >> (64 - count) }
}
