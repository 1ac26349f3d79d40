import LMDB

/// A view of the ledger kept up to date inside each append's write transaction, so it is
/// never behind the log. `LedgerProjections` implements it; the ledger only calls it.
public protocol LedgerProjector: Sendable {
    /// Called once per append that wrote events, after they are written, in the same
    /// transaction. Throwing aborts the append: the log and the view change together or not
    /// at all.
    func apply(_ batch: WrittenBatch, in transaction: Transaction, ledger: Ledger) throws
}

/// What one append wrote, for the projections it maintains: the seqs, and the prepared events
/// behind them, so a projection takes the client's fields as they were prepared instead of
/// parsing the records again. (A projector outside this package reads the records of `seqs`
/// from the transaction.)
public struct WrittenBatch: Sendable {
    /// The seqs written, in order.
    public let seqs: ClosedRange<UInt64>
    /// The event written under each seq, in seq order.
    package let events: [PreparedEvent]
    /// The streams written to, in the order of their first event.
    package let streams: [String]
    /// Per event, the index of its stream in `streams`.
    package let streamIndex: [Int]
}
