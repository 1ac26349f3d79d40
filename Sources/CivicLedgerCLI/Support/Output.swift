#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import LedgerCore
import LedgerValues

/// Buffered writing to standard output (printing a million events line by line through
/// `print` would flush far too often), and one-line messages to standard error.
final class Output {
    nonisolated(unsafe) static let standardOutput = Output(fd: 1)

    private let fd: Int32
    private var buffer: [UInt8] = []

    private init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    /// One JSON value on a line (NDJSON), in canonical form.
    func jsonLine(_ value: JSONValue) {
        value.writeCanonical(into: &buffer)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                break  // a closed pipe: nothing more to say
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    static func line(_ text: String) { standardOutput.line(text) }

    static func error(_ text: String, newline: Bool = true) {
        standardOutput.flush()
        var message = Array(text.utf8)
        if newline { message.append(UInt8(ascii: "\n")) }
        _ = message.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
