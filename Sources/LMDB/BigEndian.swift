/// Integer keys are stored big-endian so that LMDB's byte order is numeric order
/// (which `MDB_APPEND` relies on).
extension UInt64 {
    /// Calls `body` with the eight big-endian bytes of this value.
    @inline(__always)
    public func withBigEndianBytes<T, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> T) throws(E) -> T {
        let bigEndian = self.bigEndian
        return try withUnsafeBytes(of: bigEndian) { bytes throws(E) in try body(bytes) }
    }

    /// Reads a big-endian value from the first eight bytes, or nil when there are fewer.
    @inline(__always)
    public init?(bigEndianBytes bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        self = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}
