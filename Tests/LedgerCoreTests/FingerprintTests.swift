import Testing
@testable import LedgerCore

/// Verify's fingerprints are SipHash; the function is checked against the reference test
/// vectors of SipHash-2-4 (key 00 01 … 0f, message 00 01 … of each length), which exercise the
/// same rounds, word loading and length byte as the SipHash-1-3 verify uses.
@Suite struct FingerprintTests {
    static let key = (UInt64(0x0706_0504_0302_0100), UInt64(0x0F0E_0D0C_0B0A_0908))

    @Test(arguments: [
        (0, 0x726F_DB47_DD0E_0E31) as (Int, UInt64), (1, 0x74F8_39C5_93DC_67FD),
        (8, 0x93F5_F579_9A93_2462), (15, 0xA129_CA61_49BE_45E5), (16, 0x3F2A_CC7F_57C2_9BDB),
    ])
    func referenceVectors(length: Int, expected: UInt64) {
        let message = (0..<length).map { UInt8($0) }
        let hash = message.withUnsafeBytes { SipHash(key: Self.key, compressionRounds: 2, finalizationRounds: 4).hash($0) }
        #expect(hash == expected, "length \(length)")
    }

    @Test func fingerprintsTellKeysApart() {
        // Keys that differ in one byte, in length only, or by a trailing zero.
        let keys: [[UInt8]] = [[], [0], [0, 0], Array("project/a".utf8), Array("project/b".utf8), Array("project/a\u{0}".utf8),
                               Array(repeating: 7, count: 8), Array(repeating: 7, count: 9), Array(repeating: 7, count: 16)]
        let prints = keys.map { $0.withUnsafeBytes { SipHash.fingerprint.hash($0) } }
        #expect(Set(prints).count == keys.count)
        #expect(prints == keys.map { $0.withUnsafeBytes { SipHash.fingerprint.hash($0) } })
    }

    /// Verify compares each index with its events as digests: the order entries come in must
    /// not matter, and any entry missing, added, or pointing elsewhere must.
    @Test func indexDigestsSeeEntriesNotTheirOrder() {
        let entries: [(key: String, seq: UInt64)] = (1...50).map { ("ev-\($0)", UInt64($0)) }
        func digest(_ entries: [(key: String, seq: UInt64)]) -> IndexDigest {
            var digest = IndexDigest()
            for entry in entries {
                digest.add(Array(entry.key.utf8).withUnsafeBytes { IndexFingerprints.of($0) }, seq: entry.seq)
            }
            return digest
        }
        let intact = digest(entries)
        #expect(digest(entries.reversed()) == intact)
        #expect(digest(entries.shuffled()) == intact)
        var swapped = entries
        (swapped[3].seq, swapped[40].seq) = (swapped[40].seq, swapped[3].seq)
        #expect(digest(swapped) != intact)
        var repointed = entries
        repointed[7].seq = 9
        #expect(digest(repointed) != intact)
        #expect(digest(Array(entries.dropLast())) != intact)
        #expect(digest(entries + [entries[0]]) != intact)
        var halves = digest(Array(entries[..<20]))
        halves.merge(digest(Array(entries[20...])))
        #expect(halves == intact)
    }
}
