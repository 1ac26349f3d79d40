import LedgerSchemas
import LedgerValues

/// An entity of the zone (a project, a road, a housing estate…) as its stream's events make
/// it: the events in time order, and the state they fold to.
///
/// Time is bitemporal: events fold in effective order (seq breaks ties), whatever order they
/// were recorded in; a correction replaces the data of the event it names and a retraction
/// removes it, wherever that event sits in time (the later fix by seq wins).
public struct Entity: Sendable, Equatable {
    public var stream: String
    /// Every event of the stream, fixes included, in (effective instant, seq) order.
    public private(set) var events: [EntityEvent]
    /// The state after all of them.
    public private(set) var state: JSONObject

    public init(stream: String, events: [EntityEvent] = []) {
        self.stream = stream
        // Positions are sorted, not the events: moving an event copies all its fields.
        let order = events.indices.sorted { Entity.foldOrder(events[$0], events[$1]) }
        self.events = order.map { events[$0] }
        self.state = JSONObject()
        state = Entity.fold(resolved(), stream: stream)
    }

    public var kind: String { String(stream.prefix { $0 != "/" }) }

    static func foldOrder(_ a: EntityEvent, _ b: EntityEvent) -> Bool { (a.instant, a.seq) < (b.instant, b.seq) }

    /// The original events that count, in fold order, with the data their latest fix gives
    /// them. `knownAt` keeps only events recorded up to that seq; `asOf` only originals
    /// effective up to that instant (fixes act at the time of what they fix).
    public func resolved(knownAt: UInt64? = nil, asOf: Int64? = nil) -> [EntityEvent] {
        if knownAt == nil, asOf == nil, !events.contains(where: \.isFix) { return events }
        let known = knownAt.map { limit in events.filter { $0.seq <= limit } } ?? events
        var originals = known.filter { !$0.isFix }
        var included = [Bool](repeating: true, count: originals.count)
        for fix in known.filter(\.isFix).sorted(by: { $0.seq < $1.seq }) {
            for i in originals.indices where fix.targets(originals[i]) {
                if fix.isRetraction {
                    included[i] = false
                } else if let replacement = fix.data["data"]?.objectValue {
                    originals[i].data = replacement
                    included[i] = true
                }
            }
        }
        return originals.indices.filter { index in
            included[index] && (asOf.map { limit in originals[index].instant <= limit } ?? true)
        }.map { originals[$0] }
    }

    /// The state each counting event leaves, in fold order: the entity's history.
    public func history(knownAt: UInt64? = nil) -> [(event: EntityEvent, state: JSONObject)] {
        var state = JSONObject()
        return resolved(knownAt: knownAt).map { event in
            Entity.apply(event, to: &state, stream: stream)
            return (event, state)
        }
    }

    /// The state as of an instant, as known at a seq.
    public func state(knownAt: UInt64? = nil, asOf: Int64? = nil) -> JSONObject {
        Entity.fold(resolved(knownAt: knownAt, asOf: asOf), stream: stream)
    }

    static func fold(_ events: [EntityEvent], stream: String) -> JSONObject {
        var state = JSONObject()
        for event in events { apply(event, to: &state, stream: stream) }
        return state
    }
}
