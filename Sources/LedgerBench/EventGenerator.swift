/// Deterministic events shaped like the zone's: project signings with Chinese and English
/// names, amounts, sectors; roads and housing batches. The same seed gives the same bytes.
struct EventGenerator {
    private var state: UInt64

    init(seed: UInt64 = 2022) { state = seed }

    private mutating func next() -> UInt64 {
        // SplitMix64: small, fast and good enough for test data.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static let sectors = ["semiconductor", "new_materials", "industrial_robots", "digital_finance", "aerospace", "smart_mobility"]
    private static let investors = [("晟盈半导体", "Shengying Semiconductor"), ("美德乐", "Medela"), ("海富电子", "Haifu Electronics"),
                                    ("森瑶达野", "Senyao Daye"), ("矽视科技", "Xishi Technology"), ("八维通", "Baweitong")]

    /// `count` NDJSON lines over `streams` entities.
    mutating func ndjson(count: Int, streams: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * 330)
        for i in 0..<count {
            let entity = Int(next() % UInt64(streams))
            let month = 1 + Int(next() % 12), day = 1 + Int(next() % 28)
            let effective = "202\(1 + i % 2)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
            let line: String
            switch i % 10 {
            case 0...6:
                let (zh, en) = EventGenerator.investors[Int(next() % 6)]
                let sector = EventGenerator.sectors[Int(next() % 6)]
                let amount = (1 + next() % 5000) * 1_000_000
                line = """
                    {"id":"ev-\(i)","type":"project.signed","stream":"project/p\(entity)","effective":"\(effective)","actor":"clerk-7","source":"bench","data":{"investor":{"zh":"\(zh)","en":"\(en)"},"sector":"\(sector)","totalInvestmentCny":\(amount),"origin":"JP","headquarters":\(i % 7 == 0),"park":"digital_finance_industrial_park"}}
                    """
            case 7, 8:
                line = """
                    {"id":"ev-\(i)","type":"housing.batch_handed_over","stream":"housing/estate-\(entity % 50)","effective":"\(effective)","actor":"clerk-3","source":"bench","data":{"estate":{"zh":"澄阳安置房"},"units":\(1 + next() % 400),"floorAreaM2":\(1000 + next() % 50000)}}
                    """
            default:
                line = """
                    {"id":"ev-\(i)","type":"road.delivered","stream":"road/r\(entity % 500)","effective":"\(effective)","actor":"clerk-1","source":"bench","data":{"name":{"zh":"徐家观路","en":"Xujiaguan Road"},"lengthM":\(100 + next() % 5000)}}
                    """
            }
            out.append(contentsOf: line.utf8)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }
}
