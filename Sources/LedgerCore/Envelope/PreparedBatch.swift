import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization
import LedgerSchemas
import LedgerValues

/// A batch's events in order, in chunks that may still be being prepared while the writer
/// takes the first ones: preparing (parsing, validating, canonicalising) runs in the
/// background and the write transaction waits for each chunk only when it gets to it.
///
/// The background has one thread fewer than the machine has cores: the writer, which is the
/// slowest part, keeps a core of its own. When it gets to a chunk a worker is still preparing,
/// it prepares the next chunk no one has started instead of waiting, so no core idles either.
///
/// Once the writer is through with a chunk, it hands the chunk's memory back (`release`), and
/// a later chunk is prepared into it: a big batch then faults in a few chunks' worth of fresh
/// memory instead of all of it. Should the chunk be needed again (the map has to grow and the
/// transaction starts over, or the batch is written a second time), it is prepared again from
/// its lines, in the background as well (`prepareReleasedChunks`). An append has the batch to
/// itself (`exclusively`), and so do `allEvents` and `firstInputError`, so that no one waits
/// for a chunk while its memory goes back.
///
/// A background worker checks lines against a copy of the event catalog of its own, the
/// writer against the program's (`EventCatalog.shared`): looking a type up and validating take
/// and drop references to the catalog's objects, and with one catalog for both threads those
/// reference counts went back and forth between the cores' caches on every event. (A line the
/// tape declines is prepared through its draft, against the program's catalog.)
public final class PreparedBatch: Sendable {
    /// The number of events (non-blank lines).
    public let count: Int
    /// About how many bytes the batch's records take: what the map must have room for.
    let estimatedBytes: Int
    private let chunks: [Chunk]
    /// The first chunk no one has been handed yet (workers and the waiting writer take them in
    /// order from here).
    private let nextChunk = Atomic<Int>(0)
    /// Memory of chunks the writer is through with, for chunks still to be prepared (nil for a
    /// batch of events prepared beforehand).
    private let spareMemory: SpareMemory?
    /// Held by an append from start to end, and by the public calls that wait for chunks.
    private let access = Mutex<Void>(())

    /// A chunk's prepared events and the memory their bytes are in (nil for events prepared
    /// one by one, each with its own).
    struct ChunkMemory: Sendable {
        var events: [PreparedEvent]
        var bytes: PreparedBytes?
    }

    private final class SpareMemory: Sendable {
        private let spares = Mutex<[ChunkMemory]>([])
        /// How many chunks were prepared into the blocks of a chunk released before (for tests).
        let reused = Atomic<Int>(0)
        /// The size of the blocks of a chunk's bytes.
        private let blockSize: Int

        init(blockSize: Int) { self.blockSize = blockSize }

        func put(_ memory: ChunkMemory) { spares.withLock { $0.append(memory) } }

        /// Memory for `count` events: a spare chunk's, emptied, if there is one.
        func take(count: Int) -> (events: [PreparedEvent], bytes: PreparedBytes) {
            guard var memory = spares.withLock({ $0.popLast() }), var bytes = memory.bytes else {
                var events: [PreparedEvent] = []
                events.reserveCapacity(count)
                return (events, PreparedBytes(blockSize: blockSize))
            }
            memory.events.removeAll(keepingCapacity: true)
            memory.bytes = nil
            // Events of the chunk kept elsewhere still point into its bytes: leave those be.
            guard isKnownUniquelyReferenced(&bytes) else { return (memory.events, PreparedBytes(blockSize: blockSize)) }
            bytes.reset()
            reused.add(1, ordering: .relaxed)
            return (memory.events, bytes)
        }
    }

    /// One chunk's events, or the error of its first bad line. Whoever comes first prepares
    /// it: a background worker, or the writer when it needs the chunk before any worker has
    /// started it (so the writer never waits on a thread pool that has no thread to spare).
    private final class Chunk: @unchecked Sendable {
        /// Nobody has started it; someone has; its memory went back after it was prepared
        /// (only the holder of the batch's access prepares it again, or has it prepared).
        private static let unclaimed = 0, claimed = 1, released = 2
        private let state: Atomic<Int>
        private let finished: Atomic<Bool>
        private let done = DispatchSemaphore(value: 0)
        private let work: (@Sendable (EventCatalog) -> Result<ChunkMemory, LedgerError>)?
        // Written by whoever claimed the chunk before `finished` is set and `done` signalled,
        // read only after either; taken back (`takeMemory`) by the holder of the batch's access.
        private var result: Result<ChunkMemory, LedgerError>?

