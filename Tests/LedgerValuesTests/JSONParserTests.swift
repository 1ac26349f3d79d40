import Testing
import TestSupport
@testable import LedgerValues

@Suite struct JSONParserTests {
    /// Strings are scanned eight bytes at a time: a quote, backslash, control character or
    /// non-ASCII byte must be found at every offset of a word, and the tail after the last whole
    /// word too.
    @Test(arguments: 0..<20)
    func stringsAreReadRightWhateverTheOffset(offset: Int) throws {
        let before = String(repeating: "a", count: offset), after = String(repeating: "b", count: 19 - offset)
        func parse(_ inner: [UInt8]) throws(JSONParseError) -> JSONValue {
            try JSONParser.parse([UInt8(ascii: "\"")] + Array(before.utf8) + inner + Array(after.utf8) + [UInt8(ascii: "\"")])
        }
        #expect(try parse(Array("é".utf8)) == .string(before + "é" + after))
        #expect(try parse(Array(#"\n"#.utf8)) == .string(before + "\n" + after))
        #expect(try parse(Array(#"\""#.utf8)) == .string(before + "\"" + after))
        #expect(try parse([]) == .string(before + after))
        #expect(throws: JSONParseError.self) { try parse([0x1F]) }
        #expect(throws: JSONParseError.self) { try parse([0xFF]) }
        #expect(throws: JSONParseError.self) { try parse([0xE6, 0xA3]) }  // a character cut short
        // A string that ends right at the end of the input, with no closing quote.
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(("\"" + before).utf8)) }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key"),
        (#"{"b":1,"a":2,"b":3}"#, "duplicate key"),
        (#""\ud800""#, "lone high surrogate"),
        (#""\udc00x""#, "lone low surrogate"),
        (#""\ud800\u0041""#, "not followed by a low surrogate"),
        ("01", "leading zeros"),
        ("NaN", "NaN"),
        ("Infinity", "NaN and Infinity"),
        ("-", "digit"),
        ("1.", "decimal point"),
        ("1e", "exponent"),
        ("[1,]", "value was expected"),
        (#"{"a" 1}"#, "':'"),
        ("[1 2]", "','"),
        (#""abc"#, "unterminated"),
        ("\"a\u{1}b\"", "control character"),
        ("true false", "after the JSON value"),
        ("nul", "literal"),
        ("1e400", "out of range"),
        ("9007199254740993", "2^53"),
        ("-9007199254740993", "2^53"),
        ("12345678901234567890", "2^53"),
        ("1e300", "2^53"),
        (#""\x""#, "invalid escape"),
        ("", "end of input"),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            try JSONParser.parse(text)
        } throws: { error in
            (error as? JSONParseError)?.reason.contains(reason) == true
        }
    }

    /// Objects of up to 16 members are sorted in place, bigger ones by position: either way
    /// the members come out in canonical order with their values, and a repeated key is
    /// refused wherever it is.
    @Test(arguments: [1, 2, 3, 15, 16, 17, 40])
    func membersComeOutSortedWhateverTheirNumber(count: Int) throws {
        var generator = SeededGenerator(state: UInt64(count))  // reproducible
        let keys = (0..<count).map { "k\($0 * 7919 % 1000)" + ($0 % 3 == 0 ? "é" : "") }
        for _ in 0..<20 {
            let order = keys.indices.shuffled(using: &generator)
            let text = "{" + order.map { "\"\(keys[$0])\":\($0)" }.joined(separator: ",") + "}"
            let object = try #require(try JSONParser.parse(text).objectValue)
            #expect(object.keys == keys.sorted { JSONObject.canonicalOrder($0, $1) })
            for (index, key) in keys.enumerated() { #expect(object[key] == .number(Double(index))) }
            let repeated = keys[order[count / 2]]
            let twice = "{" + (order.map { "\"\(keys[$0])\":\($0)" } + ["\"\(repeated)\":0"]).shuffled(using: &generator).joined(separator: ",") + "}"
            #expect { try JSONParser.parse(twice) } throws: { error in
                (error as? JSONParseError)?.reason == "duplicate key \"\(repeated)\""
            }
        }
    }

    @Test func keysThatSwiftCallsEqualAreStillTwoKeys() throws {
        // "K" and the Kelvin sign U+212A are canonically equivalent, so Swift's == calls them
        // equal; JSON compares code points, so they are two members, each found by its own key.
        for text in [#"{"K":1,"\u212A":2}"#, #"{"\u212A":2,"K":1}"#, #"{"é":3,"e\u0301":4}"#] {
            let object = try #require(try JSONParser.parse(text).objectValue)
            #expect(object.count == 2, "\(text)")
        }
        let kelvin = try #require(try JSONParser.parse(#"{"K":1,"\u212A":2,"x":3}"#).objectValue)
        #expect(kelvin["K"] == .number(1) && kelvin["\u{212A}"] == .number(2) && kelvin["x"] == .number(3))
        var edited = kelvin
        edited["\u{212A}"] = nil
        #expect(edited["K"] == .number(1) && edited["\u{212A}"] == nil && edited.count == 2)
        #expect(edited != kelvin)
        #expect(JSONObject([("K", .number(1))]) != JSONObject([("\u{212A}", .number(1))]))
        #expect(JSONObject([("\u{212A}", .number(2))])["K"] == nil)
    }

    @Test func anObjectUpdatedInPlaceLeavesCopiesAsTheyWere() throws {
        var state = try #require(try JSONParser.parse(#"{"byMonth":{"2021-06":10},"note":"x"}"#).objectValue)
        let before = state
        state.updateObject("byMonth") { $0["2021-06"] = .number(15); $0["2021-07"] = .number(1) }
        state.updateObject("ranks") { $0["2022"] = .number(3) }   // absent: made
        state.updateObject("note") { $0["k"] = .bool(true) }      // not an object: replaced
        #expect(String(decoding: JSONValue.object(state).canonicalBytes, as: UTF8.self) == #"{"byMonth":{"2021-06":15,"2021-07":1},"note":{"k":true},"ranks":{"2022":3}}"#)
        #expect(String(decoding: JSONValue.object(before).canonicalBytes, as: UTF8.self) == #"{"byMonth":{"2021-06":10},"note":"x"}"#)
        #expect(state.keys == ["byMonth", "note", "ranks"])
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let bytes: [UInt8] = [0x22, 0x61, 0xC3, 0x28, 0x22]  // "a<bad>("
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // UTF-8 surrogate
    }

    @Test func limitsNesting() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep, maxDepth: 64) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(fine, maxDepth: 64)
    }

    @Test func acceptsTheEdgesOfTheExactRange() throws {
        #expect(try JSONParser.parse("9007199254740992") == .number(9_007_199_254_740_992))
        #expect(try JSONParser.parse("-9007199254740992") == .number(-9_007_199_254_740_992))
        #expect(try JSONParser.parse("1.0").integerValue == 1)
        #expect(try JSONParser.parse("1.5").integerValue == nil)
        #expect(try JSONParser.parse("-0") == .number(0))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00 \u516b\u7ef4\u901a \/""#) == .string("😀 八维通 /"))
    }

    @Test func reportsTheByteOffset() {
        do {
            _ = try JSONParser.parse(#"{"a": tru}"#)
            Issue.record("should fail")
        } catch {
            #expect(error.offset == 6)
            #expect(error.description.hasPrefix("invalid JSON at byte 7"))
        }
    }
}
