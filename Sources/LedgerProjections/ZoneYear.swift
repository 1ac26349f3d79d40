import LedgerValues

/// What an entity adds to the zone's figures for each year: counters by year, additive, so
/// the zone's totals change by the difference between an entity's old and new contribution
/// when one of its events arrives, late or not, or is corrected.
public struct ZoneContribution: Sendable, Equatable {
    /// year → counter → amount.
    public var counters: [String: [String: Double]] = [:]

    public init() {}

    public init(_ state: JSONObject) {
        func year(_ key: String) -> String? { state[key]?.stringValue.map { String($0.prefix(4)) } }
        if let signed = year("signed") {
            add(signed, "projectsSigned", 1)
            let amount = state["totalInvestmentCny"]?.numberValue
            if let amount {
                add(signed, "investmentCny", amount)
                if amount >= 100_000_000 { add(signed, "projectsAtLeast100mCny", 1) }
                if amount >= 1_000_000_000 { add(signed, "projectsAtLeast1bnCny", 1) }
            }
            add(signed, "bySector." + (state["sector"]?.stringValue ?? "unknown"), 1)
            add(signed, "byOrigin." + (state["origin"]?.stringValue ?? "unknown"), 1)
            if state["headquarters"] == .bool(true) { add(signed, "headquartersProjects", 1) }
        }
        if state["status"]?.stringValue == "cancelled", let cancelled = year("cancelled") { add(cancelled, "projectsCancelled", 1) }
        if let delivered = year("delivered") {
            add(delivered, "roadsDelivered", 1)
            if let length = state["lengthM"]?.numberValue { add(delivered, "roadLengthDeliveredM", length) }
        }
        for batch in state["handovers"]?.arrayValue ?? [] {
            if let date = batch["date"]?.stringValue, let units = batch["units"]?.numberValue {
                add(String(date.prefix(4)), "housingUnitsHandedOver", units)
            }
        }
        if let opened = year("opened") {
            add(opened, "facilitiesOpened", 1)
            add(opened, "facilitiesOpened." + (state["kind"]?.stringValue ?? "other"), 1)
        }
    }

    mutating func add(_ year: String, _ counter: String, _ amount: Double) {
        counters[year, default: [:]][counter, default: 0] += amount
    }

    /// Adds `other` times `sign` (−1 takes a contribution away).
    public mutating func add(_ other: ZoneContribution, sign: Double) {
        for (year, values) in other.counters {
            for (counter, amount) in values { add(year, counter, amount * sign) }
        }
    }
}
