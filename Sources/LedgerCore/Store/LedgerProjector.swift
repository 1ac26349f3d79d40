import LMDB

/// A view of the ledger kept up to date inside each append's write transaction, so it is
/// never behind the log. `LedgerProjections` implements it; the ledger only calls it.
public protocol LedgerProjector: Sendable {
    /// Called once per append that wrote events, after they are written (seqs `written`), in
    /// the same transaction; the projector reads what it needs of them from it. Throwing
    /// aborts the append: the log and the view change together or not at all.
    func apply(written: ClosedRange<UInt64>, in transaction: Transaction, ledger: Ledger) throws
}
