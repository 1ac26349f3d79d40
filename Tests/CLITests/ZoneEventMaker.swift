import TestSupport

/// Valid zone events for the crash and load tests, from a seeded generator: a couple of hundred
/// shared entities (so writers touch the same streams), effective dates that mostly move
/// forward through five years but one in six times fall anywhere before (an event arriving
/// late makes its entity fold again), and in batches the odd correction or retraction of an
/// earlier line.
struct ZoneEventMaker {
    var random: SeededGenerator
    /// Days after 2019-01-01 of the latest effective date so far.
    private var day = 0

    init(seed: UInt64) { random = SeededGenerator(state: seed) }

    /// One event, as the fields of a batch line.
    struct Event {
        var id: String
        var type: String
        var stream: String
        var effective: String
        /// The data as JSON text.
        var data: String

        var batchLine: String {
            #"{"id":"\#(id)","type":"\#(type)","stream":"\#(stream)","effective":"\#(effective)","data":\#(data)}"#
        }

        /// `append` options for this event alone.
        var singleArguments: [String] {
            ["--id", id, "--type", type, "--stream", stream, "--effective", effective, "--data", data]
        }

        var isFix: Bool { type == "event.corrected" || type == "event.retracted" }
    }

    /// The years effective dates fall in.
    static let years = 2019...2023

    private static let sectors = ["semiconductor", "new_materials", "industrial_robots", "aerospace", "medical_devices", "biomedicine"]

    mutating func effective() -> String {
        if Int.random(in: 0..<4, using: &random) == 0 { day = min(day + 1, 5 * 365) }
        var rest = Int.random(in: 0..<6, using: &random) == 0 ? Int.random(in: 0...day, using: &random) : day
        var year = ZoneEventMaker.years.lowerBound
        while true {
            let leap = year % 4 == 0
            if rest < (leap ? 366 : 365) { break }
            rest -= leap ? 366 : 365
            year += 1
        }
        var month = 1
        for length in [31, year % 4 == 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] {
            if rest < length { break }
            rest -= length
            month += 1
        }
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(rest < 9 ? "0" : "")\(rest + 1)"
    }

    /// An original event (no correction) with id `id`.
    mutating func original(id: String) -> Event {
        let effective = effective()
        switch Int.random(in: 0..<10, using: &random) {
        case 0...3:
            let n = Int.random(in: 0..<100, using: &random)
            let stream = "project/p\(n)"
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return Event(id: id, type: "project.construction_started", stream: stream, effective: effective, data: "{}")
            case 1: return Event(id: id, type: "project.completed", stream: stream, effective: effective, data: #"{"note":"done"}"#)
            default: return Event(id: id, type: "project.signed", stream: stream, effective: effective, data: projectData(n))
            }
        case 4...5:
            let n = Int.random(in: 0..<50, using: &random)
            let type = Bool.random(using: &random) ? "road.delivered" : "road.construction_started"
            return Event(id: id, type: type, stream: "road/r\(n)", effective: effective, data: data(for: type, entity: n))
        case 6...7:
            let n = Int.random(in: 0..<30, using: &random)
            return Event(id: id, type: "housing.batch_handed_over", stream: "housing/h\(n)", effective: effective,
                         data: data(for: "housing.batch_handed_over", entity: n))
        default:
            let n = Int.random(in: 0..<30, using: &random)
            return Event(id: id, type: "facility.opened", stream: "facility/f\(n)", effective: effective, data: data(for: "facility.opened", entity: n))
        }
    }

    private mutating func projectData(_ n: Int) -> String {
        let sector = ZoneEventMaker.sectors.randomElement(using: &random)!
        let amount = Int.random(in: 1...5_000, using: &random) * 1_000_000
        let origin = Bool.random(using: &random) ? "CN" : "JP"
        return #"{"investor":{"zh":"投资方\#(n)","en":"Investor \#(n)"},"sector":"\#(sector)","totalInvestmentCny":\#(amount),"origin":"\#(origin)"}"#
    }

    /// Valid data for an original of `type` (the types `original` makes).
    private mutating func data(for type: String, entity n: Int) -> String {
        switch type {
        case "project.signed": return projectData(n)
        case "project.construction_started", "project.completed": return "{}"
        case "road.delivered", "road.construction_started":
            return #"{"name":{"zh":"路\#(n)"},"lengthM":\#(Int.random(in: 100...5_000, using: &random)).5}"#
        case "housing.batch_handed_over":
            return #"{"estate":{"zh":"安置房\#(n)"},"units":\#(Int.random(in: 1...400, using: &random))}"#
        default:
            return #"{"name":{"zh":"学校\#(n)"},"kind":"school","level":"primary"}"#
        }
    }

    /// `count` events with ids `prefix-0`, `prefix-1`, …; about one in forty corrects or
    /// retracts an earlier original of the batch (in the same transaction).
    mutating func batch(prefix: String, count: Int) -> [Event] {
        var events: [Event] = []
        events.reserveCapacity(count)
        for line in 0..<count {
            let id = "\(prefix)-\(line)"
            let originals = events.indices.filter { !events[$0].isFix }
            if !originals.isEmpty, Int.random(in: 0..<40, using: &random) == 0 {
                let target = events[originals.randomElement(using: &random)!]
                let entity = Int(target.stream.drop(while: { !$0.isNumber })) ?? 0
                if Bool.random(using: &random) {
                    events.append(Event(id: id, type: "event.corrected", stream: target.stream, effective: effective(),
                                        data: #"{"target":{"id":"\#(target.id)"},"data":\#(data(for: target.type, entity: entity)),"reason":"re-measured"}"#))
                } else {
                    events.append(Event(id: id, type: "event.retracted", stream: target.stream, effective: effective(),
                                        data: #"{"target":{"id":"\#(target.id)"},"reason":"recorded twice"}"#))
                }
            } else {
                events.append(original(id: id))
            }
        }
        return events
    }
}
