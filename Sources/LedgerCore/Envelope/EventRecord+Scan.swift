#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LedgerValues

extension EventRecord {
    /// The envelope fields `verify` checks and a rebuild folds, read straight from a canonical
    /// body without building strings or reading `data` (the byte fields are slices of the
    /// record, valid only while the record's memory is: inside its read transaction).
    package struct ScannedHeader {
        package var seq: UInt64
        package var version: UInt64
        package var idBytes: UnsafeRawBufferPointer
        package var streamBytes: UnsafeRawBufferPointer
        package var effectiveBytes: UnsafeRawBufferPointer
        package var typeBytes: UnsafeRawBufferPointer
        /// The `data` object's JSON, unparsed.
        package var dataBytes: UnsafeBufferPointer<UInt8>
        package var schemaVersion: Int
        package var prev: ChainHash
        /// The recorded time's 27 bytes, zero-padded: compared as bytes, which is time order
        /// for the fixed form.
        package var recorded: SIMD32<UInt8>

        package var id: String { String(decoding: idBytes, as: UTF8.self) }
        package var stream: String { String(decoding: streamBytes, as: UTF8.self) }
        package var effective: String { String(decoding: effectiveBytes, as: UTF8.self) }
    }

    /// Reads a body laid out exactly as a correct writer lays it out (FORMAT.md §4 and §5:
    /// members in canonical order, ids and streams without escapes). Returns nil for anything
    /// else, and the caller falls back to `header(_:)`, which reads any JSON. Without
    /// `chainFields`, `prev` and `recorded` are stepped over (left zero), for readers that
    /// only fold the events. A recorded time equal to `validRecorded` (the event before's, in
    /// verify: a batch shares one) is not parsed again.
    package static func scanCanonical(_ raw: UnsafeRawBufferPointer, chainFields: Bool = true,
                                      validRecorded: SIMD32<UInt8>? = nil) -> ScannedHeader? {
        guard raw.count > hashSize else { return nil }
        var scanner = CanonicalScanner(bytes: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[hashSize...]))
        guard scanner.take("{") else { return nil }
        if scanner.take("\"actor\":") { guard scanner.skipString(), scanner.take(",") else { return nil } }
        guard scanner.take("\"data\":") else { return nil }
        let dataStart = scanner.index
        guard scanner.skipValue() else { return nil }
        let data = UnsafeBufferPointer(rebasing: scanner.bytes[dataStart..<scanner.index])
        guard scanner.take(",\"effective\":"), let effective = scanner.plainBytes(),
              scanner.take(",\"id\":"), let id = scanner.plainBytes(),
              scanner.take(",\"prev\":\""), let prev = chainFields ? scanner.hash() : scanner.step(64, as: .genesis),
              scanner.take("\",\"recorded\":\""), let recorded = chainFields ? scanner.recorded(known: validRecorded) : scanner.step(27, as: .zero),
              scanner.take("\",\"schemaVersion\":"), let schemaVersion = scanner.integer(),
              scanner.take(",\"seq\":"), let seq = scanner.integer(), scanner.take(",")
        else { return nil }
        if scanner.take("\"source\":") { guard scanner.skipString(), scanner.take(",") else { return nil } }
        guard scanner.take("\"stream\":"), let stream = scanner.plainBytes(), scanner.take(",\"type\":"), let type = scanner.plainBytes(),
              scanner.take(",\"version\":"), let version = scanner.integer(), scanner.take("}"), scanner.atEnd
        else { return nil }
        return ScannedHeader(seq: seq, version: version, idBytes: id, streamBytes: stream, effectiveBytes: effective,
                             typeBytes: type, dataBytes: data, schemaVersion: Int(schemaVersion), prev: prev, recorded: recorded)
    }
}

extension EventRecord {
    /// Decodes a canonical record, reading the envelope with the forward scanner and parsing
    /// only the values that need it (`data`, and text that may hold escapes). Nil for anything
    /// not laid out canonically; `decode` then reads it as general JSON.
    static func decodeCanonical(_ raw: UnsafeRawBufferPointer) -> Event? {
        guard raw.count > hashSize else { return nil }
        let bytes = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[hashSize...])
        var scanner = CanonicalScanner(bytes: bytes)
        func text(_ range: Range<Int>) -> String? {
            (try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[range])))?.stringValue
        }
        guard scanner.take("{") else { return nil }
        var actor: String?, source: String?
        if scanner.take("\"actor\":") {
            let start = scanner.index
            guard scanner.skipString(), let value = text(start..<scanner.index), scanner.take(",") else { return nil }
            actor = value
        }
        guard scanner.take("\"data\":") else { return nil }
        let dataStart = scanner.index
        guard scanner.skipValue(),
              case .object(let data)? = try? JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[dataStart..<scanner.index]),
                                                              maxDepth: Limits.maxDepth),
              scanner.take(",\"effective\":"), let effective = scanner.plainString(),
              scanner.take(",\"id\":"), let id = scanner.plainString(),
              scanner.take(",\"prev\":\""), let prev = scanner.hash(),
              scanner.take("\",\"recorded\":\""), let recordedStart = Optional(scanner.index), scanner.recorded(known: nil) != nil,
              scanner.take("\",\"schemaVersion\":"), let schemaVersion = scanner.integer(),
              scanner.take(",\"seq\":"), let seq = scanner.integer(), scanner.take(",")
        else { return nil }
        let recorded = String(decoding: UnsafeBufferPointer(rebasing: bytes[recordedStart..<recordedStart + 27]), as: UTF8.self)
        if scanner.take("\"source\":") {
            let start = scanner.index
            guard scanner.skipString(), let value = text(start..<scanner.index), scanner.take(",") else { return nil }
            source = value
        }
        guard scanner.take("\"stream\":"), let stream = scanner.plainString(), scanner.take(",\"type\":"),
              let type = scanner.plainString(), scanner.take(",\"version\":"), let version = scanner.integer(),
              scanner.take("}"), scanner.atEnd
        else { return nil }
        return Event(seq: seq, id: id, type: type, stream: stream, version: version, effective: effective, recorded: recorded,
                     actor: actor, source: source, schemaVersion: Int(schemaVersion), data: data, prev: prev, hash: ChainHash(raw: raw))
    }
}

