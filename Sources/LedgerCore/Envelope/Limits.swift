import LedgerValues
/// The ledger's input limits, documented in docs/FORMAT.md. Anything past them is refused as
/// invalid input (exit 65) before a transaction starts.
public enum Limits {
    /// One line of batch input, and one event's canonical bytes.
    public static let maxEventBytes = 1 << 20
    /// Nesting of arrays and objects inside one event.
    public static let maxDepth = 64
    /// A whole batch.
    public static let maxBatchBytes = 4 << 30
    public static let maxIdBytes = 128
    public static let maxTypeBytes = 64
    public static let maxStreamBytes = 200
    public static let maxTextBytes = 1000
}
