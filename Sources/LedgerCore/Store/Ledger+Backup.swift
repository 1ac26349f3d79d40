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
        // The copy gets the permissions of the original, from its creation on.
        var original = stat()
        let mode = stat(path + "/data.mdb", &original) == 0 ? original.st_mode & 0o777 : 0o600
        try Ledger.makeDirectories(directory, mode: mode & 0o040 != 0 ? 0o750 : 0o700)
        let file = directory + "/data.mdb"
        let fd = Glibc.open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { throw LedgerError(.invalidInput, "'\(directory)' already holds a ledger; back up into a new or empty directory") }
            throw LedgerError(.storage, "cannot create '\(file)': \(String(cString: strerror(errno)))")
        }
        do throws(LMDBError) {
            defer { close(fd) }
            try environment.copy(to: fd, context: file)
            // Durable before it is called a backup: the file, then its name in the directory.
            guard fsync(fd) == 0 else { throw LMDBError(code: errno, operation: "fsync", context: file) }
            let directoryFD = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            defer { if directoryFD >= 0 { close(directoryFD) } }
            guard directoryFD >= 0, fsync(directoryFD) == 0 else { throw LMDBError(code: errno, operation: "fsync", context: directory) }
        } catch {
            unlink(file)  // ours (O_EXCL): nothing half-way
            throw LedgerError.storage(error, doing: "cannot back up the ledger to '\(directory)'")
        }
        return try Ledger.open(directory, options: Options(readOnly: true))
    }
}
