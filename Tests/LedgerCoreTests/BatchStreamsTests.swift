import Testing
import TestSupport
@testable import LedgerCore

/// The writer's table of the streams a batch appends to, against a dictionary doing the same.
@Suite struct BatchStreamsTests {
    /// Streams asked for in a scrambled order, some many times, under the real hash and under
    /// hashes that collide on purpose (three values for hundreds of streams, so every lookup
    /// probes past other streams' entries, through several growths of the table).
    @Test(arguments: [false, true])
    func versionsFollowEachStreamAsADictionaryWould(colliding: Bool) {
        let names = (0..<700).map { "project/p\($0)" }
        func hash(_ index: Int) -> UInt64 { colliding ? UInt64(index % 3) : BatchStreams.hash(names[index]) }
        var streams = BatchStreams()
        var model: [String: UInt64] = [:]
        var storedReads: [String: Int] = [:]
        var firstAsked: [String] = []
        var slots: [Int] = []
        var generator = SeededGenerator(state: 11)
        for _ in 0..<5_000 {
            let index = Int(generator.next() % UInt64(names.count))
            let name = names[index]
            let position = streams.position(of: name, hash: hash(index)) {
                storedReads[name, default: 0] += 1
                return UInt64(index % 5)  // what the ledger held before the batch
            }
            if model[name] == nil {
                model[name] = UInt64(index % 5)
                firstAsked.append(name)
            }
            #expect(position.version == model[name])
            streams.append(UInt64(slots.count + 1), at: position)
            model[name]! += 1
            slots.append(firstAsked.firstIndex(of: name)!)
        }
        #expect(storedReads.values.allSatisfy { $0 == 1 }, "the stored version is read once per stream")
        #expect(storedReads.count == model.count)
        let written = streams.written
        #expect(written.streams == firstAsked)
        #expect(written.streamIndex == slots)
    }
}
