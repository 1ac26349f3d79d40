import LedgerValues

/// The zone's figures per year as sums of what entities contribute: counters by year,
/// additive, so the totals move by an entity's new contribution minus its old one when one of
/// its events arrives, late or not, or is corrected.
public struct ZoneContribution: Sendable, Equatable {
    /// year → counter → amount.
    public var counters: [String: [String: Double]] = [:]

    public init() {}

    /// Adds what one entity's state contributes, times `sign` (−1 takes it away): cheaper
    /// than making a contribution for each entity when summing many.
    public mutating func add(_ state: JSONObject, sign: Double = 1) {
        func year(_ key: String) -> String? { state[key]?.stringValue.map { String($0.prefix(4)) } }
        func add(_ year: String, _ counter: String, _ amount: Double) { self.add(year, counter, amount * sign) }
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
        for (month, units) in state["unitsHandedOverByMonth"]?.objectValue?.members ?? [] {
            if let units = units.numberValue { add(String(month.prefix(4)), "housingUnitsHandedOver", units) }
        }
        if let opened = year("opened") {
            add(opened, "facilitiesOpened", 1)
            add(opened, "facilitiesOpened." + (state["kind"]?.stringValue ?? "other"), 1)
        }
    }

    mutating func add(_ year: String, _ counter: String, _ amount: Double) {
        counters[year, default: [:]][counter, default: 0] += amount
    }
}
