import Foundation
@testable import LedgerCore
import LedgerSchemas
import LedgerValues
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A seeded generative fuzzer for batch input: entries of the kept corpus (Tests/Fuzz/corpus:
/// valid events and events that break one rule each) are mutated — bits flipped, bytes
/// inserted and deleted, entries spliced, hostile tokens put in (deep nesting, huge numbers,
/// NaN, duplicate keys, lone surrogates, NUL, invalid UTF-8, control characters) — and fed to
/// the batch parser, the envelope checks and schema validation. Every input must either be
/// prepared, with events that survive the trip into a record and back, or be refused as
/// invalid input with one line naming the batch line. An input that breaks this is saved to
/// the corpus as `found-*.ndjson`, where it stays as a regression case.
///
/// `CIVIC_FUZZ_ITERATIONS` and `CIVIC_FUZZ_SECONDS` make longer runs (20,000 iterations or
/// 10 seconds by default, whichever comes first); `CIVIC_FUZZ_SEED` picks another sequence.
@Suite struct FuzzTests {
    static let corpusPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    static func corpus() throws -> [(name: String, bytes: [UInt8])] {
        try FileManager.default.contentsOfDirectory(atPath: corpusPath).filter { $0.hasSuffix(".ndjson") }.sorted().map { name in
            (name, try [UInt8](Data(contentsOf: URL(fileURLWithPath: corpusPath + "/" + name))))
        }
    }

    static let today = EffectiveTime("2030-01-01")!
    static let recorded = Array("2030-01-01T00:00:00.000000Z".utf8)

    /// What is wrong with how `input` was handled, or nil; `prepared` tells whether it was
    /// accepted.
    static func check(_ input: [UInt8]) -> (problem: String?, prepared: Bool) {
        let result = input.withUnsafeBufferPointer { buffer in
            Result { () throws(LedgerError) in try EventBatch.prepare(buffer, today: today) }
        }
        switch result {
        case .failure(let error):
            return (refusalProblem(error, input), false)
        case .success(let events):
            for event in events {
                if let problem = roundTripProblem(event, input: input) { return ("line \(event.line ?? 0): \(problem)", true) }
            }
            return (nil, true)
        }
    }

    /// A refusal must be invalid input, on one printable line that names a line of the batch.
    static func refusalProblem(_ error: LedgerError, _ input: [UInt8]) -> String? {
        let text = error.description
        guard error.kind == .invalidInput else { return "refused as \(error.kind), not invalid input: \(text)" }
        guard let line = error.line, line >= 1, line <= input.count(where: { $0 == UInt8(ascii: "\n") }) + 1 else {
            return "the refusal names no line of the input: \(text)"
        }
        guard text.hasPrefix("line \(line): "), text.count > "line \(line): ".count + 5 else { return "no message: \(text.debugDescription)" }
        if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            return "the message holds control character U+\(String(bad.value, radix: 16)), so it is not one clean line: \(text.debugDescription)"
        }
        guard text.utf8.count <= 2000 else { return "the message is \(text.utf8.count) bytes long" }
        return nil
    }

    /// An accepted event must be what the catalog accepts, and come back from the record the
    /// ledger would store exactly as it went in (its line of `input`).
    static func roundTripProblem(_ event: PreparedEvent, input: [UInt8]) -> String? {
        guard let schema = EventCatalog.shared.schema(type: event.type, version: event.schemaVersion) else {
            return "accepted with type \(event.type) v\(event.schemaVersion), which the catalog lacks"
        }
        let line = input.withUnsafeBufferPointer { input in
            EventBatch.splitLines(input).first { $0.number == event.line }.flatMap { try? JSONParser.parse(UnsafeBufferPointer(rebasing: input[$0.range])) }
        }
        guard case .object(let data)? = line?["data"] else { return "accepted, yet its line's data is not an object" }
        if let failure = schema.validate(.object(data), limit: 1).first {
            return "accepted, yet its data fails its schema: \(failure.message)"
        }
        var record = [UInt8](repeating: 0, count: EventRecord.hashSize)
        var body: [UInt8] = []
        event.assemble(prev: .genesis, recorded: recorded, seq: 1, version: 1, into: &body)
        record += body
        let decoded: Event
        do {
            decoded = try record.withUnsafeBytes { raw throws(LedgerError) in try EventRecord.decode(raw) }
        } catch {
            return "its record does not read back: \(error); record \(String(decoding: body, as: UTF8.self).debugDescription)"
        }
        guard decoded.data == data, decoded.type == event.type, decoded.stream == event.stream, decoded.id == event.id,
              decoded.actor == line?["actor"]?.stringValue, decoded.source == line?["source"]?.stringValue,
              decoded.effective == event.effective.text else {
            return "its record reads back different: \(String(decoding: body, as: UTF8.self).debugDescription)"
        }
        guard record.withUnsafeBytes({ EventRecord.scanCanonical($0) }) != nil else {
            return "verify's scanner does not read its record: \(String(decoding: body, as: UTF8.self).debugDescription)"
        }
        // The canonical form is a fixed point: parsed and written again, the same bytes.
        guard let reparsed = try? JSONParser.parse(body), reparsed.canonicalBytes == body else {
            return "its record is not canonical: \(String(decoding: body, as: UTF8.self).debugDescription)"
        }
        return nil
    }

    /// Keeps an input that found a bug, named by its content.
    @discardableResult
    static func save(_ input: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in input { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let path = corpusPath + "/found-\(String(hash, radix: 16)).ndjson"
        _ = FileManager.default.createFile(atPath: path, contents: Data(input))
        return path
    }

    // MARK: The corpus as it is

    @Test func corpusEntriesAreAcceptedOrRefusedAsTheirNamesSay() throws {
        let corpus = try Self.corpus()
        #expect(corpus.count(where: { $0.name.hasPrefix("valid-") }) >= 20)
        #expect(corpus.count(where: { $0.name.hasPrefix("invalid-") }) >= 20)
        for (name, bytes) in corpus {
            let (problem, prepared) = Self.check(bytes)
            #expect(problem == nil, "\(name): \(problem ?? "")")
            if name.hasPrefix("valid-") { #expect(prepared, "\(name) is refused") }
            if name.hasPrefix("invalid-") { #expect(!prepared, "\(name) is accepted") }
        }
    }

    // MARK: Mutations

    static let hostileTokens: [[UInt8]] = {
        var tokens: [String] = [
            "1e400", "-1e400", "1e-400", "123456789012345678901234567890", "9007199254740993", "-9007199254740993",
            "9007199254740992", "1E+308", "4.9e-324", "-0", "0.1e", "01", "1.", ".5", "-", "1e", "+1", "0x10",
            "NaN", "-NaN", "Infinity", "-Infinity", "nan", "inf", "null", "true", "false", "tru", "{}", "[]", "\"\"",
            #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800\udc00""#, #""\udbff\udfff""#, #""\u0000""#,
            #""\u2028""#, #""\u001b[2J""#, #""\x41""#, #""\u12""#, #""\uZZZZ""#, #""\"#, #"\""#, "\"", "\\",
            #""type":"road.delivered","#, #""data":{},"#, #""id":"dup","id":"dup","#, #""a":1,"a":2"#, #""":0,"#,
            #""seq":-1,"#, #""schemaVersion":1e3,"#, #""expectedVersion":1.5,"#, #""effective":"2021-02-29","#,
            #""effective":"2021-12-31T24:00:00+08:00","#, #""effective":"0000-01-01","#, #""stream":"a/\u0000","#,
            #""target":{"seq":0},"#, #""target":{"seq":-3},"#, #""target":{"seq":1e300},"#, #""target":{"id":""},"#,
            "\n", "\r\n", "\r", " \t ",
        ]
        tokens += [63, 64, 65, 200, 5000].map { String(repeating: "[", count: $0) + String(repeating: "]", count: $0) }
        tokens += [64, 65, 3000].map { String(repeating: #"{"a":"#, count: $0) + "1" + String(repeating: "}", count: $0) }
        tokens += ["[" + String(repeating: "1,", count: 20000) + "1]", "\"" + String(repeating: "a", count: 1001) + "\"",
                   "\"" + String(repeating: "k", count: 5000) + "\":1,", "\"" + String(repeating: "é", count: 201) + "\""]
        var bytes = tokens.map { Array($0.utf8) }
        bytes += [[0x00], [0xC0, 0x80], [0xFF], [0xFE], [0xED, 0xA0, 0x80], [0xE4, 0xB8], [0xF4, 0x90, 0x80, 0x80],
                  [0xEF, 0xBB, 0xBF], [0x7F], [0xC2, 0x85], [0xE2, 0x80, 0xA8]]
        bytes += (1..<0x20).map { [UInt8($0)] }
        return bytes
    }()

    static let interestingBytes: [UInt8] = [0x00, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x3A, 0x2C, 0x0A, 0x0D, 0x20, 0x2D,
                                            0x30, 0x39, 0x65, 0x75, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xF0, 0xFF]

    static func mutate(_ input: [UInt8], corpus: [[UInt8]], random: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where !bytes.isEmpty:  // flip bits
                let i = min(at, bytes.count - 1)
                bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1:  // insert a byte
                bytes.insert(Bool.random(using: &random) ? interestingBytes.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random), at: at)
            case 2 where !bytes.isEmpty:  // delete bytes
                let i = min(at, bytes.count - 1)
                bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...8, using: &random)))
            case 3 where !bytes.isEmpty:  // replace a byte with one that means something to JSON
                bytes[min(at, bytes.count - 1)] = interestingBytes.randomElement(using: &random)!
            case 4:  // splice: this entry's head, another's tail
                let other = corpus.randomElement(using: &random)!
                bytes = Array(bytes[..<at]) + Array(other[Int.random(in: 0...other.count, using: &random)...])
            case 5, 6:  // a hostile token anywhere
                bytes.insert(contentsOf: hostileTokens.randomElement(using: &random)!, at: at)
            case 7:  // a hostile token in place of a value
                let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
                guard let colon = colons.randomElement(using: &random) else { continue }
                var end = colon + 1
                if end < bytes.count && bytes[end] == UInt8(ascii: "\"") {
                    end += 1
                    while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
                    end = min(end + 1, bytes.count)
                } else {
                    while end < bytes.count && ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[end]) { end += 1 }
                }
                bytes.replaceSubrange((colon + 1)..<min(end, bytes.count), with: hostileTokens.randomElement(using: &random)!)
            case 8 where !bytes.isEmpty:  // repeat a stretch
                let i = min(at, bytes.count - 1)
                bytes.insert(contentsOf: bytes[i..<min(bytes.count, i + Int.random(in: 1...64, using: &random))], at: i)
            default:  // a whole line twice, or a line from another entry
                let other = corpus.randomElement(using: &random)!
                bytes.insert(contentsOf: other + [UInt8(ascii: "\n")], at: bytes.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
            }
        }
        return bytes
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    @Test func mutatedInputsAreAcceptedOrRefusedCleanly() throws {
        let corpus = try Self.corpus().map(\.bytes)
        let seed = Self.environment["CIVIC_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_240_601
        let iterations = Self.environment["CIVIC_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 20_000
        let seconds = Self.environment["CIVIC_FUZZ_SECONDS"].flatMap(Double.init)
            ?? (Self.environment["CIVIC_FUZZ_ITERATIONS"] == nil ? 10 : .infinity)
        var random = SeededGenerator(state: seed)
        let start = Date()
        var done = 0, accepted = 0
        var findings: [String] = []
        CrashKeeper.install()
        defer { CrashKeeper.uninstall() }
        while done < iterations, Date().timeIntervalSince(start) < seconds, findings.count < 10 {
            let input = Self.mutate(corpus.randomElement(using: &random)!, corpus: corpus, random: &random)
            CrashKeeper.keep(input, path: Self.corpusPath + "/found-crash-seed-\(seed)-iteration-\(done).ndjson")
            let (problem, prepared) = Self.check(input)
            if prepared { accepted += 1 }
            if let problem { findings.append("iteration \(done): \(problem)\n  input kept as \(Self.save(input))") }
            done += 1
        }
        #expect(findings.isEmpty, Comment(rawValue: "seed \(seed): \(findings.count) bad outcomes:\n" + findings.joined(separator: "\n")))
        // Mutations must leave some inputs acceptable, or only the parser's front door is tested.
        #expect(accepted > done / 50, "only \(accepted) of \(done) inputs were accepted")
        if findings.isEmpty { #expect(done >= min(iterations, 2000), "only \(done) iterations in the time allowed") }
    }

    // MARK: Big batches

    /// Batches of 4,096 lines or more are prepared in 8 chunks in parallel: whichever chunk
    /// meets its bad line first, the error names the first bad line of the batch.
    @Test func theFirstBadLineOfABigBatchIsTheOneNamed() throws {
        let good = #"{"type":"road.delivered","stream":"road/r","data":{"name":{"zh":"路"}}}"#
        var lines = [String](repeating: good, count: 5000)
        lines[4321] = #"{"type":"road.delivered","stream":"road/r","data":{"name":{"zh":"\ud800"}}}"#
        lines[2500] = #"{"type":"road.delivered","stream":"road/r","data":{"name":{"zh":"路"}},"data":{}}"#
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in Result { () throws(LedgerError) in try EventBatch.prepare(buffer) } }
        guard case .failure(let error) = result else { Issue.record("a batch with two bad lines was accepted"); return }
        #expect(error.line == 2501)
        #expect(error.description.hasPrefix("line 2501: invalid JSON at byte "))
        #expect(error.description.contains("duplicate key \"data\""))
    }
}

/// Saves the input being tried if the process crashes on it: a handler for the signals a
/// crash raises writes it (async-signal-safe: open, write, close) and hands the signal on.
enum CrashKeeper {
    nonisolated(unsafe) static var input: UnsafeMutableBufferPointer<UInt8> = .allocate(capacity: 0)
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var path: UnsafeMutablePointer<CChar> = .allocate(capacity: 4096)
    /// The actions replaced, by signal number.
    nonisolated(unsafe) static let previous: UnsafeMutablePointer<sigaction> = {
        let table = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        table.initialize(repeating: sigaction(), count: 65)
        return table
    }()
    nonisolated(unsafe) static var installed = false
    static let signals = [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE]

    static func keep(_ bytes: [UInt8], path name: String) {
        if input.count < bytes.count {
            input.deallocate()
            input = .allocate(capacity: bytes.count * 2)
        }
        count = 0
        _ = UnsafeMutableBufferPointer(rebasing: input[..<bytes.count]).initialize(from: bytes)
        count = bytes.count
        _ = name.withCString { strncpy(path, $0, 4095) }
    }

    static func install() {
        count = 0
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_sigaction = { signal, _, _ in
                let fd = open(CrashKeeper.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 {
                    _ = write(fd, CrashKeeper.input.baseAddress, CrashKeeper.count)
                    close(fd)
                }
                // Hand the signal on to whoever handled it before (the runtime's backtracer):
                // a fault happens again on return, and goes there.
                sigaction(signal, CrashKeeper.previous + Int(signal), nil)
            }
            action.sa_flags = SA_SIGINFO | Int32(bitPattern: UInt32(SA_RESETHAND))
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, previous + Int(signal))
        }
        installed = true
    }

    static func uninstall() {
        guard installed else { return }
        for signal in signals { sigaction(signal, previous + Int(signal), nil) }
        installed = false
    }
}
