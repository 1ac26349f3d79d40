import ArgumentParser

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Signing keys for checkpoints.",
        subcommands: [KeysGenerateCommand.self]
    )
}
