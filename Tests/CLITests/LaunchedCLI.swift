import Dispatch
import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A `civic-ledger` process started without waiting for it, so that a test can kill it or run
/// many side by side. Standard input comes from a file (or /dev/null), standard output and
/// error go to files: no pipe can fill up, and no pipe end leaks into a process started
/// meanwhile by another thread.
final class LaunchedCLI: @unchecked Sendable {
    struct Outcome: Sendable {
        var reason: Process.TerminationReason
        /// The exit status, or the signal's number when `reason` is `.uncaughtSignal`.
        var status: Int32
        var stdout: String
        var stderr: String
        /// From just before the launch to the process's end.
        var seconds: Double

        var succeeded: Bool { reason == .exit && status == 0 }
        var diedOfSIGKILL: Bool { reason == .uncaughtSignal && status == SIGKILL }

        /// `exit 69`, `signal 9`: for messages.
        var summary: String {
            (reason == .exit ? "exit \(status)" : "signal \(status)") + (stderr.isEmpty ? "" : ": " + stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    let arguments: [String]
    private let process = Process()
    private let exited = DispatchSemaphore(value: 0)
    private let outPath: String
    private let errPath: String
    private let started: UInt64
    private let ended = UnsafeEndTime()

    /// Starts `civic-ledger arguments` with standard input from `stdinPath`; its output files go
    /// into `scratch`, a directory the test owns.
    init(_ arguments: [String], stdinPath: String? = nil, scratch: String) throws {
        self.arguments = arguments
        let name = scratch + "/" + UUID().uuidString
        outPath = name + ".out"
        errPath = name + ".err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let input = try stdinPath.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
        defer {
            try? out.close()
            try? err.close()
            if stdinPath != nil { try? input.close() }
        }
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CIVIC_LEDGER_PATH"] = nil
        process.environment = environment
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        let exited = self.exited, ended = self.ended
        process.terminationHandler = { _ in
            ended.set(DispatchTime.now().uptimeNanoseconds)
            exited.signal()
        }
        started = DispatchTime.now().uptimeNanoseconds
        try process.run()
    }

    /// Sends SIGKILL unless the process has already ended; true if the signal was sent.
    /// (Foundation reaps its children itself, so a process that ended an instant ago may have
    /// its pid reaped already; pids are not reused that fast.)
    @discardableResult
    func kill() -> Bool {
        guard process.isRunning else { return false }
        #if canImport(Glibc)
        return Glibc.kill(process.processIdentifier, SIGKILL) == 0
        #else
        return Musl.kill(process.processIdentifier, SIGKILL) == 0
        #endif
    }

    /// Waits for the end; nil if it has not ended within `timeout` seconds (the process is then
    /// killed, so nothing outlives the test).
    func wait(timeout: Double) -> Outcome? {
        guard exited.wait(timeout: .now() + timeout) == .success else {
            kill()
            _ = exited.wait(timeout: .now() + 10)
            return nil
        }
        process.waitUntilExit()
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
        return Outcome(reason: process.terminationReason, status: process.terminationStatus, stdout: stdout, stderr: stderr,
                       seconds: Double(ended.get() &- started) / 1e9)
    }

    /// Runs `civic-ledger arguments` to its end (at most `timeout` seconds).
    static func run(_ arguments: [String], stdinPath: String? = nil, scratch: String, timeout: Double = 120) throws -> Outcome? {
        try LaunchedCLI(arguments, stdinPath: stdinPath, scratch: scratch).wait(timeout: timeout)
    }
}

/// The end time, written by the termination handler's thread and read after the semaphore.
private final class UnsafeEndTime: @unchecked Sendable {
    private let lock = NSLock()
    private var value: UInt64 = 0
    func set(_ time: UInt64) { lock.withLock { value = time } }
    func get() -> UInt64 { lock.withLock { value } }
}

/// Runs blocking work (launching and waiting for processes, sleeping) on a thread of its own,
/// so that it neither holds one of the few threads Swift's concurrency runs tests on nor
/// waits for one.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

/// Sleeps the calling thread.
func sleep(seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
