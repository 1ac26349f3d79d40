import Testing
import TestSupport
import LedgerValues

/// The tape is the batch's fast path beside `JSONParser`: whatever it reads it must read as
/// the parser does (the same value, the same canonical bytes), and whatever the parser
/// refuses it must decline.
@Suite struct JSONTapeTests {
    /// The tape's reading of `bytes`: its value and canonical bytes, or nil when it declines.
    private func read(_ bytes: [UInt8], maxDepth: Int = 64) -> (value: JSONValue, canonical: [UInt8])? {
        var tape = JSONTape()
        return bytes.withUnsafeBufferPointer { input in
            guard tape.read(input, maxDepth: maxDepth) else { return nil }
            var canonical: [UInt8] = []
            tape.writeCanonical(0, into: &canonical)
            return (tape.value(0), canonical)
        }
    }

    /// Compares tape and parser on one text; returns whether the tape read it.
    @discardableResult
    private func agree(_ bytes: [UInt8], _ comment: Comment? = nil) -> Bool {
        let parsed = try? JSONParser.parse(bytes)
        guard let taped = read(bytes) else { return false }
        #expect(parsed != nil, "the tape read what the parser refuses: \(String(decoding: bytes, as: UTF8.self))")
        if let parsed {
            #expect(taped.value == parsed, comment)
            #expect(taped.canonical == parsed.canonicalBytes, comment)
        }
        return true
    }

    @Test func readsEventsAsTheParserDoes() throws {
        let lines = [
            #"{"id":"xc-1","type":"project.signed","stream":"project/medela","data":{"investor":{"zh":"美德乐","en":"Medela"},"sector":"medical_devices","origin":"CH","foreignCapitalUsd":30000000,"headquarters":false}}"#,
            #"  { "b" : [1, 2.5, -3e2, true, null, {"z":{},"a":[]}] , "a" : "x" }  "#,
            #"[]"#, #"{}"#, #"0"#, #"-0"#, #""""#, #"1E+2"#, #"0.000001"#, #"9007199254740992"#, #"-9007199254740992"#,
            #"{"k9":1,"k8":2,"k7":3,"k6":4,"k5":5,"k4":6,"k3":7,"k2":8,"k1":9,"k0":0}"#,
            "\"😀 ü 中\"",
        ]
        for line in lines { #expect(agree(Array(line.utf8)), "declined: \(line)") }
    }

    /// Escapes in string values are resolved (and written canonically again), as the parser
    /// does: every short form, `\u` in either case, surrogate pairs, NUL, and escapes beside
    /// raw UTF-8.
    @Test func readsEscapedValuesAsTheParserDoes() throws {
        let lines = [
            #""a\"b""#, #""\u00e9""#, #""\u4E2D\u6587""#, #""\ud83d\ude00!""#, #""\/\\\b\f\n\r\t""#, #""\u0000\u001f\u007f""#,
            #""中\u6587 ü \"x\"""#, #"{"zh":"\u516b\u7ef4\u901a","en":"Ba\/Wei","list":["\n",""]}"#, #""\"""#,
        ]
        for line in lines { #expect(agree(Array(line.utf8)), "declined: \(line)") }
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"b":1,"a":2,"b":3}"#,  // duplicate keys: the parser words the error
        #"{"a\"b":1}"#, #"{"\u0061":1}"#,              // escaped keys
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#, #""\x""#, #""\u12""#, #""\u12g4""#, #""a\""#,  // bad escapes
        #"{"é":1}"#,                                  // a key that is not ASCII
        "12345678901234567", "9007199254740993", "1e400", "1e300",  // numbers it cannot hold exactly
        "01", "-", "1.", "1e", "[1,]", #"{"a" 1}"#, "[1 2]", #""abc"#, "\"a\u{1}b\"", "true false", "nul", "", "NaN",
    ])
    func declines(text: String) {
        #expect(read(Array(text.utf8)) == nil)
    }

    @Test func declinesInvalidUTF8AndDeepNesting() {
        #expect(read([0x22, 0x61, 0xC3, 0x28, 0x22]) == nil)
        #expect(read([0x22, 0xED, 0xA0, 0x80, 0x22]) == nil)  // a surrogate
        #expect(read([0x22, 0xC0, 0xAF, 0x22]) == nil)  // overlong
        #expect(read([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) == nil)  // above U+10FFFF
        #expect(read(Array("\"\u{10FFFF}\"".utf8)) != nil)
        #expect(read(Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8), maxDepth: 64) == nil)
        #expect(read(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8), maxDepth: 64) != nil)
    }

    @Test func leavesObjectsOfMoreThan32MembersToTheParser() {
        func object(_ count: Int) -> [UInt8] {
            Array(("{" + (0..<count).reversed().map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}").utf8)
        }
        #expect(agree(object(32)))
        #expect(read(object(33)) == nil)
    }

    /// Random documents and random bytes changed in them: never a value the parser would not
    /// give, and most unchanged documents read.
    @Test func agreesWithTheParserOnRandomDocuments() {
        var random = SeededGenerator(state: 0x7A9E)
        var read = 0
        let alphabet = Array(#"{}[]":,0123456789-+.eE tfnrua\é中"#.utf8)
        for round in 0..<3000 {
            var text = Array(randomValue(&random, depth: 0).utf8)
            if round % 2 == 1 {
                for _ in 0..<Int.random(in: 1...3, using: &random) where !text.isEmpty {
                    text[Int.random(in: 0..<text.count, using: &random)] = alphabet.randomElement(using: &random)!
                }
                agree(text, "seed round \(round)")
            } else if agree(text, "seed round \(round)") {
                read += 1
            }
        }
        #expect(read > 1400)  // the unchanged half, save the few with a duplicate key
    }

    private func randomValue(_ random: inout SeededGenerator, depth: Int) -> String {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &random) {
        case 0: return ["true", "false", "null"].randomElement(using: &random)!
        case 1: return ["0", "-1", "42", "3.25", "-0.5", "1e3", "123456789012", "2.5E-3"].randomElement(using: &random)!
        case 2, 3:
            let texts = ["", "a", "abc def", "中文名", "ü", "x😀y", "long text with many words in it", #"\u4e2d\"q\"\n"#, #"\ud83d\ude00 \/ \\"#]
            return "\"" + texts.randomElement(using: &random)! + "\""
        case 4:
            return "[" + (0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) }.joined(separator: ",") + "]"
        default:
            // Keys up to and past eight bytes, some alike in their first eight (the tape orders
            // keys by those first).
            let keys = ["a", "b", "zh", "en", "data", "Id", "k1", "k10", "k2", "_x", "a b", "registered", "registeredForeignCapitalUsd",
                        "registeredForeignCapital", "registe", "registeR", "k1234567", "k12345678", "k123456789", "k12345670"]
                .shuffled(using: &random)
            let members = keys.prefix(Int.random(in: 0...16, using: &random)).map { "\"\($0)\":" + randomValue(&random, depth: depth + 1) }
            return "{" + members.joined(separator: " , ") + "}"
        }
    }
}
