#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dispatch
import LedgerValues

/// Batch input: NDJSON, one event per line. Blank lines are skipped; line numbers count every
/// line, so an error points at the line an editor shows.
public enum EventBatch {
    /// Parses and prepares every line; throws the error of the first bad line (by number).
    /// Large batches are prepared on all cores.
    public static func prepare(_ bytes: UnsafeBufferPointer<UInt8>, today: EffectiveTime = .today()) throws(LedgerError) -> [PreparedEvent] {
        try prepare(bytes, today: today, validation: .catalog)
    }

    @_spi(Benchmark)
    public static func prepare(_ bytes: UnsafeBufferPointer<UInt8>, today: EffectiveTime = .today(),
                               validation: DataValidation) throws(LedgerError) -> [PreparedEvent] {
        try preparing(Array(bytes), today: today, validation: validation).allEvents()
    }

    /// Starts preparing every line on all cores and returns at once: `Ledger.append` writes
    /// the first chunks while later ones are still being prepared.
    public static func preparing(_ bytes: [UInt8], today: EffectiveTime = .today()) throws(LedgerError) -> PreparedBatch {
        try preparing(bytes, today: today, validation: .catalog)
    }

    @_spi(Benchmark)
    public static func preparing(_ bytes: [UInt8], today: EffectiveTime = .today(), validation: DataValidation) throws(LedgerError) -> PreparedBatch {
        guard bytes.count <= Limits.maxBatchBytes else {
            throw LedgerError(.invalidInput, "the batch is \(bytes.count) bytes, over the limit of \(Limits.maxBatchBytes); split it")
        }
        return PreparedBatch(preparing: bytes, lines: splitLines(bytes), today: today, validation: validation)
    }

    /// The non-blank lines with their 1-based numbers, without the line ending (`\n` or `\r\n`).
    static func splitLines(_ bytes: [UInt8]) -> [(number: Int, range: Range<Int>)] {
        bytes.withUnsafeBufferPointer { splitLines($0) }
    }

    static func splitLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [(number: Int, range: Range<Int>)] {
        // A big batch is split on two cores: its halves meet at a line end, and the second
        // half's line numbers go on from the first half's count of line ends.
        guard bytes.count >= 4 << 20, let base = bytes.baseAddress,
              let newline = memchr(base + bytes.count / 2, Int32(UInt8(ascii: "\n")), bytes.count - bytes.count / 2)
        else { return lines(of: bytes, in: 0..<bytes.count).lines }
        let middle = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
        var halves: [(lines: [(number: Int, range: Range<Int>)], lineEnds: Int)] = [([], 0), ([], 0)]
        halves.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots), input = UnsafeSendable(bytes)
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                slots.value[half] = lines(of: input.value, in: half == 0 ? 0..<middle : middle..<input.value.count)
            }
        }
        var all = halves[0].lines
        all.reserveCapacity(all.count + halves[1].lines.count)
        let before = halves[0].lineEnds
        all.append(contentsOf: halves[1].lines.lazy.map { (number: $0.number + before, range: $0.range) })
        return all
    }

    /// The non-blank lines of `bytes[range]` (which starts a line), numbered from 1, and how
    /// many line ends it holds.
    private static func lines(of bytes: UnsafeBufferPointer<UInt8>, in range: Range<Int>) -> (lines: [(number: Int, range: Range<Int>)], lineEnds: Int) {
        var lines: [(number: Int, range: Range<Int>)] = []
        var start = range.lowerBound, number = 1
        func add(_ end: Int) {
            var stop = end
            if stop > start, bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
            if bytes[start..<stop].contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append((number, start..<stop)) }
        }
        guard let base = bytes.baseAddress else { return ([], 0) }
        // memchr finds the line ends many bytes at a time.
        while start < range.upperBound, let newline = memchr(base + start, Int32(UInt8(ascii: "\n")), range.upperBound - start) {
            let end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            add(end)
            start = end + 1
            number += 1
        }
        if start < range.upperBound { add(range.upperBound) }
        return (lines, number - 1)
    }
}
