import LedgerValues
/// An event as the ledger stores it: the client's draft plus what the ledger assigned.
public struct Event: Sendable, Equatable {
    /// Global position, gap-free from 1.
    public var seq: UInt64
    public var id: String
    public var type: String
    public var stream: String
    /// 1-based position in its stream.
    public var version: UInt64
    /// When it happened in the world, as the client wrote it.
    public var effective: String
    /// When the ledger recorded it (UTC, fixed form).
    public var recorded: String
    public var actor: String?
    public var source: String?
    /// The schema version of its type that `data` was validated against.
    public var schemaVersion: Int
    public var data: JSONObject
    /// The hash of the event before (zeros for seq 1).
    public var prev: ChainHash
    /// SHA-256 of `canonicalBytes`.
    public var hash: ChainHash

    /// The envelope as a JSON object; with `includingHash`, as `log --json` prints it.
    public func envelope(includingHash: Bool) -> JSONObject {
        var members: [(String, JSONValue)] = [
            ("seq", .number(Double(seq))), ("id", .string(id)), ("type", .string(type)),
            ("stream", .string(stream)), ("version", .number(Double(version))),
            ("effective", .string(effective)), ("recorded", .string(recorded)), ("schemaVersion", .number(Double(schemaVersion))),
            ("data", .object(data)), ("prev", .string(prev.hex)),
        ]
        if let actor { members.append(("actor", .string(actor))) }
        if let source { members.append(("source", .string(source))) }
        if includingHash { members.append(("hash", .string(hash.hex))) }
        return JSONObject(members)
    }

    /// The bytes the hash covers: the RFC 8785 form of the envelope without `hash`.
    public var canonicalBytes: [UInt8] {
        JSONValue.object(envelope(includingHash: false)).canonicalBytes
    }
}

/// The value stored under each seq: the event's 32-byte SHA-256 hash, then its canonical bytes.
public enum EventRecord {
    public static let hashSize = 32

    /// The envelope's fields, all required but `actor` and `source`.
    static let fields: Set<String> = ["seq", "id", "type", "stream", "version", "effective", "recorded", "actor", "source",
                                       "schemaVersion", "data", "prev"]

    /// Decodes a stored value. Throws `.storage` when it is not a well-formed event record,
    /// which can only mean damage.
    public static func decode(_ raw: UnsafeRawBufferPointer) throws(LedgerError) -> Event {
        // The fast path reads what correct writers write; anything else is read as any JSON,
        // which also says what is wrong with it.
        if let event = decodeCanonical(raw) { return event }
        return try decodeGeneral(raw)
    }

    static func decodeGeneral(_ raw: UnsafeRawBufferPointer) throws(LedgerError) -> Event {
        guard raw.count > hashSize else { throw damaged("record is \(raw.count) bytes, too short") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[hashSize...]),
                                         maxDepth: Limits.maxDepth + 1)
        } catch {
            throw damaged("record is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw damaged("record is not a JSON object") }
        for key in object.keys where !fields.contains(key) { throw damaged("record has an unknown field '\(MessageText.quote(key))'") }
        func string(_ key: String) throws(LedgerError) -> String {
            guard case .string(let text)? = object[key] else { throw damaged("record field '\(key)' is missing or not a string") }
            return text
        }
        func optionalString(_ key: String) throws(LedgerError) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let text) = value else { throw damaged("record field '\(key)' is not a string") }
            return text
        }
        func integer(_ key: String) throws(LedgerError) -> UInt64 {
            guard let number = object[key]?.integerValue, number >= 1 else {
                throw damaged("record field '\(key)' is missing or not a positive integer")
            }
            return UInt64(number)
        }
        guard case .object(let data)? = object["data"] else { throw damaged("record field 'data' is missing or not an object") }
        guard let prev = ChainHash(hex: try string("prev")) else { throw damaged("record field 'prev' is not a hash") }
        return Event(seq: try integer("seq"), id: try string("id"), type: try string("type"),
                     stream: try string("stream"), version: try integer("version"),
                     effective: try string("effective"), recorded: try string("recorded"),
                     actor: try optionalString("actor"), source: try optionalString("source"),
                     schemaVersion: Int(try integer("schemaVersion")), data: data, prev: prev, hash: ChainHash(raw: raw))
    }

    /// The envelope fields `verify` checks, read without building the event's data.
    struct Header {
        var seq: UInt64 = 0
        var id = ""
        var stream = ""
        var version: UInt64 = 0
        var recorded = ""
        var prev = ChainHash.genesis
    }

    static func header(_ raw: UnsafeRawBufferPointer) throws(LedgerError) -> Header {
        guard raw.count > hashSize else { throw damaged("record is \(raw.count) bytes, too short") }
        var header = Header()
        var seen = 0
        do {
            try JSONParser.forEachMember(of: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[hashSize...]),
                                         skip: { $0 == "data" }) { key, value throws(JSONParseError) in
                seen += 1
                switch (key, value) {
                case ("seq", let value?): header.seq = UInt64(exactly: value.integerValue ?? 0) ?? 0
                case ("version", let value?): header.version = UInt64(exactly: value.integerValue ?? 0) ?? 0
                case ("id", .string(let text)?): header.id = text
                case ("stream", .string(let text)?): header.stream = text
                case ("recorded", .string(let text)?): header.recorded = text
                case ("prev", .string(let text)?):
                    if let hash = ChainHash(hex: text) { header.prev = hash } else { seen -= 1 }
                default: seen -= 1
                }
            }
        } catch {
            throw damaged("record is not valid JSON (\(error))")
        }
        guard seen == 6, header.seq > 0, header.version > 0 else { throw damaged("record lacks a well-formed envelope field") }
        return header
    }

    static func damaged(_ message: String) -> LedgerError {
        LedgerError(.storage, "damaged event record: \(message)")
    }
}
