import ArgumentParser
import LedgerCore
import LedgerValues

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an empty ledger (nothing happens if one is there already).",
        discussion: """
            The ledger's files are readable and writable by their owner only (directory 0700,
            files 0600); --group-readable lets the owner's group read them (0750, 0640).

            Example:
              civic-ledger init --ledger /srv/civic/ledger
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Flag(help: "Let the owner's group read the new ledger's files.") var groupReadable = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        try reportingErrors {
            let existed = (try? Ledger.open(ledgerOptions.path, options: .init(readOnly: true))) != nil
            let ledger = try ledgerOptions.open(create: true, groupReadable: groupReadable)
            if json {
                Output.standardOutput.jsonLine(.object(JSONObject([("ledger", .string(ledger.path)), ("created", .bool(!existed))])))
            } else {
                Output.line(existed ? "ledger already exists at \(ledger.path)" : "created an empty ledger at \(ledger.path)")
            }
            Output.standardOutput.flush()
        }
    }
}