/// A cursor over canonical JSON bytes that only moves forward; every method returns nil or
/// false when the bytes are not what a canonical record holds there.
private struct CanonicalScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count, memcmp(bytes.baseAddress! + index, literal.utf8Start, count) == 0 else { return false }
        index += count
        return true
    }

    /// Steps over a string, escapes included.
    mutating func skipString() -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
        index += 1
        while index < bytes.count {
            index = firstQuoteOrBackslash(from: index, orNonASCII: false)
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""): index += 1; return true
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return false
    }

    /// Where the next `"` or `\\` (or, with `orNonASCII`, byte of 0x80 or more) is, eight bytes
    /// at a time; or the offset near the end where fewer than eight bytes are left. A byte is
    /// found by making it zero with an XOR; the lowest byte the zero test flags is always a
    /// true one (its false positives sit only above a true zero).
    private func firstQuoteOrBackslash(from start: Int, orNonASCII: Bool) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highBits: UInt64 = 0x8080_8080_8080_8080
        let raw = UnsafeRawBufferPointer(bytes)
        var offset = start
        while offset + 8 <= bytes.count {
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let quotes = word ^ (ones &* 0x22), backslashes = word ^ (ones &* 0x5C)
            let found = ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes | (orNonASCII ? word : 0)) & highBits
            guard found == 0 else { return offset + found.trailingZeroBitCount / 8 }
            offset += 8
        }
        return offset
    }

    /// Steps over any value: strings, and brackets to their match.
    mutating func skipValue() -> Bool {
        var depth = 0
        repeat {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""): guard skipString() else { return false }
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1; index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard depth > 0 else { return false }
                depth -= 1
                index += 1
            default: index += 1
            }
        } while depth > 0
        return true
    }

    /// A string with no escapes, as ids and stream names always are: its bytes, unquoted.
    mutating func plainBytes() -> UnsafeRawBufferPointer? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = firstQuoteOrBackslash(from: start, orNonASCII: true)
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] != UInt8(ascii: "\\"), bytes[end] < 0x80 else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<end])
    }

    mutating func plainString() -> String? {
        plainBytes().map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func hash() -> ChainHash? {
        guard index + 64 <= bytes.count,
              let hash = ChainHash(hex: UnsafeBufferPointer(rebasing: bytes[index..<index + 64])) else { return nil }
        index += 64
        return hash
    }

    /// Steps over `count` bytes, giving `value` for them.
    mutating func step<Value>(_ count: Int, as value: Value) -> Value? {
        guard index + count <= bytes.count else { return nil }
        index += count
        return value
    }

    /// A recorded time's 27 bytes, checked to be one unless they equal `known`.
    mutating func recorded(known: SIMD32<UInt8>?) -> SIMD32<UInt8>? {
        guard index + 27 <= bytes.count else { return nil }
        // Four overlapping words (offsets 0, 8, 16, 19) cover the 27 bytes.
        let raw = UnsafeRawPointer(bytes.baseAddress! + index)
        var value = SIMD32<UInt8>()
        withUnsafeMutableBytes(of: &value) { value in
            for offset in [0, 8, 16, 19] {
                value.storeBytes(of: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
            }
        }
        let same = known.map { known in
            withUnsafeBytes(of: known) { known in withUnsafeBytes(of: value) { value in
                (0..<4).allSatisfy { known.load(fromByteOffset: $0 * 8, as: UInt64.self) == value.load(fromByteOffset: $0 * 8, as: UInt64.self) }
            } }
        } ?? false
        guard same || RecordedTime(bytes: UnsafeBufferPointer(rebasing: bytes[index..<index + 27])) != nil else { return nil }
        index += 27
        return value
    }

    /// A positive integer without sign, fraction or exponent (as canonical integers are).
    mutating func integer() -> UInt64? {
        var value: UInt64 = 0
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9"), index - start < 16 {
            value = value * 10 + UInt64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index > start, bytes[start] != UInt8(ascii: "0") else { return nil }
        return value
    }
}
