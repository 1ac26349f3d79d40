import ArgumentParser
import LedgerCore
import LedgerValues

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty ledger (nothing happens if one is there already).",
        discussion: "Example:\n  civic-ledger init --ledger /srv/civic/ledger"
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let existed = (try? Ledger.open(ledgerOptions.path, options: .init(readOnly: true))) != nil
            let ledger = try ledgerOptions.open(create: true)
            if json {
                Output.standardOutput.jsonLine(.object(JSONObject([("ledger", .string(ledger.path)), ("created", .bool(!existed))])))
            } else {
                Output.line(existed ? "ledger already exists at \(ledger.path)" : "created an empty ledger at \(ledger.path)")
            }
            Output.standardOutput.flush()
        }
    }
}
