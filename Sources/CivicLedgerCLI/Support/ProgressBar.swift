import LedgerValues

/// A one-line progress bar on standard error per task (a projection, a snapshot): percent,
/// events/s, time left.
final class ProgressBar {
    /// Whether a bar is drawn without its line ended, so an error must start a new line.
    nonisolated(unsafe) private static var lineOpen = false

    /// Ends a bar's line left open by a task that failed midway.
    static func endLine() {
        if lineOpen { Output.error("") }
        lineOpen = false
    }

    private var task: String?
    private var started = 0.0
    private var lastDrawn = 0.0

    func show(_ task: String, done: Int, total: Int) {
        let now = RecordedTime.monotonicSeconds()
        if task != self.task {
            self.task = task
            started = now
            lastDrawn = 0
        }
        let finished = done >= total
        guard lastDrawn >= 0, finished || now - lastDrawn >= 0.1 else { return }
        lastDrawn = finished ? -1 : now  // -1: drawn complete, stay quiet
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int(fraction * 30)
        let rate = Double(done) / max(now - started, 0.001)
        let left = rate > 0 ? Double(total - done) / rate : 0
        let line = "\r\(task) [" + String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled)
            + "] \(Int(fraction * 100))%  \(Figures.grouped(Int64(rate))) events/s  ETA \(Int(left.rounded())) s" + (finished ? "\n" : "")
        Output.error(line, newline: false)
        ProgressBar.lineOpen = !finished
    }
}
