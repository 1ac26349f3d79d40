import LedgerSchemas
import LedgerValues

extension Entity {
    /// One event's effect on its entity's state. The data is first brought to its type's
    /// current schema version (the upcaster chain), so old events fold like new ones.
    /// The state is changed in place: a copy per event would copy every member.
    static func apply(_ event: EntityEvent, to state: inout JSONObject, stream: String) {
        apply(type: event.type, effective: event.effective, schemaVersion: event.schemaVersion, data: event.data, to: &state, stream: stream)
    }

    static func apply(type: String, effective: String, schemaVersion: Int, data: JSONObject, to state: inout JSONObject, stream: String) {
        let data = EventCatalog.shared.upcast(type: type, version: schemaVersion, data: data).data
        // The zone's calendar date (a date-time with another offset may fall on another day).
        // A plain date (most events) is its own day, without parsing it.
        let date = JSONValue.string(effective.utf8.count == 10 ? effective
            : EffectiveTime(effective)?.date.description ?? String(effective.prefix(10)))
        func copy(_ keys: String...) { state.copy(keys, from: data) }
        state["stream"] = .string(stream)
        switch type {
        case "project.signed":
            copy("investor", "sector", "totalInvestmentCny", "origin", "headquarters", "park",
                 "registeredForeignCapitalUsd", "receivedForeignCapitalUsd", "unicorn")
            state["status"] = .string("signed")
            state["signed"] = date
        case "project.construction_started":
            state["status"] = .string("under_construction")
            state["constructionStarted"] = date
        case "project.completed":
            state["status"] = .string("completed")
            state["completed"] = date
        case "project.cancelled":
            state["status"] = .string("cancelled")
            state["cancelled"] = date
            copy("reason")
        case "road.construction_started":
            copy("name", "lengthM")
            state["status"] = .string("under_construction")
            state["constructionStarted"] = date
        case "road.delivered":
            copy("name", "lengthM")
            state["status"] = .string("delivered")
            state["delivered"] = date
        case "housing.construction_progress":
            copy("estate")
            state["floorAreaUnderConstructionM2"] = data["floorAreaUnderConstructionM2"]
            state["progressReported"] = date
        case "housing.batch_handed_over":
            copy("estate")
            let units = data["units"]?.numberValue ?? 0
            state["unitsHandedOver"] = .number((state["unitsHandedOver"]?.numberValue ?? 0) + units)
            // Units by month of handover ("2021-06"): what the zone's figures and charts need,
            // and a state that stays small however many batches an estate hands over.
            let month = String(date.stringValue?.prefix(7) ?? "")
            state.updateObject("unitsHandedOverByMonth") { byMonth in
                byMonth[month] = .number((byMonth[month]?.numberValue ?? 0) + units)
            }
            state["lastHandedOver"] = date
            if let area = data["floorAreaM2"]?.numberValue {
                state["floorAreaHandedOverM2"] = .number((state["floorAreaHandedOverM2"]?.numberValue ?? 0) + area)
            }
        case "facility.construction_started":
            copy("name", "kind", "level", "partner")
            state["status"] = .string("under_construction")
            state["constructionStarted"] = date
        case "facility.opened":
            copy("name", "kind", "level", "partner")
            state["status"] = .string("open")
            state["opened"] = date
        case "indicator.reported", "target.set":
            copy("metric")
            let field = type == "target.set" ? "targets" : "values"
            var entry = data
            entry["metric"] = nil
            entry["period"] = nil
            entry["reported"] = date
            state.updateObject(field) { byPeriod in
                if let period = data["period"]?.stringValue { byPeriod[period] = .object(entry) }
            }
        case "award.granted":
            copy("title", "level", "grantor")
            state["granted"] = date
        case "ranking.reported":
            copy("list")
            state.updateObject("ranks") { ranks in
                ranks[data["period"]?.stringValue ?? String(effective.prefix(4))] = data["rank"]
            }
        default:
            break
        }
    }
}
