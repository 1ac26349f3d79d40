import LedgerCore
import LedgerValues

/// One event as an entity's projection keeps it: enough to fold the entity again without
/// reading the log (ordering, the correction rules, the data).
public struct EntityEvent: Sendable, Equatable {
    public var seq: UInt64
    public var id: String
    public var type: String
    public var effective: String
    /// `effective` on the time line (µs since the epoch), the fold order with `seq`.
    public var instant: Int64
    public var recorded: String
    public var schemaVersion: Int
    public var data: JSONObject

    public init(_ event: Event) {
        self.init(event, instant: EntityEvent.instant(of: event))
    }

    /// With `instant`, `EntityEvent.instant(of: event)` computed already.
    init(_ event: Event, instant: Int64) {
        seq = event.seq
        id = event.id
        type = event.type
        effective = event.effective
        self.instant = instant
        recorded = event.recorded
        schemaVersion = event.schemaVersion
        data = event.data
    }

    static func instant(of event: Event) -> Int64 { EffectiveTime(event.effective)?.instant ?? 0 }

    var isCorrection: Bool { type == "event.corrected" }
    var isRetraction: Bool { type == "event.retracted" }
    var isFix: Bool { EntityEvent.isFix(type: type) }

    /// Whether events of `type` correct or retract another.
    static func isFix(type: String) -> Bool { type == "event.corrected" || type == "event.retracted" }

    /// Whether this fix refers to `event`.
    func targets(_ event: EntityEvent) -> Bool {
        guard let target = data["target"] else { return false }
        if let id = target["id"]?.stringValue { return id == event.id }
        if let seq = target["seq"]?.integerValue { return UInt64(seq) == event.seq }
        return false
    }

    public var json: JSONValue {
        .object(JSONObject([
            ("seq", .number(Double(seq))), ("id", .string(id)), ("type", .string(type)), ("effective", .string(effective)),
            ("recorded", .string(recorded)), ("schemaVersion", .number(Double(schemaVersion))),
            ("data", .object(data)),
        ]))
    }
}
