/// Comparing short byte strings (names, keys, type names) with a loop: for a few bytes it is
/// cheaper than a call to `memcmp`, which the tape's path made several times an event.
public enum ShortBytes {
    /// Byte order: negative, zero (the same bytes) or positive.
    @inlinable @inline(__always)
    public static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(a.count, b.count)
        var index = 0
        while index < common {
            if a[index] != b[index] { return Int(a[index]) - Int(b[index]) }
            index += 1
        }
        return a.count - b.count
    }

    @inlinable @inline(__always)
    public static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && compare(a, b) == 0
    }

    /// `text`'s bytes.
    @inlinable @inline(__always)
    public static func bytes(_ text: StaticString) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
    }
}
