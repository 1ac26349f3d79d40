import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension CLI {
    /// How a run ended, telling a normal exit from a signal and a hang.
    struct Outcome: CustomStringConvertible {
        enum End: Equatable {
            case exit(Int32)
            case signal(Int32)
            /// Still running at the deadline: killed.
            case timedOut
        }

        var end: End
        var stdout: String
        var stderr: String

        var description: String {
            let how: String
            switch end {
            case .exit(let code): how = "exit \(code)"
            case .signal(let signal): how = "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
            case .timedOut: how = "hung (killed at the deadline)"
            }
            let err = stderr.count > 600 ? String(stderr.prefix(600)) + "…" : stderr
            return "\(how); stderr: \(err.debugDescription)"
        }
    }

    /// Runs the binary with no input, killing it if it runs past `timeout` seconds. Output
    /// goes to files, so a command that prints a lot cannot block on a full pipe.
    static func run(_ arguments: [String], timeout: Double) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["CIVIC_LEDGER_PATH"] = nil
        // A crashing child should not spend the deadline printing a backtrace.
        env["SWIFT_BACKTRACE"] = "enable=no"
        process.environment = env
        let base = NSTemporaryDirectory() + "cli-" + UUID().uuidString
        let outPath = base + ".out", errPath = base + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
        }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        try out.close()
        try err.close()
        var timedOut = false
        if done.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            done.wait()
        }
        let stdout = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
        let end: Outcome.End
        if timedOut {
            end = .timedOut
        } else if process.terminationReason == .uncaughtSignal {
            end = .signal(process.terminationStatus)
        } else {
            end = .exit(process.terminationStatus)
        }
        return Outcome(end: end, stdout: stdout, stderr: stderr)
    }
}
