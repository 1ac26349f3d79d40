import ArgumentParser
import LedgerAudit
import LedgerCore
import LedgerValues

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain and every index from the stored events.",
        discussion: """
            Exit 0 when the ledger is intact; exit 1 naming the first bad seq and
            what is wrong (an altered, missing or moved event, a broken chain, an
            index entry pointing to the wrong event, or a ledger that no longer
            extends --expect-head or a signed --checkpoint).

            Example:
              civic-ledger verify --expect-head 149:3f9a…(64 hex digits)
              civic-ledger verify --checkpoint checkpoint.json --public-key zone.pub
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("Also require the event at SEQ to have hash HASH.", valueName: "seq:hash"))
    var expectHead: String?
    @Option(help: ArgumentHelp("Also require the head signed in this checkpoint ('civic-ledger checkpoint').", valueName: "file"))
    var checkpoint: String?
    @Option(help: ArgumentHelp("The zone's public key file, which must have signed the checkpoint.", valueName: "file"))
    var publicKey: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if (checkpoint == nil) != (publicKey == nil) { throw ValidationError("--checkpoint and --public-key go together") }
        if checkpoint != nil && expectHead != nil { throw ValidationError("give --expect-head or --checkpoint, not both") }
        if let expectHead, ExpectedHead(expectHead) == nil {
            throw ValidationError("--expect-head takes SEQ:HASH, a seq of 1 or more and 64 hexadecimal digits")
        }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            var expected = expectHead.flatMap(ExpectedHead.init)
            if let checkpoint, let publicKey {
                let document = try Checkpoint(json: try InputFile.read(checkpoint))
                guard document.isSigned(by: try SigningKey.publicKey(json: try InputFile.read(publicKey))) else {
                    throw LedgerError(.verificationFailed, "the checkpoint's signature does not verify with \(publicKey): it was not signed by that key, or was altered")
                }
                expected = document.expectedHead
            }
            let report = try ledger.verify(expecting: expected)
            if json {
                var members: [(String, JSONValue)] = [
                    ("intact", .bool(report.isIntact)), ("events", .number(Double(report.events))),
                    ("headSeq", .number(Double(report.headSeq))), ("headHash", .string(report.headHash.hex)),
                ]
                if let problem = report.problem {
                    members.append(("problem", .string(problem.message)))
                    if let seq = problem.seq { members.append(("firstBadSeq", .number(Double(seq)))) }
                }
                Output.standardOutput.jsonLine(.object(JSONObject(members)))
            } else if let problem = report.problem {
                Output.line("verification FAILED at \(problem)")
            } else {
                Output.line("intact: \(report.events) events, chain and indexes verified · head \(report.headSeq) \(report.headHash.hex)")
            }
            Output.standardOutput.flush()
            if !report.isIntact { throw ExitCode(ExitStatus.verificationFailed) }
        }
    }
}
