import Testing
@testable import LedgerValues

/// RFC 8785 vectors: numbers as ECMAScript prints them, string escapes, member order by UTF-16.
@Suite struct CanonicalJSONTests {
    private func canonical(_ value: JSONValue) -> String { String(decoding: value.canonicalBytes, as: UTF8.self) }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.0, "-1"), (0.1, "0.1"), (4.5, "4.5"), (123.456, "123.456"),
        (1e20, "100000000000000000000"), (1e21, "1e+21"), (0.000001, "0.000001"), (1e-7, "1e-7"),
        (-1.5e-9, "-1.5e-9"), (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"), (9007199254740992.0, "9007199254740992"),
        (-9007199254740992.0, "-9007199254740992"), (295147905179352830000.0, "295147905179352830000"),
        (1680000000.0, "1680000000"), (-250.0, "-250"), (9007199254740994.0, "9007199254740994"),
        (999999999999999872.0, "999999999999999900"), (-123456789012345680000.0, "-123456789012345680000"),
    ])
    func numbersPrintAsECMAScriptDoes(value: Double, expected: String) {
        #expect(canonical(.number(value)) == expected)
    }

    @Test func stringsEscapeOnlyWhatJSONRequires() throws {
        // RFC 8785 §3.2.2.2's example.
        let parsed = try JSONParser.parse(#""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#)
        #expect(canonical(parsed) == #""€$\u000f\nA'B\"\\\\\"/""#)
        #expect(canonical(.string("中文 \u{8}\u{c}\t\r")) == #""中文 \b\f\t\r""#)
    }

    /// The writer skips eight bytes at a time to the first that may need escaping: a quote,
    /// backslash or control character must be escaped at every offset of a word, and in the
    /// tail after the last whole word.
    @Test(arguments: 0..<20)
    func stringsAreEscapedWhateverTheOffset(offset: Int) throws {
        let before = String(repeating: "a", count: offset), after = String(repeating: "é", count: (19 - offset) / 2)
        for (special, escaped) in [("\"", #"\""#), ("\\", #"\\"#), ("\n", #"\n"#), ("\u{1F}", #"\u001f"#), ("", "")] {
            var out: [UInt8] = []
            CanonicalJSON.writeString(before + special + after, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == "\"" + before + escaped + after + "\"")
        }
    }

    @Test func membersSortByUTF16CodeUnits() throws {
        // RFC 8785 §3.2.3: 😀 (D83D DE00) sorts before U+FB33 by UTF-16, after it by code point.
        let parsed = try JSONParser.parse(#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#)
        #expect(parsed.objectValue?.keys == ["\r", "1", "\u{80}", "ö", "€", "😀", "\u{FB33}"])
        #expect(canonical(parsed) == #"{"\r":2,"1":4,""# + "\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{FB33}\":3}")
    }

    @Test func objectsInAnyKeyOrderAreEqualAndEncodeAlike() throws {
        let a = try JSONParser.parse(#"{"b":[1,{"y":2,"x":1}],"a":"中"}"#)
        let b = try JSONParser.parse(#"{ "a" : "中", "b" : [1, {"x":1, "y":2}] }"#)
        #expect(a == b)
        #expect(a.canonicalBytes == b.canonicalBytes)
        #expect(canonical(a) == #"{"a":"中","b":[1,{"x":1,"y":2}]}"#)
    }

    @Test func canonicalFormRoundTrips() throws {
        let text = #"{"amount":100000000,"list":[true,false,null,-2.5e-7],"name":{"en":"Medela","zh":"美德乐"}}"#
        #expect(canonical(try JSONParser.parse(text)) == text)
    }
}