        init(_ work: @escaping @Sendable (EventCatalog) -> Result<ChunkMemory, LedgerError>) {
            state = Atomic(Chunk.unclaimed)
            finished = Atomic(false)
            self.work = work
        }

        init(ready events: [PreparedEvent]) {
            state = Atomic(Chunk.claimed)
            finished = Atomic(true)
            work = nil
            result = .success(ChunkMemory(events: events, bytes: nil))
            done.signal()
        }

        var isFinished: Bool { finished.load(ordering: .acquiring) }
        var isReleased: Bool { state.load(ordering: .acquiring) == Chunk.released }

        /// Prepares the chunk here, with `catalog`, if it is in state `from`; whether it did.
        @discardableResult
        func prepare(with catalog: EventCatalog, ifIn from: Int) -> Bool {
            guard let work, state.compareExchange(expected: from, desired: Chunk.claimed, ordering: .acquiringAndReleasing).exchanged else {
                return false
            }
            result = work(catalog)
            finished.store(true, ordering: .releasing)
            done.signal()
            return true
        }

        /// For a background worker of the first round: prepares it unless someone has started it.
        @discardableResult
        func prepareUnlessStarted(with catalog: EventCatalog) -> Bool { prepare(with: catalog, ifIn: Chunk.unclaimed) }

        /// For the holder of the batch's access: prepares it unless someone has started it,
        /// or again if its memory went back.
        @discardableResult
        func prepareUnlessUnderWay(with catalog: EventCatalog) -> Bool {
            prepare(with: catalog, ifIn: Chunk.unclaimed) || prepare(with: catalog, ifIn: Chunk.released)
        }

        /// For a background worker preparing released chunks again.
        func prepareIfReleased(with catalog: EventCatalog) { prepare(with: catalog, ifIn: Chunk.released) }

        /// For the holder of the batch's access.
        func wait(preparingWith catalog: EventCatalog) -> Result<[PreparedEvent], LedgerError> {
            prepareUnlessUnderWay(with: catalog)
            done.wait()
            done.signal()  // leaves it open for the next wait
            return result!.map(\.events)
        }

        /// The memory of a chunk prepared without error, which goes back to being unprepared
        /// (`released`); nil for a chunk that cannot be prepared again (made of events prepared
        /// beforehand) or that has an error. For the holder of the batch's access, once it has
        /// waited for the chunk.
        func takeMemory() -> ChunkMemory? {
            guard work != nil, case .success(let memory) = result else { return nil }
            result = nil
            finished.store(false, ordering: .releasing)
            done.wait()  // the signal the last wait left open
            state.store(Chunk.released, ordering: .releasing)
            return memory
        }
    }

    /// Events already prepared, as one chunk.
    public init(_ events: [PreparedEvent]) {
        count = events.count
        estimatedBytes = events.reduce(0) { $0 + $1.recordBytes }
        chunks = [Chunk(ready: events)]
        spareMemory = nil
    }

    /// Starts preparing `lines` of `input` in the background.
    /// `inBackground` false leaves every chunk to the writer (for tests: the path a writer takes
    /// when no worker has started a chunk it needs).
    init(preparing input: [UInt8], lines: [(number: Int, range: Range<Int>)], today: EffectiveTime, validation: DataValidation,
         inBackground: Bool = true) {
        count = lines.count
        // A record is about its line's size plus the fields the ledger adds.
        estimatedBytes = input.count + lines.count * PreparedEvent.ledgerFieldBytes
        // Small chunks let the writer start early; a small batch is one chunk.
        let chunkSize = lines.count >= 4096 ? max(1024, lines.count / 64) : max(lines.count, 1)
        // A chunk's bytes are about its lines' (a small batch's are all in one block).
        let spareMemory = SpareMemory(blockSize: min(1 << 20, input.count + lines.count * 64 + 4096))
        self.spareMemory = spareMemory
        let work = { @Sendable (index: Int, catalog: EventCatalog) in
            let range = index * chunkSize..<min((index + 1) * chunkSize, lines.count)
            return Result { () throws(LedgerError) in
                var (events, storage) = spareMemory.take(count: range.count)
                var tape = JSONTape()
                let output = ReusableBuffer<UInt8>(capacity: 1024)
                try input.withUnsafeBufferPointer { input throws(LedgerError) in
                    for (number, line) in lines[range] {
                        let bytes = UnsafeBufferPointer(rebasing: input[line])
                        if let event = PreparedEvent.fromTape(bytes, number: number, today: today, validation: validation,
                                                              catalog: catalog, tape: &tape, output: output, storage: storage) {
                            events.append(event)
                            continue
                        }
                        do throws(LedgerError) {
                            let draft = try EventDraft(json: bytes)
                            events.append(try PreparedEvent(draft, line: number, today: today, validation: validation))
                        } catch {
                            throw error.at(line: number)
                        }
                    }
                }
                return ChunkMemory(events: events, bytes: storage)
            }
        }
        let chunks = (0..<(lines.count + chunkSize - 1) / chunkSize).map { index in Chunk { work(index, $0) } }
        self.chunks = chunks
        // A small batch is prepared by the writer as it takes it.
        if inBackground, chunks.count > 1 {
            PreparedBatch.startWorkers(for: chunks.count, next: { self.takeNextChunk().map { chunks[$0] } }) { $0.prepareUnlessStarted(with: $1) }
        }
    }

