import ArgumentParser

struct ProjectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projects",
        abstract: "The zone's investment projects as they stand now.",
        subcommands: [ProjectsListCommand.self, ProjectsShowCommand.self],
        defaultSubcommand: ProjectsListCommand.self
    )
}
