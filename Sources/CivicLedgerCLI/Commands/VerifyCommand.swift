import ArgumentParser
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
            extends --expect-head).

            Example:
              civic-ledger verify --expect-head 149:3f9a…(64 hex digits)
            """
    )

    @OptionGroup var ledgerOptions: LedgerOptions
    @Option(help: ArgumentHelp("Also require the event at SEQ to have hash HASH.", valueName: "seq:hash"))
    var expectHead: String?
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        if let expectHead, ExpectedHead(expectHead) == nil {
            throw ValidationError("--expect-head takes SEQ:HASH, a seq of 1 or more and 64 hexadecimal digits")
        }
    }

    func run() throws {
        try reportingErrors {
            let ledger = try ledgerOptions.open(readOnly: true)
            let report = try ledger.verify(expecting: expectHead.flatMap(ExpectedHead.init))
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
