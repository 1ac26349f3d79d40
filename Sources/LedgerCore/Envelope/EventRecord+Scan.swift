import LedgerValues

extension EventRecord {
    /// The envelope fields `verify` checks, read straight from a canonical body without
    /// building strings for what it only compares (`prev`, `recorded`) or `data` at all.
    package struct ScannedHeader {
        package var seq: UInt64 = 0
        package var version: UInt64 = 0
        package var id = ""
        package var stream = ""
        package var effective = ""
        package var prev = ChainHash.genesis
        /// The recorded time's 27 bytes, zero-padded: compared as bytes, which is time order
        /// for the fixed form.
        package var recorded = SIMD32<UInt8>()
    }

    /// Reads a body laid out exactly as a correct writer lays it out (FORMAT.md §4 and §5:
    /// members in canonical order, ids and streams without escapes). Returns nil for anything
    /// else, and the caller falls back to `header(_:)`, which reads any JSON.
    package static func scanCanonical(_ raw: UnsafeRawBufferPointer) -> ScannedHeader? {
        guard raw.count > hashSize else { return nil }
        var scanner = CanonicalScanner(bytes: UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[hashSize...]))
        var header = ScannedHeader()
        guard scanner.take("{") else { return nil }
        if scanner.take("\"actor\":") { guard scanner.skipString(), scanner.take(",") else { return nil } }
        guard scanner.take("\"data\":"), scanner.skipValue(), scanner.take(",\"effective\":"), let effective = scanner.plainString(),
              scanner.take(",\"id\":"), let id = scanner.plainString(),
              scanner.take(",\"prev\":\""), let prev = scanner.hash(),
              scanner.take("\",\"recorded\":\""), let recorded = scanner.recorded(),
              scanner.take("\",\"schemaVersion\":"), scanner.integer() != nil,
              scanner.take(",\"seq\":"), let seq = scanner.integer(), scanner.take(",")
        else { return nil }
        if scanner.take("\"source\":") { guard scanner.skipString(), scanner.take(",") else { return nil } }
        guard scanner.take("\"stream\":"), let stream = scanner.plainString(), scanner.take(",\"type\":"), scanner.skipString(),
              scanner.take(",\"version\":"), let version = scanner.integer(), scanner.take("}"), scanner.atEnd
        else { return nil }
        header.seq = seq
        header.version = version
        header.id = id
        header.stream = stream
        header.effective = effective
        header.prev = prev
        header.recorded = recorded
        return header
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
        guard index + count <= bytes.count else { return false }
        for i in 0..<count where bytes[index + i] != literal.utf8Start[i] { return false }
        index += count
        return true
    }

    /// Steps over a string, escapes included.
    mutating func skipString() -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\""): index += 1; return true
            case UInt8(ascii: "\\"): index += 2
            default: index += 1
            }
        }
        return false
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

    /// A string with no escapes, as ids and stream names always are.
    mutating func plainString() -> String? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] != UInt8(ascii: "\\"), bytes[end] < 0x80 else { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        index = end + 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    mutating func hash() -> ChainHash? {
        guard index + 64 <= bytes.count,
              let hash = ChainHash(hex: UnsafeBufferPointer(rebasing: bytes[index..<index + 64])) else { return nil }
        index += 64
        return hash
    }

    mutating func recorded() -> SIMD32<UInt8>? {
        guard index + 27 <= bytes.count else { return nil }
        let text = UnsafeBufferPointer(rebasing: bytes[index..<index + 27])
        guard RecordedTime(bytes: text) != nil else { return nil }
        var value = SIMD32<UInt8>()
        for i in 0..<27 { value[i] = text[i] }
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
