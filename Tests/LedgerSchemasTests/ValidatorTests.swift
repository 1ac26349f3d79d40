import LedgerValues
import Testing
import TestSupport
@testable import LedgerSchemas

/// The validator, keyword by keyword, with the tricky cases.
@Suite struct ValidatorTests {
    private func schema(_ text: String) throws -> JSONSchema { try JSONSchema(text: Array(text.utf8)) }
    private func valid(_ schemaText: String, _ instance: String) throws -> Bool {
        try schema(schemaText).validate(try JSONParser.parse(instance)).isEmpty
    }
    private func failures(_ schemaText: String, _ instance: String) throws -> [ValidationFailure] {
        try schema(schemaText).validate(try JSONParser.parse(instance))
    }

    @Test func typeCountsIntegersWrittenWithAFractionOfZero() throws {
        #expect(try valid(#"{"type":"integer"}"#, "1.0"))
        #expect(try valid(#"{"type":"integer"}"#, "-7"))
        #expect(try !valid(#"{"type":"integer"}"#, "1.5"))
        #expect(try !valid(#"{"type":"integer"}"#, #""1""#))
        #expect(try valid(#"{"type":"number"}"#, "1.5"))
        #expect(try valid(#"{"type":["string","null"]}"#, "null"))
        #expect(try !valid(#"{"type":"object"}"#, "[]"))
        #expect(try failures(#"{"type":"integer"}"#, "2.5").first?.message == "must be integer, not a number")
    }

