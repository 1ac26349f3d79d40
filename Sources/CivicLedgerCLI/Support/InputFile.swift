#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LedgerCore

/// Reads a whole input file, or standard input for `-`.
enum InputFile {
    static func read(_ path: String) throws(LedgerError) -> [UInt8] {
        let fd = path == "-" ? 0 : Glibc.open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw LedgerError(errno == ENOENT ? .notFound : .storage, "cannot read '\(path)': \(reason)")
        }
        defer { if fd != 0 { close(fd) } }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw LedgerError(.storage, "cannot read '\(path)': \(String(cString: strerror(errno)))")
            }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= Limits.maxBatchBytes else {
                throw LedgerError(.invalidInput, "'\(path)' is over the limit of \(Limits.maxBatchBytes) bytes; split it")
            }
        }
    }
}
