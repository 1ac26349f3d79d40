import ArgumentParser

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "The event catalog: list the types, show a schema, validate JSON against one.",
        subcommands: [SchemaListCommand.self, SchemaShowCommand.self, SchemaValidateCommand.self]
    )
}
