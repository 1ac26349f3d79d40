/// Text quoted from input or from a damaged file, made fit for a one-line message.
package enum MessageText {
    /// `text` with every control character (C0, DEL, C1, and the line and paragraph
    /// separators) written as an escape, so that it stays on one line.
    package static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Text quoted from the input or a file in a message: on one line, and at most `limit`
    /// characters of it (a 100,000-character key makes no clearer a message).
    package static func quote(_ text: String, limit: Int = 80) -> String {
        let line = oneLine(text)
        return line.count > limit ? String(line.prefix(limit)) + "…" : line
    }

    /// Raw bytes (a key read from the file) as text: invalid UTF-8 replaced, control
    /// characters escaped, at most `limit` characters.
    package static func excerpt(_ bytes: UnsafeRawBufferPointer, limit: Int = 80) -> String {
        let text = oneLine(String(decoding: bytes.prefix(limit * 4), as: UTF8.self))
        if text.count > limit { return String(text.prefix(limit)) + "…" }
        return bytes.count > limit * 4 ? text + "…" : text
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
