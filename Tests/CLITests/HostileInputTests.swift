import Foundation
import Testing
import TestSupport

/// Hostile batch input through `append --batch -`: the bad line is the third of five, and
/// every time the answer is exit 65, one line on standard error naming line 3 and what is
/// wrong with it, and nothing written.
@Suite struct HostileInputTests {
    let dir = TemporaryDirectory()
    var ledger: String { dir.path + "/ledger" }

    init() throws {
        let setup = try CLI.run(["append", "--create", "--batch", "-", "--ledger", dir.path + "/ledger"],
                                stdin: (0..<3).map { Self.good($0) }.joined(separator: "\n"))
        precondition(setup.status == 0, setup.stderr)
    }

    static func good(_ i: Int) -> String {
        #"{"id":"road-\#(i)","type":"road.delivered","stream":"road/r\#(i)","effective":"2021-10-15","data":{"name":{"zh":"路\#(i)","en":"Road \#(i)"},"lengthM":\#(1000 + i)}}"#
    }

    /// A batch of five lines, the third of them `bad`.
    static func batch(third bad: [UInt8]) -> Data {
        var lines = (10..<15).map { Array(good($0).utf8) }
        lines[2] = bad
        return Data(lines.joined(separator: [UInt8(ascii: "\n")])) + Data("\n".utf8)
    }

