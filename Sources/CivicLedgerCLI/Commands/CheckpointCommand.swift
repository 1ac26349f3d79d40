import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Sign the ledger's head (seq and hash) as a small JSON document to publish.",
        discussion: """
            Later, 'civic-ledger verify --checkpoint FILE --public-key FILE' proves the ledger
            still extends exactly that head: a ledger forked, truncated or rewritten before
            it fails with exit 1.

            Example:
              civic-ledger checkpoint --key zone.key --out checkpoint-2022-01.json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("The private key file ('keys generate').", valueName: "file")) var key: String
    @Option(help: ArgumentHelp("Write the checkpoint to this file (default: standard output).", valueName: "file")) var out: String?

    func run() throws {
        try reportingErrors {
            let signingKey = try SigningKey(json: try InputFile.read(key))
            let checkpoint = try Checkpoint.sign(try ledgerOptions.open(readOnly: true), with: signingKey)
            let bytes = checkpoint.json.canonicalBytes + [0x0A]
            if let out {
                try OutputFile.create(out, bytes, mode: 0o644)
                Output.line("signed seq \(checkpoint.seq) \(checkpoint.hash.hex) into \(out)")
            } else {
                Output.standardOutput.write(bytes: bytes)
            }
            Output.standardOutput.flush()
        }
    }
}
