import LMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Ledger {
    /// Writes a consistent copy of the ledger into `directory` (created, owner-only, if
    /// missing; it must not hold a ledger already) while appends go on: the copy is the log as
    /// one read transaction saw it, compacted. Returns the copy, opened read-only.
    public func backup(to directory: String) throws(LedgerError) -> Ledger {
        if access(directory + "/data.mdb", F_OK) == 0 {
            throw LedgerError(.invalidInput, "'\(directory)' already holds a ledger; back up into a new or empty directory")
        }
        // The copy gets the permissions of the original (LMDB would create it 0666 less the umask).
        var original = stat()
        let mode = stat(path + "/data.mdb", &original) == 0 ? original.st_mode & 0o777 : 0o600
        try Ledger.makeDirectories(directory, mode: mode & 0o040 != 0 ? 0o750 : 0o700)
        do {
            try environment.copy(to: directory)
        } catch {
            unlink(directory + "/data.mdb")  // nothing half-way
            throw LedgerError.storage(error, doing: "cannot back up the ledger to '\(directory)'")
        }
        chmod(directory + "/data.mdb", mode)
        return try Ledger.open(directory, options: Options(readOnly: true))
    }
}
