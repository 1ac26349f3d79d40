import LMDB

/// A view of the ledger kept up to date inside each append's write transaction, so it is
/// never behind the log. `LedgerProjections` implements it; the ledger only calls it.
public protocol LedgerProjector: Sendable {
    /// Called once per append, after the batch's events are written, in the same
    /// transaction. Throwing aborts the append: the log and the view change together or not
    /// at all.
    func apply(_ events: [Event], in transaction: Transaction, ledger: Ledger) throws
}
