@_spi(Benchmark) import LedgerCore
import LedgerProjections
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

/// Runs `job` in a new process of this benchmark and returns the figures it printed.
@MainActor func launch(_ job: Job, target: String, rows: String) throws -> [(String, Double)] {
    var path = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &path, path.count - 1)
    precondition(length > 0, "cannot find this program's path")
    let program = String(decoding: path.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let command = "'\(program)' --job \(job.rawValue) --events \(events) --target '\(target)' --rows '\(rows)'"
    guard let pipe = popen(command, "r") else { fatalError("cannot run \(command)") }
    var output = ""
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), pipe) != nil {
        output += String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    precondition(pclose(pipe) == 0, "the \(job.rawValue) job failed: \(output)")
    return output.split(whereSeparator: \.isWhitespace).compactMap { pair in
        let parts = pair.split(separator: "=")
        guard parts.count == 2, let seconds = Double(parts[1]) else { return nil }
        return (String(parts[0]), seconds)
    }
}

/// The child's side: generates the same events, times its job, prints `name=seconds` pairs.
@MainActor func runChild(_ job: Job) throws {
    var generator = EventGenerator()
    let batchJob = [.plain, .prepare, .unvalidated, .projected].contains(job)
    if batchJob { MemoryTuning.forLargeBatches() }  // as `civic-ledger append --batch` does
    let input = batchJob ? generator.ndjson(count: events, streams: max(1, events / 50)) : []
    switch job {
    case .plain:
        let ledger = try Ledger.open(childTarget, options: .init(create: true))
        let (seconds, count) = try timedAppend(input, to: ledger)
        print("append=\(seconds) (\(count) events)")
    case .prepare, .unvalidated:
        var prepared: [PreparedEvent] = []
        let seconds = try measure {
            prepared = try input.withUnsafeBufferPointer { try EventBatch.prepare($0, validation: job == .prepare ? .catalog : .skipped) }
        }
        print("\(job.rawValue)=\(seconds) (\(prepared.count) events)")
    case .verify:
        let ledger = try Ledger.open(childTarget, options: .init(readOnly: true))
        let verify = try measure {
            let intact = try ledger.verify().isIntact
            precondition(intact)
        }
        print("verify=\(verify)")
    case .projected:
        let ledger = try Ledger.open(childTarget, options: .init(create: true, projectors: [ZoneProjector()]))
        let (seconds, count) = try timedAppend(input, to: ledger)
        print("projected=\(seconds) (\(count) events)")
    case .rebuild:
        let ledger = try Ledger.open(childTarget, options: .init(projectors: [ZoneProjector()]))
        print("rebuild=\(try measure { _ = try ProjectionRebuilder(ledger).rebuild(ProjectionName.allCases) })")
    case .raw, .rawIndexed, .sqlite, .hash:
        // The rows the plain job's ledger wrote, read before the clock starts.
        let ledger = try Ledger.open(childRows, options: .init(readOnly: true))
        var rows: [StoredRow] = []
        rows.reserveCapacity(events)
        try ledger.forEachEvent { event in
            let value = withUnsafeBytes(of: event.hash.bytes) { Array($0) } + event.canonicalBytes
            rows.append(StoredRow(seq: event.seq, id: Array(event.id.utf8), stream: Array(event.stream.utf8), version: event.version, value: value))
        }
        switch job {
        case .raw: print("raw=\(rawLMDBAppend(rows, directory: childTarget, withIndexes: false))")
        case .rawIndexed: print("raw-indexed=\(rawLMDBAppend(rows, directory: childTarget, withIndexes: true))")
        case .sqlite: print("sqlite=\(sqliteAppend(rows, directory: childTarget))")
        default:
            let seconds = measure {
                var combined = ChainHash.genesis.bytes
                for row in rows { combined ^= row.value.withUnsafeBytes { ChainHash.of(UnsafeRawBufferPointer(rebasing: $0[32...])) }.bytes }
                precondition(combined != ChainHash.genesis.bytes)
            }
            print("hash=\(seconds)")
        }
    }
}

/// Appends `input` as `civic-ledger append --batch` does, timed: the writer takes chunks as
/// they are prepared, and the prepared batch is freed after the clock stops, as the CLI
/// leaves it to the process's exit. Returns the seconds and how many events were appended.
func timedAppend(_ input: [UInt8], to ledger: Ledger) throws -> (Double, Int) {
    var batch: PreparedBatch?
    var outcomes: [AppendOutcome] = []
    let seconds = try measure {
        let prepared = try EventBatch.preparing(input)
        batch = prepared
        outcomes = try ledger.append(prepared)
    }
    withExtendedLifetime(batch) {}
    return (seconds, outcomes.count)
}
