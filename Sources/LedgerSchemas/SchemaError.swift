/// A schema the validator will not load: a keyword it does not implement, a malformed value,
/// a `$ref` it cannot resolve. Refusing is the point: a keyword silently ignored would let
/// invalid events in.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// Where in the schema (a JSON pointer).
    public var location: String
    public var message: String

    public init(location: String, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "schema \(location.isEmpty ? "/" : location): \(message)" }
}

/// One way an instance breaks a schema.
public struct ValidationFailure: Sendable, Equatable, CustomStringConvertible {
    /// Where in the instance (a JSON pointer; empty for the whole).
    public var instancePath: String
    /// The keyword broken.
    public var keyword: String
    /// Where that keyword sits in the schema (a JSON pointer).
    public var schemaPath: String
    public var message: String

    public var description: String {
        "\(instancePath.isEmpty ? "/" : instancePath): \(message) (\(keyword))"
    }
}

/// Appends a reference token to a JSON pointer, escaping `~` and `/` (RFC 6901).
func appendPointer(_ pointer: String, _ token: String) -> String {
    pointer + "/" + token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
}

extension String {
    /// A small replace, so this module needs no Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
