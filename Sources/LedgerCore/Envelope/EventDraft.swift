/// An event as a client asks for it to be appended: what it is, which entity it concerns and
/// what it says. The ledger adds `seq`, `version`, `recorded`, `prev` and `hash`.
public struct EventDraft: Sendable, Equatable {
    /// The client's idempotency key; generated when absent.
    public var id: String?
    public var type: String
    public var stream: String
    /// When it happened; today in the zone when absent.
    public var effective: EffectiveTime?
    /// The stream's version the client expects before this event (0: a new stream).
    public var expectedVersion: UInt64?
    public var actor: String?
    public var source: String?
    public var data: JSONObject

    public init(id: String? = nil, type: String, stream: String, effective: EffectiveTime? = nil,
                expectedVersion: UInt64? = nil, actor: String? = nil, source: String? = nil,
                data: JSONObject = JSONObject()) {
        self.id = id
        self.type = type
        self.stream = stream
        self.effective = effective
        self.expectedVersion = expectedVersion
        self.actor = actor
        self.source = source
        self.data = data
    }

    /// Checks every field's form; the error names the field.
    public func validate() throws(LedgerError) {
        if let id { try EventDraft.checkId(id) }
        try EventDraft.checkType(type)
        try EventDraft.checkStream(stream)
        if let actor { try EventDraft.checkText(actor, field: "actor") }
        if let source { try EventDraft.checkText(source, field: "source") }
    }

    /// An id is 1 to 128 printable ASCII characters other than space, `"` and `\`.
    public static func checkId(_ id: String) throws(LedgerError) {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= Limits.maxIdBytes,
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) else {
            throw LedgerError(.invalidInput, "field 'id': must be 1 to \(Limits.maxIdBytes) printable ASCII characters without spaces, quotes or backslashes")
        }
    }

    /// A type is dotted lowercase words: `project.signed`, `housing.batch_handed_over`.
    public static func checkType(_ type: String) throws(LedgerError) {
        let words = type.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard type.utf8.count <= Limits.maxTypeBytes, words.count >= 2,
              words.allSatisfy({ word in
                  guard let first = word.first, isLower(first) else { return false }
                  return word.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
              }) else {
            throw LedgerError(.invalidInput, "field 'type': '\(type)' is not a type name (dotted lowercase words such as project.signed)")
        }
    }

    /// A stream is a lowercase kind and one or more name segments: `project/baweitong-hq`,
    /// `road/xujiaguan`.
    public static func checkStream(_ stream: String) throws(LedgerError) {
        let parts = stream.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let valid = stream.utf8.count <= Limits.maxStreamBytes && parts.count >= 2
            && parts[0].first.map(isLower) == true
            && parts[0].allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
            && parts.dropFirst().allSatisfy { segment in
                guard let first = segment.first, isLower(first) || isUpper(first) || isDigit(first) else { return false }
                return segment.allSatisfy { isLower($0) || isUpper($0) || isDigit($0) || $0 == UInt8(ascii: "-")
                    || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
            }
        guard valid else {
            throw LedgerError(.invalidInput, "field 'stream': '\(stream)' is not a stream name (kind/name such as project/baweitong-hq, ASCII letters, digits, '-', '_', '.')")
        }
    }

    static func checkText(_ text: String, field: String) throws(LedgerError) {
        guard !text.isEmpty, text.utf8.count <= Limits.maxTextBytes else {
            throw LedgerError(.invalidInput, "field '\(field)': must be 1 to \(Limits.maxTextBytes) bytes of text")
        }
    }
}

@inline(__always) private func isLower(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
@inline(__always) private func isUpper(_ c: UInt8) -> Bool { c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
