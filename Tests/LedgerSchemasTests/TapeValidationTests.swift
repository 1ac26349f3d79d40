import Testing
import LedgerSchemas
import LedgerValues
import TestSupport

/// The tape's check (`accepts`) is a fast path: it must never call valid what `validate`
/// refuses, and it must accept the ordinary valid event data of every catalog type.
@Suite struct TapeValidationTests {
    private func verdict(_ schema: JSONSchema, _ text: String) -> TapeVerdict? {
        var tape = JSONTape()
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { tape.read($0, maxDepth: 64) ? schema.verdict(tape, at: 0) : nil }
    }

    @Test func acceptsEveryCatalogExampleThatTheValidatorAccepts() throws {
        var checked = 0
        for (name, type) in EventCatalog.shared.types {
            for (version, schema) in type.versions {
                for example in schema.examples {
                    let text = String(decoding: example.canonicalBytes, as: UTF8.self)
                    #expect(schema.validate(example).isEmpty, "\(name) v\(version)")
                    #expect(verdict(schema, text) == .valid, "\(name) v\(version): \(text)")
                    checked += 1
                }
            }
        }
        #expect(checked >= 15)
    }
}

extension TapeValidationTests {
    /// Catalog examples changed at random (members dropped, added, values swapped): a valid
    /// verdict only where `validate` finds nothing, an invalid one only where it finds a
    /// failure, and most verdicts decided.
    @Test func neverDisagreesWithTheValidator() throws {
        var random = SeededGenerator(state: 0x5C4E)
        let replacements: [JSONValue] = [.null, .bool(true), .number(-1), .number(0), .number(2.5), .number(1e15), .string(""),
                                         .string("CN"), .string("x"), .string("semiconductor"), .string("2021-05-18"),
                                         .array([]), .object(JSONObject()), .object(JSONObject([("zh", .string("名"))]))]
        var decided = 0, total = 0
        for (_, type) in EventCatalog.shared.types.sorted(by: { $0.key < $1.key }) {
            for (_, schema) in type.versions.sorted(by: { $0.key < $1.key }) {
                for example in schema.examples {
                    guard case .object(let original) = example else { continue }
                    for _ in 0..<60 {
                        var object = original
                        let keys = object.keys + ["unknownMember", "origin", "registeredForeignCapitalUsd", "en"]
                        for _ in 0..<Int.random(in: 1...2, using: &random) {
                            let key = keys.randomElement(using: &random)!
                            object[key] = Bool.random(using: &random) ? nil : replacements.randomElement(using: &random)!
                        }
                        let value = JSONValue.object(object)
                        let text = String(decoding: value.canonicalBytes, as: UTF8.self)
                        let failures = schema.validate(value)
                        total += 1
                        switch verdict(schema, text) {
                        case .valid?: #expect(failures.isEmpty, "\(text)"); decided += 1
                        case .invalid?: #expect(!failures.isEmpty, "\(text)"); decided += 1
                        case .unknown?, nil: break
                        }
                    }
                }
            }
        }
        #expect(decided * 10 >= total * 9, "\(decided) of \(total) decided")
    }

    @Test func leavesWhatItDoesNotHandleToTheValidator() throws {
        let unique = try JSONSchema(text: Array(#"{"type":"array","uniqueItems":true}"#.utf8))
        #expect(verdict(unique, "[1,2]") == .unknown)
        let containers = try JSONSchema(text: Array(#"{"enum":[[1],{"a":1}]}"#.utf8))
        #expect(verdict(containers, "[1]") == .unknown)
        let wide = try JSONSchema(text: Array(#"{"properties":{"é":{"type":"string"}},"additionalProperties":false}"#.utf8))
        #expect(verdict(wide, #"{"a":1}"#) == .unknown)
        // A schema it handles decides both ways, through `not`, `if` and `anyOf`.
        let mixed = try JSONSchema(text: Array(#"{"if":{"required":["a"]},"then":{"not":{"anyOf":[{"required":["b"]},{"required":["c"]}]}}}"#.utf8))
        #expect(verdict(mixed, #"{"a":1}"#) == .valid)
        #expect(verdict(mixed, #"{"a":1,"c":2}"#) == .invalid)
        #expect(verdict(mixed, #"{"c":2}"#) == .valid)
    }
}
