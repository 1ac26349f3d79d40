import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues

struct KeysGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Make an Ed25519 key pair for signing checkpoints.",
        discussion: """
            The private key file is readable by its owner only; publish the public one.
            Existing files are never overwritten.

            Example:
              civic-ledger keys generate --private-key zone.key --public-key zone.pub
            """
    )

    @Option(help: ArgumentHelp("Where to write the private key.", valueName: "file")) var privateKey: String
    @Option(help: ArgumentHelp("Where to write the public key.", valueName: "file")) var publicKey: String

    func run() throws {
        try reportingErrors {
            let key = SigningKey()
            try OutputFile.create(privateKey, key.privateKeyJSON.canonicalBytes + [0x0A], mode: 0o600)
            try OutputFile.create(publicKey, key.publicKeyJSON.canonicalBytes + [0x0A], mode: 0o644)
            Output.line("wrote \(privateKey) (private, mode 600) and \(publicKey) (public)")
            Output.standardOutput.flush()
        }
    }
}
