import ArgumentParser
import LedgerCore
import LedgerProjections
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

struct RebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Replay the log into fresh projection tables and switch to them atomically.",
        discussion: """
            Readers keep answering from the old tables until the switch, and appends made
            during the rebuild are in the result. All projections (the default) are rebuilt
            together in one pass over the log. Shows progress on a terminal (or with
            --progress); silent in scripts.

            Examples:
              civic-ledger rebuild --all
              civic-ledger rebuild --projection state --progress
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("One projection: \(ProjectionName.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var projection: String?
    @Flag(help: "Every projection (the default).") var all = false
    @Flag(help: "Show progress even when standard error is not a terminal.") var progress = false
    @Flag(help: "Print a JSON report per projection.") var json = false

    func validate() throws {
        if projection != nil && all { throw ValidationError("give --projection NAME or --all, not both") }
        if let projection, ProjectionName(rawValue: projection) == nil {
            throw ValidationError("unknown projection '\(projection)' (there are: \(ProjectionName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open()
            var rebuilder = ProjectionRebuilder(ledger)
            if progress || isatty(2) != 0 {
                let bar = ProgressBar()
                rebuilder.onProgress = { bar.show($0.projection.rawValue, done: $0.done, total: $0.total) }
            }
            let names = projection.flatMap(ProjectionName.init(rawValue:)).map { [$0] } ?? ProjectionName.allCases
            let reports = try rebuilder.rebuild(names)
            let out = Output.standardOutput
            if json {
                for report in reports {
                    out.jsonLine(.object(.init([("projection", .string(report.projection.rawValue)), ("events", .number(Double(report.events))),
                                                ("seconds", .number(report.seconds)), ("generation", .number(Double(report.generation)))])))
                }
            } else if let first = reports.first {
                // Projections rebuilt in one pass share their time: one line says so.
                let names = reports.map(\.projection.rawValue).joined(separator: " and ")
                let rate = first.seconds > 0 ? Int(Double(first.events) / first.seconds) : 0
                out.line("rebuilt \(names): \(first.events) events in \(Figures.decimal(first.seconds, places: 2)) s (\(Figures.grouped(Int64(rate))) events/s)")
            }
            out.flush()
        }
    }
}
