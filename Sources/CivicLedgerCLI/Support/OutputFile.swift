#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LedgerCore

/// Writes a small file whole, with the given permissions, never over an existing one.
enum OutputFile {
    static func create(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(LedgerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw LedgerError(errno == EEXIST ? .invalidInput : .storage, "cannot create '\(path)': \(reason)\(errno == EEXIST ? " (files are never overwritten)" : "")")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            unlink(path)
            throw LedgerError(.storage, "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
