import LedgerValues

/// The upcaster chain: for each type, a step from each old schema version to the next. Events
/// are never rewritten; readers (projections) upcast what they read.
enum Upcasters {
    typealias Step = @Sendable (JSONObject) -> JSONObject

    static let steps: [String: [Int: Step]] = [
        "project.signed": [1: projectSignedV1toV2],
    ]

    /// v1 had one foreign-capital figure, the registered amount; v2 keeps registered and
    /// actually received apart. What was received is unknown for a v1 event, so it stays out.
    static func projectSignedV1toV2(_ data: JSONObject) -> JSONObject {
        var data = data
        if let registered = data["foreignCapitalUsd"] {
            data["foreignCapitalUsd"] = nil
            data["registeredForeignCapitalUsd"] = registered
        }
        return data
    }
}
