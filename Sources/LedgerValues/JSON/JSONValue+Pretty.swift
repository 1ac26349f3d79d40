extension JSONValue {
    /// Indented JSON for people: members in canonical order, two spaces a level, text as is.
    public func prettyPrinted(indent: Int = 0) -> String {
        var out: [UInt8] = []
        writePretty(into: &out, level: indent)
        return String(decoding: out, as: UTF8.self)
    }

    private func writePretty(into out: inout [UInt8], level: Int) {
        func newline(_ level: Int) {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch self {
        case .array(let elements) where !elements.isEmpty:
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                element.writePretty(into: &out, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "]"))
        case .object(let object) where object.count > 0:
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level + 1)
                CanonicalJSON.writeString(member.key, into: &out)
                out.append(contentsOf: ": ".utf8)
                member.value.writePretty(into: &out, level: level + 1)
            }
            newline(level)
            out.append(UInt8(ascii: "}"))
        default:
            writeCanonical(into: &out)
        }
    }
}