    @Test func propertiesRequiredAndAdditionalProperties() throws {
        let s = #"{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"required":["a"],"additionalProperties":false}"#
        #expect(try valid(s, #"{"a":"x","b":2}"#))
        #expect(try failures(s, #"{"b":2}"#).map(\.keyword) == ["required"])
        let unknown = try failures(s, #"{"a":"x","c":1}"#)
        #expect(unknown.map(\.keyword) == ["additionalProperties"] && unknown[0].message.contains("'c'"))
        let nested = try failures(s, #"{"a":1}"#)
        #expect(nested.first?.instancePath == "/a" && nested.first?.keyword == "type")
        #expect(try valid(#"{"additionalProperties":{"type":"integer"}}"#, #"{"x":1,"y":2}"#))
        #expect(try !valid(#"{"additionalProperties":{"type":"integer"}}"#, #"{"x":"1"}"#))
        #expect(try !valid(#"{"minProperties":2}"#, #"{"x":1}"#))
        #expect(try !valid(#"{"maxProperties":1}"#, #"{"x":1,"y":2}"#))
    }

    /// Members and properties are walked side by side in canonical order: every member must
    /// meet its own property's schema wherever it falls among the others, non-ASCII and
    /// prefix names included, and missing members are reported in the schema's order.
    @Test func membersMeetTheirOwnPropertyWhereverTheyFall() throws {
        let names = ["b", "a", "aa", "ab", "z", "é", "Z", "a0", "m"]
        let properties = names.enumerated().map { #""\#($1)":{"const":\#($0)}"# }.joined(separator: ",")
        let s = #"{"properties":{\#(properties)},"required":["z","b","é"],"additionalProperties":false}"#
        var generator = SeededGenerator(state: 2026)  // reproducible
        for _ in 0..<30 {
            let present = names.indices.filter { _ in Bool.random(using: &generator) }.shuffled(using: &generator)
            let instance = "{" + present.map { #""\#(names[$0])":\#($0)"# }.joined(separator: ",") + "}"
            let missing = ["z", "b", "é"].filter { name in !present.contains { names[$0] == name } }
            #expect(try failures(s, instance).map(\.message) == missing.map { "missing required member '\($0)'" }, "\(instance)")
            if let wrong = present.first {
                let changed = "{" + present.map { #""\#(names[$0])":\#($0 == wrong ? 99 : $0)"# }.joined(separator: ",") + "}"
                #expect(try failures(s, changed).filter { $0.keyword == "const" }.map(\.instancePath) == ["/" + names[wrong]])
            }
            #expect(try failures(s, "{" + (present.map { #""\#(names[$0])":\#($0)"# } + [#""ac":1"#]).joined(separator: ",") + "}")
                .contains { $0.keyword == "additionalProperties" && $0.message.contains("'ac'") })
        }
    }

    @Test func pointersEscapeSlashAndTilde() throws {
        let f = try failures(#"{"properties":{"a/b~c":{"type":"string"}}}"#, #"{"a/b~c":1}"#)
        #expect(f.first?.instancePath == "/a~1b~0c")
    }

    @Test func enumAndConstCompareJSONValues() throws {
        #expect(try valid(#"{"enum":[1,"a",{"x":1,"y":2}]}"#, #"{"y":2,"x":1}"#))
        #expect(try valid(#"{"enum":[1,"a"]}"#, "1.0"))
        #expect(try !valid(#"{"enum":[1,"a"]}"#, #""b""#))
        #expect(try valid(#"{"const":[1,{"a":null}]}"#, #"[1.0,{"a":null}]"#))
        #expect(try !valid(#"{"const":"CN"}"#, #""JP""#))
        // Strings are equal when their code points are, not when Swift calls them equivalent,
        // wherever they sit.
        #expect(try valid(#"{"enum":["\u00e9","x"]}"#, #""é""#))
        #expect(try !valid(#"{"enum":["\u00e9","x"]}"#, #""e\u0301""#))
        #expect(try !valid(#"{"enum":[{"a":["\u00e9"]}]}"#, #"{"a":["e\u0301"]}"#))
        #expect(try !valid(#"{"const":"\u00e9"}"#, #""e\u0301""#))
        #expect(try valid(#"{"uniqueItems":true}"#, #"["\u00e9","e\u0301"]"#))
    }

    @Test func numberBounds() throws {
        #expect(try valid(#"{"minimum":1,"maximum":3}"#, "1"))
        #expect(try valid(#"{"minimum":1,"maximum":3}"#, "3"))
        #expect(try !valid(#"{"minimum":1}"#, "0.999"))
        #expect(try !valid(#"{"exclusiveMinimum":0}"#, "0"))
        #expect(try valid(#"{"exclusiveMinimum":0}"#, "0.0001"))
        #expect(try !valid(#"{"exclusiveMaximum":10}"#, "10"))
        #expect(try !valid(#"{"maximum":10}"#, "10.5"))
        #expect(try valid(#"{"minimum":0}"#, #""not a number""#))  // bounds apply to numbers only
    }

    @Test func stringLengthsCountCodePoints() throws {
        #expect(try valid(#"{"maxLength":3}"#, #""八维通""#))
        #expect(try valid(#"{"maxLength":1}"#, #""😀""#))  // one code point, two UTF-16 units, four bytes
        #expect(try !valid(#"{"maxLength":1}"#, #""ab""#))
        #expect(try !valid(#"{"minLength":2}"#, #""😀""#))
        #expect(try valid(#"{"minLength":1}"#, #""e\u0301""#) && !(try valid(#"{"maxLength":1}"#, #""e\u0301""#)))
    }

    /// Patterns that are anchored runs of classes are matched in one pass; it must agree with
    /// trying every way, including where a class that repeats overlaps one after an optional
    /// step (those must not take the one-pass path).
    @Test(arguments: ["^[A-Z]{2}$", "^[a-z][a-z0-9_]*$", "^[0-9a-f]{64}$", "^[!#-\\[\\]-~]{1,128}$",
                      "^[a-z]*[0-9]?[a-z]$", "^[a-z]*[0-9]$", "^[a-c]{1,3}[b-d]{2}$", "^a{2,}b?c*$", "^[^a]*a$",
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "^x{0}a*$"])
    func oneSweepMatchesAgreeWithBacktracking(source: String) throws {
        let pattern = try SchemaPattern(source)
        var random = SeededGenerator(state: UInt64(source.utf8.count))  // reproducible
        let alphabet = Array("abcdxyzAZ09-_é!~".unicodeScalars)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0...8, using: &random)
            var text = String.UnicodeScalarView()
            for _ in 0..<length { text.append(alphabet.randomElement(using: &random)!) }
            let string = String(text)
            #expect(pattern.matches(string) == pattern.matchesByBacktracking(string), "\(source) on '\(string)'")
        }
        // Long texts for the long runs.
        for text in [String(repeating: "a", count: 64), String(repeating: "0f", count: 32), String(repeating: "~", count: 129)] {
            #expect(pattern.matches(text) == pattern.matchesByBacktracking(text), "\(source) on '\(text)'")
        }
    }

    @Test func patternsSearchUnlessAnchored() throws {
        #expect(try valid(#"{"pattern":"b"}"#, #""abc""#))
        #expect(try !valid(#"{"pattern":"^b"}"#, #""abc""#))
        #expect(try valid(#"{"pattern":"^[A-Z]{2}$"}"#, #""JP""#))
        #expect(try !valid(#"{"pattern":"^[A-Z]{2}$"}"#, #""JPN""#))
        #expect(try valid(#"{"pattern":"^[0-9]{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$"}"#, #""2021-Q4""#))
        #expect(try !valid(#"{"pattern":"^[0-9]{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$"}"#, #""2021-13""#))
        #expect(try valid(#"{"pattern":"^\\d+(\\.\\d+)?$"}"#, #""12.5""#))
        #expect(try valid(#"{"pattern":"^[^a-z]*$"}"#, #""ABC 1""#))
        #expect(try valid(#"{"pattern":"^(?:ab)+c?$"}"#, #""ababc""#))
        #expect(try !valid(#"{"pattern":"^a{2,3}$"}"#, #""aaaa""#))
        #expect(try valid(#"{"pattern":"^.$"}"#, #""八""#))  // one code point
        #expect(try valid(#"{"pattern":"^(a*)*b$"}"#, #""aaab""#))
    }

    @Test func arrays() throws {
        #expect(try valid(#"{"items":{"type":"integer"},"minItems":1,"maxItems":3}"#, "[1,2]"))
        #expect(try failures(#"{"items":{"type":"integer"}}"#, #"[1,"x"]"#).first?.instancePath == "/1")
        #expect(try !valid(#"{"minItems":1}"#, "[]"))
        #expect(try !valid(#"{"maxItems":1}"#, "[1,2]"))
        #expect(try valid(#"{"uniqueItems":true}"#, #"[1,"1",[1],{"a":1}]"#))
        #expect(try !valid(#"{"uniqueItems":true}"#, #"[{"a":1,"b":2},{"b":2,"a":1}]"#))  // same object, other key order
        #expect(try !valid(#"{"uniqueItems":true}"#, "[1,1.0]"))
    }

    @Test func referencesIntoDefs() throws {
        let s = ##"{"$defs":{"name":{"type":"object","required":["zh"]}},"properties":{"a":{"$ref":"#/$defs/name"}}}"##
        #expect(try valid(s, #"{"a":{"zh":"路"}}"#))
        #expect(try failures(s, #"{"a":{}}"#).first?.instancePath == "/a")
    }

    @Test func combinators() throws {
        #expect(try valid(#"{"allOf":[{"minimum":1},{"maximum":2}]}"#, "2"))
        #expect(try !valid(#"{"allOf":[{"minimum":1},{"maximum":2}]}"#, "3"))
        #expect(try valid(#"{"anyOf":[{"type":"string"},{"minimum":5}]}"#, "6"))
        #expect(try !valid(#"{"anyOf":[{"type":"string"},{"minimum":5}]}"#, "4"))
        let oneOf = #"{"oneOf":[{"required":["id"]},{"required":["seq"]}]}"#
        #expect(try valid(oneOf, #"{"id":"x"}"#))
        #expect(try failures(oneOf, #"{"id":"x","seq":1}"#).first?.keyword == "oneOf")
        #expect(try !valid(oneOf, "{}"))
        #expect(try valid(#"{"not":{"type":"null"}}"#, "1"))
        #expect(try !valid(#"{"not":{"type":"null"}}"#, "null"))
        let conditional = #"{"if":{"properties":{"kind":{"const":"school"}}},"then":{"required":["level"]},"else":{"not":{"required":["level"]}}}"#
        #expect(try valid(conditional, #"{"kind":"school","level":"middle"}"#))
        #expect(try !valid(conditional, #"{"kind":"school"}"#))
        #expect(try valid(conditional, #"{"kind":"hospital"}"#))
        #expect(try !valid(conditional, #"{"kind":"hospital","level":"middle"}"#))
        #expect(try valid("true", "1"))
        #expect(try !valid("false", "1"))
    }

    @Test func formatsDateAndDateTime() throws {
        #expect(try valid(#"{"format":"date"}"#, #""2024-02-29""#))
        #expect(try !valid(#"{"format":"date"}"#, #""2021-02-30""#))
        #expect(try !valid(#"{"format":"date"}"#, #""2021-2-3""#))
        #expect(try valid(#"{"format":"date-time"}"#, #""2022-01-14T10:30:00+08:00""#))
        #expect(try valid(#"{"format":"date-time"}"#, #""2022-01-14T02:30:00.25Z""#))
        #expect(try !valid(#"{"format":"date-time"}"#, #""2022-01-14T10:30+08:00""#))  // RFC 3339 needs seconds
        #expect(try !valid(#"{"format":"date-time"}"#, #""2022-01-14""#))
        #expect(try valid(#"{"format":"date"}"#, "5"))  // formats apply to strings only
    }

    @Test(arguments: [
        #"{"multipleOf":2}"#, #"{"patternProperties":{"a":{}}}"#, #"{"$ref":"other.json"}"#, ##"{"$ref":"#/$defs/missing"}"##,
        #"{"format":"email"}"#, #"{"pattern":"^(?=a)"}"#, #"{"pattern":"\\bword"}"#, #"{"pattern":"(a)\\1"}"#,
        #"{"pattern":"a*?"}"#, #"{"pattern":"[z-a]"}"#, #"{"items":[{}]}"#, #"{"type":"int"}"#, #"{"minLength":-1}"#,
        ##"{"$schema":"http://json-schema.org/draft-07/schema#"}"##, #"{"properties":{"a":{"dependentRequired":{}}}}"#, "[]",
    ])
    func refusesWhatItDoesNotImplement(text: String) {
        #expect(throws: SchemaError.self) { try JSONSchema(text: Array(text.utf8)) }
    }

    @Test func reportsSeveralFailuresUpToTheLimit() throws {
        let s = try schema(#"{"properties":{"a":{"type":"string"},"b":{"type":"string"},"c":{"type":"string"}}}"#)
        let instance = try JSONParser.parse(#"{"a":1,"b":2,"c":3}"#)
        #expect(s.validate(instance).count == 3)
        #expect(s.validate(instance, limit: 2).count == 2)
        #expect(!s.isValid(instance))
    }
}
