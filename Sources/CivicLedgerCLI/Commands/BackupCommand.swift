import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues
#if canImport(Glibc)
import Glibc
#endif

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the ledger, consistently and compacted, while appends go on; verify the copy.",
        discussion: """
            The copy is the ledger as one read transaction saw it (LMDB's compacting copy), so
            appends need not stop. It is verified before the command reports success, and with
            --key a signed checkpoint of its head is written beside it (checkpoint.json), which
            both the copy and the live ledger must satisfy ('verify --checkpoint'). Restore by
            pointing --ledger at the copy, or copying its data.mdb into an empty directory.

            Examples:
              civic-ledger backup /backups/civic/2022-01-31
              civic-ledger backup /backups/civic/2022-01-31 --key zone.key --json
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Argument(help: ArgumentHelp("A new or empty directory for the copy.", valueName: "dir")) var directory: String
    @Option(help: ArgumentHelp("Also sign the copy's head with this private key ('keys generate') into DIR/checkpoint.json.", valueName: "file"))
    var key: String?
    @Flag(help: "Print the result as one JSON object.") var json = false

    func run() throws {
        try reportingErrors {
            let signingKey = try key.map { path throws(LedgerError) in try SigningKey(json: try InputFile.read(path)) }
            let copy = try ledgerOptions.open(readOnly: true).backup(to: directory)
            let report = try copy.verify()
            guard report.isIntact else {
                // No backup that does not verify is left to be restored by mistake.
                for file in ["data.mdb", "lock.mdb"] { unlink(directory + "/" + file) }
                throw LedgerError(.verificationFailed, "the copy in '\(directory)' does not verify: \(report.problem!); the ledger itself may be damaged, run 'civic-ledger verify'")
            }
            var checkpointFile: String?
            if let signingKey {
                let checkpoint = try Checkpoint.sign(copy, with: signingKey)
                checkpointFile = directory + "/checkpoint.json"
                try OutputFile.create(checkpointFile!, checkpoint.json.canonicalBytes + [0x0A], mode: 0o644)
            }
            if json {
                Output.standardOutput.jsonLine(.object(JSONObject([
                    ("backup", .string(directory)), ("headSeq", .number(Double(report.headSeq))), ("headHash", .string(report.headHash.hex)),
                    ("verified", .bool(true)), ("checkpoint", checkpointFile.map(JSONValue.string) ?? .null),
                ])))
            } else {
                Output.line("backed up seq \(report.headSeq) (\(report.headHash.hex)) to \(directory): \(report.events) events verified"
                            + (checkpointFile.map { "; checkpoint in \($0)" } ?? ""))
            }
            Output.standardOutput.flush()
        }
    }
}
