import ArgumentParser
import LedgerCore
import LedgerProjections
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--ledger DIR` and `--read-only`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger directory (default: $CIVIC_LEDGER_PATH, else ./ledger).", valueName: "dir"))
    var ledger: String?
    @Flag(help: "Open the ledger without write access (works on a read-only copy); commands that write refuse (exit 77).")
    var readOnly = false

    /// The directory: the option, else the environment variable, else `./ledger`.
    var path: String {
        if let ledger { return ledger }
        if let fromEnvironment = getenv("CIVIC_LEDGER_PATH"), fromEnvironment.pointee != 0 {
            return String(cString: fromEnvironment)
        }
        return "./ledger"
    }

    /// A command that writes calls this first, before it reads any input.
    func refuseIfReadOnly() throws(LedgerError) {
        if readOnly { throw LedgerError(.readOnly, "--read-only was given, but this command writes to the ledger") }
    }

    /// Opens the ledger with its projections maintained on every append. A command that
    /// writes (`readOnly` false) is refused under `--read-only` before it reads any input.
    func open(create: Bool = false, readOnly: Bool = false, groupReadable: Bool = false) throws(LedgerError) -> Ledger {
        if !readOnly { try refuseIfReadOnly() }
        return try Ledger.open(path, options: Ledger.Options(create: create, readOnly: readOnly, groupReadable: groupReadable,
                                                             projectors: [ZoneProjector()]))
    }
}
