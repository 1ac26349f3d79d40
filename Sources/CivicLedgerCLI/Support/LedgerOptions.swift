import ArgumentParser
import LedgerCore
import LedgerProjections
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `--ledger DIR`, shared by every command.
struct LedgerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The ledger directory (default: $CIVIC_LEDGER_PATH, else ./ledger).", valueName: "dir"))
    var ledger: String?

    /// The directory: the option, else the environment variable, else `./ledger`.
    var path: String {
        if let ledger { return ledger }
        if let fromEnvironment = getenv("CIVIC_LEDGER_PATH"), fromEnvironment.pointee != 0 {
            return String(cString: fromEnvironment)
        }
        return "./ledger"
    }

    /// Opens the ledger with its projections maintained on every append.
    func open(create: Bool = false, readOnly: Bool = false) throws(LedgerError) -> Ledger {
        try Ledger.open(path, options: Ledger.Options(create: create, readOnly: readOnly, projectors: [ZoneProjector()]))
    }
}
