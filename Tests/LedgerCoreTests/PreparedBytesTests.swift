import Testing
@testable import LedgerCore

/// Events keep pointers into a chunk's `PreparedBytes`: what one append returned must hold
/// its bytes through every later append, and emptying it must reuse its blocks.
@Suite struct PreparedBytesTests {
    @Test func everyAppendKeepsItsBytesAndResetReusesTheBlocks() {
        let storage = PreparedBytes(blockSize: 100)
        // Sizes that fill a block exactly, overflow it, and exceed a block on their own.
        let sizes = [40, 60, 1, 99, 100, 250, 3, 0, 97, 180, 50, 50, 7]
        var kept: [(copy: UnsafeBufferPointer<UInt8>, bytes: [UInt8])] = []
        for (index, size) in sizes.enumerated() {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: index * 31 + $0) }
            let copy = bytes.withUnsafeBufferPointer(storage.append)
            #expect(copy.count == size)
            kept.append((copy, bytes))
        }
        for (copy, bytes) in kept { #expect(Array(copy) == bytes) }
        // Two copies never overlap.
        let ranges = kept.filter { $0.copy.count > 0 }.map { UInt(bitPattern: $0.copy.baseAddress!)..<UInt(bitPattern: $0.copy.baseAddress!) + UInt($0.copy.count) }
        for (i, a) in ranges.enumerated() { for b in ranges[(i + 1)...] { #expect(!a.overlaps(b)) } }

        storage.reset()
        let again = [UInt8](repeating: 9, count: 40).withUnsafeBufferPointer(storage.append)
        #expect(again.baseAddress == kept[0].copy.baseAddress)
        #expect(Array(again) == [UInt8](repeating: 9, count: 40))
    }
}
