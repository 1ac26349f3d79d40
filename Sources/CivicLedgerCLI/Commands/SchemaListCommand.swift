import ArgumentParser
import LedgerSchemas
import LedgerValues

struct SchemaListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the event types, their schema versions and titles."
    )

    @Flag(help: "Print one JSON object per type.") var json = false

    func run() throws {
        let out = Output.standardOutput
        let types = EventCatalog.shared.types.values.sorted { $0.name < $1.name }
        for type in types {
            let versions = type.versions.keys.sorted()
            if json {
                out.jsonLine(.object(JSONObject([
                    ("type", .string(type.name)), ("versions", .array(versions.map { .number(Double($0)) })),
                    ("current", .number(Double(type.currentVersion))), ("title", .string(type.current.title ?? "")),
                ])))
            } else {
                let name = type.name + String(repeating: " ", count: max(1, 32 - type.name.count))
                let list = "v" + versions.map(String.init).joined(separator: ",v")
                out.line(name + list + String(repeating: " ", count: max(1, 8 - list.count)) + (type.current.title ?? ""))
            }
        }
        out.flush()
    }
}