    static func deep(_ levels: Int) -> String {
        // The event is one level, its data two, the replacement data (this object) three.
        String(repeating: #"{"a":"#, count: levels - 2) + "1" + String(repeating: "}", count: levels - 2)
    }

    static let cases: [(name: String, line: [UInt8], says: String)] = [
        ("nesting one deeper than the limit",
         Array(#"{"type":"event.corrected","stream":"road/r1","data":{"target":{"seq":1},"reason":"r","data":\#(deep(65))}}"#.utf8),
         "nesting deeper than 64 levels"),
        ("nesting 100,000 deep",
         Array((#"{"type":"road.delivered","stream":"road/x","data":{"a":"# + String(repeating: "[", count: 100_000)).utf8),
         "nesting deeper than 64 levels"),
        ("number 1e400", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"lengthM":1e400}}"#.utf8),
         "number 1e400 is out of range"),
        ("30-digit integer",
         Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"lengthM":123456789012345678901234567890}}"#.utf8),
         "beyond ±2^53"),
        ("2^53 + 1",
         Array(#"{"type":"indicator.reported","stream":"indicator/gdp","data":{"metric":"gdp","period":"2021","value":9007199254740993,"unit":"cny","basis":"absolute"}}"#.utf8),
         "beyond ±2^53"),
        ("NaN", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"lengthM":NaN}}"#.utf8),
         "NaN and Infinity are not JSON numbers"),
        ("-Infinity", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"lengthM":-Infinity}}"#.utf8),
         "a digit was expected"),
        ("duplicate envelope key", Array(#"{"type":"road.delivered","stream":"road/x","stream":"road/y","data":{"name":{"zh":"路"}}}"#.utf8),
         #"duplicate key "stream""#),
        ("duplicate data key", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"name":{"zh":"路"}}}"#.utf8),
         #"duplicate key "name""#),
        ("lone high surrogate", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"\ud800"}}}"#.utf8),
         "lone high surrogate \\uD800"),
        ("lone low surrogate", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"\udc00"}}}"#.utf8),
         "lone low surrogate \\uDC00"),
        ("NUL byte in a string", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"a"#.utf8) + [0] + Array(#"b"}}}"#.utf8),
         "control character 0x0000 inside a string must be escaped"),
        ("NUL byte in place of a value", Array(#"{"type":"road.delivered","stream":"road/x","data":"#.utf8) + [0] + Array("{}}".utf8),
         "unexpected character 0x0000, a value was expected"),
        ("invalid UTF-8", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":""#.utf8) + [0xC0, 0x80, 0xFF] + Array(#""}}}"#.utf8),
         "string is not valid UTF-8"),
        ("escape character in a string", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"\#u{1B}[2J"}}}"#.utf8),
         "control character 0x001B inside a string must be escaped"),
        // Quoted back in the message, a key with a newline or a line separator stays on one line.
        ("unknown field with a newline", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}},"a\nb":1}"#.utf8),
         #"unknown field 'a\nb'"#),
        ("unknown data member with line separators", Array(#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"},"a\u2028b\u0085":1}}"#.utf8),
         #"unknown member 'a\u{2028}b\u{85}'"#),
        ("a 50,000-character key",
         Array((#"{"type":"road.delivered","stream":"road/x","data":{"name":{"zh":"路"}},""# + String(repeating: "k", count: 50_000) + #"":1}"#).utf8),
         "unknown field 'kkkkkkkk"),
    ]

    func expectRefused(_ result: CLI.Result, line: Int, saying fragment: String, _ name: String) throws {
        #expect(result.status == 65, "\(name): exit \(result.status): \(result.stderr.prefix(500))")
        #expect(result.stdout.isEmpty, "\(name): \(result.stdout.prefix(500))")
        let message = result.stderr
        #expect(message.hasPrefix("civic-ledger: line \(line): "), "\(name): \(message.prefix(500))")
        #expect(message.hasSuffix("\n") && message.filter(\.isNewline).count == 1, "\(name): not one line: \(message.prefix(500).debugDescription)")
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" },
                "\(name): control characters: \(message.prefix(500).debugDescription)")
        #expect(message.utf8.count < 1000, "\(name): a message of \(message.utf8.count) bytes")
        #expect(message.contains(fragment), "\(name): does not say \(fragment.debugDescription): \(message.prefix(500))")
    }

    func ledgerState() throws -> String {
        let stats = try CLI.run(["stats", "--json", "--ledger", ledger])
        let log = try CLI.run(["log", "--json", "--ledger", ledger])
        try #require(stats.status == 0 && log.status == 0)
        return stats.stdout + log.stdout
    }

    @Test(arguments: cases.indices)
    func aHostileThirdLineIsRefusedByNameAndNothingIsWritten(index: Int) throws {
        let (name, line, fragment) = Self.cases[index]
        let before = try ledgerState()
        #expect(before.contains(#""headSeq":3"#))
        let result = try CLI.run(["append", "--batch", "-", "--ledger", ledger], input: Self.batch(third: line))
        try expectRefused(result, line: 3, saying: fragment, name)
        #expect(try ledgerState() == before, "\(name) changed the ledger")
    }

    @Test func a100MegabyteLineIsRefusedWithoutReadingItAsJSON() throws {
        let before = try ledgerState()
        // Made with Data's appends (copies): a debug build's byte-by-byte loops would take long.
        let head = Array(#"{"type":"project.cancelled","stream":"project/x","data":{"reason":""#.utf8), tail = Array(#""}}"#.utf8)
        var batch = Data((10..<12).map { Self.good($0) + "\n" }.joined().utf8)
        batch.append(contentsOf: head)
        batch.append(Data(repeating: UInt8(ascii: "a"), count: 100 << 20))
        batch.append(contentsOf: tail)
        batch.append(Data(("\n" + (12..<14).map { Self.good($0) }.joined(separator: "\n") + "\n").utf8))
        let started = Date()
        let result = try CLI.run(["append", "--batch", "-", "--ledger", ledger], input: batch)
        try expectRefused(result, line: 3, saying: "event is \(head.count + (100 << 20) + tail.count) bytes, over the limit of 1048576", "100 MB line")
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(try ledgerState() == before)
    }

    @Test func aLineJustOverTheLimitIsRefusedAndOneJustUnderIsNotForItsSize() throws {
        let before = try ledgerState()
        // `reason` allows 1,000 characters: the size limit is met with the other fields.
        func line(padding: Int) -> [UInt8] {
            Array((#"{"type":"project.cancelled","stream":"project/x","actor":"a","data":{"reason":"r"},"source":""# +
                   String(repeating: " ", count: padding) + #""}"#).utf8)
        }
        let overhead = line(padding: 0).count
        let over = try CLI.run(["append", "--batch", "-", "--ledger", ledger], input: Self.batch(third: line(padding: (1 << 20) + 1 - overhead)))
        try expectRefused(over, line: 3, saying: "over the limit of 1048576", "a line of 1 MiB + 1")
        let under = try CLI.run(["append", "--batch", "-", "--ledger", ledger], input: Self.batch(third: line(padding: (1 << 20) - overhead)))
        // Not refused for its size: for its 1 MiB source, which is over 1,000 bytes.
        try expectRefused(under, line: 3, saying: "field 'source': must be 1 to 1000 bytes", "a line of exactly 1 MiB")
        #expect(try ledgerState() == before)
    }

    @Test func theLimitsAreDocumentedInFormatAndAppendHelp() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let format = try String(contentsOf: root.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)
        let limits = try #require(format.components(separatedBy: "## 9. Limits").dropFirst().first?.components(separatedBy: "\n## ").first)
        for fact in ["| 1 MiB |", "| 64 levels |", "| 4 GiB |", "±2^53"] { #expect(limits.contains(fact), "FORMAT.md §9 lacks \(fact)") }
        let help = try CLI.run(["append", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for fact in ["1 MiB", "64 levels", "4 GiB", "±2^53"] { #expect(help.contains(fact), "append --help lacks \(fact)") }
    }
}
