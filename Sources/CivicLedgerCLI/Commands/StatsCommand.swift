import ArgumentParser
import LedgerCore
import LedgerValues

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show the ledger's size and head: events, streams, head seq and hash, file and map size."
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Print the statistics as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let stats = try ledger.statistics()
            if json {
                var members: [(String, JSONValue)] = [
                    ("ledger", .string(ledger.path)), ("events", .number(Double(stats.events))),
                    ("streams", .number(Double(stats.streams))), ("headSeq", .number(Double(stats.headSeq))),
                    ("headHash", .string(stats.headHash.hex)), ("fileBytes", .number(Double(stats.fileSize))),
                    ("mapBytes", .number(Double(stats.mapSize))), ("usedBytes", .number(Double(stats.usedSize))),
                ]
                if let recorded = stats.headRecorded { members.append(("headRecorded", .string(recorded))) }
                Output.standardOutput.jsonLine(.object(JSONObject(members)))
            } else {
                let rows: [(String, String)] = [
                    ("ledger", ledger.path),
                    ("events", String(stats.events)),
                    ("streams", String(stats.streams)),
                    ("head", stats.headSeq == 0 ? "(empty)" : "seq \(stats.headSeq) \(stats.headHash.hex)"),
                    ("last recorded", stats.headRecorded ?? "-"),
                    ("file size", ByteCount.format(stats.fileSize)),
                    ("map size", "\(ByteCount.format(stats.mapSize)) (\(ByteCount.format(stats.usedSize)) used)"),
                ]
                for (name, value) in rows {
                    Output.line(name + String(repeating: " ", count: 14 - name.count) + value)
                }
            }
            Output.standardOutput.flush()
        }
    }
}

enum ByteCount {
    /// `1.5 MiB`: binary units, one decimal.
    static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
