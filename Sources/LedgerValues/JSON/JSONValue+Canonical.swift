/// RFC 8785, the JSON Canonicalization Scheme: one byte string for a JSON value. Members are
/// sorted by UTF-16 code units, there is no white space, strings escape only what JSON requires
/// (in the short forms), and numbers print as ECMAScript prints a double.
extension JSONValue {
    /// The canonical bytes of this value.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        writeCanonical(into: &out)
        return out
    }

    /// Appends the canonical bytes of this value to `out`.
    public func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value): CanonicalJSON.writeNumber(value, into: &out)
        case .string(let value): CanonicalJSON.writeString(value, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            // JSONObject keeps its members in canonical order already.
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}

/// The scalar pieces of RFC 8785, also used to write the envelope's own fields.
public enum CanonicalJSON {
    /// An integer in decimal (the envelope's seq, version and schema version; whole numbers),
    /// written without making a string.
    @inlinable
    public static func writeInteger(_ value: UInt64, into out: inout some ByteSink) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value, start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: UnsafeBufferPointer(UnsafeMutableBufferPointer(rebasing: digits[start...])))
        }
    }

    /// How many decimal digits `value` takes.
    public static func digits(_ value: UInt64) -> Int {
        var count = 1, rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    /// A string in double quotes, escaping `"`, `\` and control characters only.
    @inlinable
    public static func writeString(_ value: String, into out: inout some ByteSink) {
        var value = value
        value.withUTF8 { writeString($0, into: &out) }
    }

    /// The same for a string given as its UTF-8 bytes.
    @inlinable
    public static func writeString(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout some ByteSink) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: skip eight bytes at a time to the first that may.
        var plain = 0
        while plain + 8 <= bytes.count, StringBytes.specials(StringBytes.word(UnsafeRawBufferPointer(bytes), at: plain)) == 0 { plain += 8 }
        var runStart = 0
        for i in plain..<bytes.count {
            let byte = bytes[i]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            runStart = i + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append("u00")
                out.append(Hex.digits[Int(byte >> 4)])
                out.append(Hex.digits[Int(byte & 0xF)])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }

    /// A number as ECMAScript's Number.prototype.toString prints it: the shortest digits that
    /// round-trip, plain notation from 1e-6 up to 1e21, exponent notation outside.
    @inlinable
    public static func writeNumber(_ value: Double, into out: inout some ByteSink) {
        precondition(value.isFinite, "JSON numbers are finite")
        if value == 0 { out.append(UInt8(ascii: "0")); return }  // also -0
        // Up to 2^53 an integer's shortest digits are its own; above, doubles are further
        // apart than 1 and ECMAScript prints the shortest digits that round-trip, padded with
        // zeros (999999999999999872 prints as 999999999999999900), as the general path does.
        if value.rounded(.towardZero) == value, abs(value) <= JSONValue.maxExactInteger {
            if value < 0 { out.append(UInt8(ascii: "-")) }
            writeInteger(UInt64(abs(value)), into: &out)
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let (digits, point) = shortestDigits(abs(value))
        let k = digits.count, n = point
        func write(_ range: Range<Int>) { digits.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) } }
        func zeros(_ count: Int) { for _ in 0..<count { out.append(UInt8(ascii: "0")) } }
        if k <= n && n <= 21 {
            write(0..<k)
            zeros(n - k)
        } else if 0 < n && n <= 21 {
            write(0..<n)
            out.append(UInt8(ascii: "."))
            write(n..<k)
        } else if -6 < n && n <= 0 {
            out.append("0.")
            zeros(-n)
            write(0..<k)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                write(1..<k)
            }
            out.append(UInt8(ascii: "e"))
            out.append(UInt8(ascii: n - 1 < 0 ? "-" : "+"))
            writeInteger(UInt64(abs(n - 1)), into: &out)
        }
    }

    /// The shortest round-trip decimal digits of a positive double, and the position of the
    /// decimal point: value = 0.d1d2…dk × 10^point. Swift's `description` already prints the
    /// shortest round-trip digits; this only takes its notation apart.
    @usableFromInline
    static func shortestDigits(_ value: Double) -> (digits: [UInt8], point: Int) {
        let text = Array(value.description.utf8)
        var mantissa = text[...], exponent = 0
        if let e = text.firstIndex(of: UInt8(ascii: "e")) {
            mantissa = text[..<e]
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self))!
        }
        var digits: [UInt8] = []
        var integerDigits = 0
        var seenPoint = false
        for byte in mantissa {
            if byte == UInt8(ascii: ".") { seenPoint = true; continue }
            digits.append(byte)
            if !seenPoint { integerDigits += 1 }
        }
        var point = integerDigits + exponent
        while digits.first == UInt8(ascii: "0") { digits.removeFirst(); point -= 1 }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, point)
    }
}
