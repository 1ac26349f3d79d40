/// Memory for the canonical bytes of prepared events: blocks filled one after another and
/// never moved, so that an event keeps a pointer to its bytes instead of an array of its own.
/// A big batch gives each chunk one of these; once the writer is through with a chunk and no
/// event refers to it any more, it is emptied and filled again for a later chunk. A million
/// events then fault in a few chunks' worth of fresh memory instead of a buffer each.
///
/// Filled by one thread at a time: a chunk's preparer, then (after the writer hands it back
/// through a lock, which orders the two) the preparer of a later chunk. An event's bytes never
/// change while the event lives, because `reset` is only for an object no event refers to.
final class PreparedBytes: @unchecked Sendable {
    private var blocks: [UnsafeMutableRawBufferPointer] = []
    /// The block being filled, and how much of it is used.
    private var current = 0, used = 0
    private let blockSize: Int

    /// Blocks of `blockSize` bytes at least (bigger when one event needs more).
    init(blockSize: Int) {
        self.blockSize = blockSize
    }

    deinit {
        for block in blocks { block.deallocate() }
    }

    /// Copies `bytes` in and returns where they are now.
    func append(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if blocks.isEmpty || used + bytes.count > blocks[current].count {
            if !blocks.isEmpty { current += 1 }
            if current == blocks.count || blocks[current].count < bytes.count {
                let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(blockSize, bytes.count), alignment: 16)
                blocks.insert(block, at: current)
            }
            used = 0
        }
        let start = blocks[current].baseAddress! + used
        if let source = bytes.baseAddress { start.copyMemory(from: source, byteCount: bytes.count) }
        used += bytes.count
        return UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }

    /// Empties it for new bytes, keeping its blocks. Only for an object no event refers to.
    func reset() {
        current = 0
        used = 0
    }
}
