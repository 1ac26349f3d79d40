import Testing
import TestSupport
@testable import LedgerValues

@Suite struct HexTests {
    @Test func hexIsWrittenFourBytesAtATimeAsDigitByDigit() {
        let digits = Array("0123456789abcdef".utf8)
        var random = SeededGenerator(state: 16)
        // Every byte value in every position of a word, and every length of tail.
        var inputs = (0..<4).map { shift in (0...255).map { UInt8(truncatingIfNeeded: $0 &+ shift * 67) } }
        inputs += (0..<40).map { count in (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }
        for bytes in inputs {
            var written: [UInt8] = []
            bytes.withUnsafeBytes { Hex.write($0, into: &written) }
            #expect(written == bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] }, "\(bytes)")
        }
    }
}