    /// Starts the background's threads (one fewer than the machine has cores, at most one per
    /// chunk) on the chunks `next` hands out, each preparing them with `prepare` against a
    /// catalog of its own, made when it gets its first chunk.
    private static func startWorkers(for chunkCount: Int, next: @escaping @Sendable () -> Chunk?,
                                     prepare: @escaping @Sendable (Chunk, EventCatalog) -> Void) {
        let workers = max(1, min(chunkCount, sysconf(Int32(_SC_NPROCESSORS_ONLN)) - 1))
        DispatchQueue.global().async {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                lazy var catalog = EventCatalog.embedded()
                while let chunk = next() { prepare(chunk, catalog) }
            }
        }
    }

    /// The first chunk no one has been handed yet, now handed to the caller; nil when all have been.
    private func takeNextChunk() -> Int? {
        let next = nextChunk.wrappingAdd(1, ordering: .relaxed).oldValue
        return next < chunks.count ? next : nil
    }

    var chunkCount: Int { chunks.count }

    /// How many chunks were prepared into the blocks of a chunk released before (for tests).
    var chunksPreparedInReusedMemory: Int { spareMemory?.reused.load(ordering: .relaxed) ?? 0 }

    /// Runs `body` with the batch to itself: an append holds it from start to end.
    func exclusively<R, Failure: Error>(_ body: () throws(Failure) -> R) throws(Failure) -> R {
        try access.withLock { _ throws(Failure) -> sending R in try body() }
    }

    /// The events of chunk `index`, waiting for them if need be; the error of its first bad
    /// line if it has one. For the holder of the batch's access.
    func events(inChunk index: Int) throws(LedgerError) -> [PreparedEvent] {
        let chunk = chunks[index]
        if !chunk.prepareUnlessUnderWay(with: .shared) {
            // Someone else is preparing it: prepare a later one meanwhile rather than wait.
            while !chunk.isFinished, let other = takeNextChunk() { chunks[other].prepareUnlessStarted(with: .shared) }
        }
        return try chunk.wait(preparingWith: .shared).get()
    }

    /// The writer is through with chunk `index` for now: its memory may take a later chunk's
    /// events (and the chunk is prepared again should it be needed again). For the holder of
    /// the batch's access, with no array of the chunk's events left in its hands.
    func release(chunk index: Int) {
        if let spareMemory, let memory = chunks[index].takeMemory() { spareMemory.put(memory) }
    }

    /// Starts preparing again, on the background's threads, the chunks whose memory went
    /// back, in order: the writer going over the batch again then mostly finds them ready. For
    /// the holder of the batch's access.
    func prepareReleasedChunks() {
        let released = chunks.filter(\.isReleased)
        guard !released.isEmpty else { return }
        let next = Atomic<Int>(0)
        PreparedBatch.startWorkers(for: released.count, next: {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            return index < released.count ? released[index] : nil
        }) { $0.prepareIfReleased(with: $1) }
    }

    /// Every event, once all are prepared; else the error of the first bad line.
    public func allEvents() throws(LedgerError) -> [PreparedEvent] {
        try exclusively { () throws(LedgerError) in try allEventsHeld() }
    }

    /// `allEvents`, for the holder of the batch's access.
    func allEventsHeld() throws(LedgerError) -> [PreparedEvent] {
        prepareReleasedChunks()
        var all: [PreparedEvent] = []
        all.reserveCapacity(count)
        for index in chunks.indices { all.append(contentsOf: try events(inChunk: index)) }
        return all
    }

    /// The error of the first bad line, once all are prepared; nil when every line is good.
    public func firstInputError() -> LedgerError? {
        exclusively { firstInputErrorHeld() }
    }

    /// `firstInputError`, for the holder of the batch's access. A chunk whose memory went
    /// back was prepared without error, and would be again.
    func firstInputErrorHeld() -> LedgerError? {
        for chunk in chunks where !chunk.isReleased {
            if case .failure(let error) = chunk.wait(preparingWith: .shared) { return error }
        }
        return nil
    }
}
