import LedgerValues
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
    /// The schema version of the type that `data` follows; the current one when absent.
    public var schemaVersion: Int?
    public var data: JSONObject

    public init(id: String? = nil, type: String, stream: String, effective: EffectiveTime? = nil,
                expectedVersion: UInt64? = nil, actor: String? = nil, source: String? = nil,
                schemaVersion: Int? = nil, data: JSONObject = JSONObject()) {
        self.id = id
        self.schemaVersion = schemaVersion
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
        try EventDraft.checkFields(id: id, type: type, stream: stream, actor: actor, source: source)
    }

    /// Checks the forms of the envelope's text fields, in this order.
    static func checkFields(id: String?, type: String, stream: String, actor: String?, source: String?) throws(LedgerError) {
        if let id { try checkId(id) }
        try checkType(type)
        try checkStream(stream)
        if let actor { try checkText(actor, field: "actor") }
        if let source { try checkText(source, field: "source") }
    }

    /// Whether the envelope's text fields, given as bytes, all have their forms: the batch's
    /// fast path asks this before it makes strings of them; `checkFields` words what is wrong.
    static func fieldsHaveTheirForms(id: UnsafeBufferPointer<UInt8>?, type: UnsafeBufferPointer<UInt8>,
                                     stream: UnsafeBufferPointer<UInt8>, actor: UnsafeBufferPointer<UInt8>?,
                                     source: UnsafeBufferPointer<UInt8>?) -> Bool {
        (id.map(isId) ?? true) && isTypeName(type) && isStreamName(stream) && (actor.map(isText) ?? true) && (source.map(isText) ?? true)
    }

    /// An id is 1 to 128 printable ASCII characters other than space, `"` and `\`.
    public static func checkId(_ id: String) throws(LedgerError) {
        guard withBytes(of: id, isId) else {
            throw LedgerError(.invalidInput, "field 'id': must be 1 to \(Limits.maxIdBytes) printable ASCII characters without spaces, quotes or backslashes")
        }
    }

    /// A type is dotted lowercase words: `project.signed`, `housing.batch_handed_over`.
    public static func checkType(_ type: String) throws(LedgerError) {
        guard withBytes(of: type, isTypeName) else {
            throw LedgerError(.invalidInput, "field 'type': '\(MessageText.quote(type))' is not a type name (dotted lowercase words such as project.signed)")
        }
    }

    /// A stream is a lowercase kind and one or more name segments: `project/baweitong-hq`,
    /// `road/xujiaguan`.
    public static func checkStream(_ stream: String) throws(LedgerError) {
        guard withBytes(of: stream, isStreamName) else {
            throw LedgerError(.invalidInput, "field 'stream': '\(MessageText.quote(stream))' is not a stream name (kind/name such as project/baweitong-hq, ASCII letters, digits, '-', '_', '.')")
        }
    }

    static func checkText(_ text: String, field: String) throws(LedgerError) {
        guard withBytes(of: text, isText) else {
            throw LedgerError(.invalidInput, "field '\(field)': must be 1 to \(Limits.maxTextBytes) bytes of text")
        }
    }

    private static func withBytes(of text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        var text = text
        return text.withUTF8(body)
    }

    private static func isId(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.count <= Limits.maxIdBytes && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
    }

    private static func isText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.count <= Limits.maxTextBytes
    }

    /// `word(.word)+`, each word a lowercase letter then lowercase letters, digits or `_`.
    private static func isTypeName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= Limits.maxTypeBytes else { return false }
        var words = 0, atWordStart = true
        for c in bytes {
            if atWordStart {
                guard isLower(c) else { return false }
                atWordStart = false
                words += 1
            } else if c == UInt8(ascii: ".") {
                atWordStart = true
            } else if !(isLower(c) || isDigit(c) || c == UInt8(ascii: "_")) {
                return false
            }
        }
        return words >= 2 && !atWordStart
    }

    /// `kind(/segment)+`: the kind lowercase letters, digits, `-`, `_` from a letter; each
    /// segment ASCII letters, digits, `-`, `_`, `.` from a letter or digit.
    private static func isStreamName(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= Limits.maxStreamBytes else { return false }
        var segments = 0, atSegmentStart = true
        for c in bytes {
            if atSegmentStart {
                let allowed = segments == 0 ? isLower(c) : (isLower(c) || isUpper(c) || isDigit(c))
                guard allowed else { return false }
                atSegmentStart = false
                segments += 1
            } else if c == UInt8(ascii: "/") {
                atSegmentStart = true
            } else if segments == 1 {
                guard isLower(c) || isDigit(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") else { return false }
            } else {
                guard isLower(c) || isUpper(c) || isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
                    || c == UInt8(ascii: ".") else { return false }
            }
        }
        return segments >= 2 && !atSegmentStart
    }
}

@inline(__always) private func isLower(_ c: UInt8) -> Bool { c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") }
@inline(__always) private func isUpper(_ c: UInt8) -> Bool { c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") }
@inline(__always) private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
