import ArgumentParser

@main
struct CivicLedger: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "civic-ledger",
        abstract: "An immutable, hash-chained ledger of a development zone's municipal events.",
        discussion: """
            The ledger is the directory given by --ledger, else $CIVIC_LEDGER_PATH, else ./ledger.

            \(ExitStatus.table)
            """,
        version: "0.1.0",
        subcommands: [
            InitCommand.self,
            AppendCommand.self,
            LogCommand.self,
            ShowCommand.self,
            StatsCommand.self,
            VerifyCommand.self,
            SchemaCommand.self,
            ProjectsCommand.self,
            SummaryCommand.self,
            HistoryCommand.self,
            IndicatorsCommand.self,
            ProjectionsCommand.self,
            RebuildCommand.self,
            AuditCommand.self,
            KeysCommand.self,
            CheckpointCommand.self,
            BackupCommand.self,
            ExportCommand.self,
            ImportCommand.self,
        ]
    )

    static func main() {
        // A damaged ledger file can make LMDB fault: one line and exit 74, not a crash.
        CrashGuard.install()
        main(nil)
    }
}
