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
        guard bytes.count <= Limits.maxBatchBytes else {
            throw LedgerError(.invalidInput, "the batch is \(bytes.count) bytes, over the limit of \(Limits.maxBatchBytes); split it")
        }
        let lines = splitLines(bytes)
        let chunkCount = lines.count >= 4096 ? 8 : 1
        let chunkSize = (lines.count + chunkCount - 1) / max(chunkCount, 1)
        var results = [Result<[PreparedEvent], LedgerError>](repeating: .success([]), count: chunkCount)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = UnsafeSendable(slots), input = UnsafeSendable(bytes)
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let range = min(chunk * chunkSize, lines.count)..<min((chunk + 1) * chunkSize, lines.count)
                slots.value[chunk] = Result { () throws(LedgerError) in
                    var prepared: [PreparedEvent] = []
                    prepared.reserveCapacity(range.count)
                    for (number, line) in lines[range] {
                        let text = UnsafeBufferPointer(rebasing: input.value[line])
                        do throws(LedgerError) {
                            prepared.append(try PreparedEvent(try EventDraft(json: text), line: number, today: today, validation: validation))
                        } catch {
                            throw error.at(line: number)
                        }
                    }
                    return prepared
                }
            }
        }
        var all: [PreparedEvent] = []
        all.reserveCapacity(lines.count)
        for result in results { all.append(contentsOf: try result.get()) }
        return all
    }

    /// The non-blank lines with their 1-based numbers, without the line ending (`\n` or `\r\n`).
    static func splitLines(_ bytes: UnsafeBufferPointer<UInt8>) -> [(number: Int, range: Range<Int>)] {
        var lines: [(Int, Range<Int>)] = []
        var start = 0, number = 1
        func add(_ end: Int) {
            var stop = end
            if stop > start, bytes[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
            if bytes[start..<stop].contains(where: { $0 != 0x20 && $0 != 0x09 }) { lines.append((number, start..<stop)) }
        }
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\n") {
                add(i)
                start = i + 1
                number += 1
            }
            i += 1
        }
        if start < bytes.count { add(bytes.count) }
        return lines
    }
}

/// Lets a buffer be handed to `concurrentPerform`, whose iterations write disjoint slots.
package struct UnsafeSendable<T>: @unchecked Sendable {
    package let value: T
    package init(_ value: T) { self.value = value }
}
