#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When the ledger learned of an event: UTC, to the microsecond, always written in the fixed
/// form `YYYY-MM-DDTHH:MM:SS.ffffffZ` so that text order is time order.
public struct RecordedTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func now() -> RecordedTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return RecordedTime(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// Seconds on the monotonic clock, for measuring how long something takes (never for
    /// recording: it has no relation to the calendar).
    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Parses the fixed form (and only it).
    public init?(_ text: some StringProtocol) {
        guard let parsed = text.utf8.withContiguousStorageIfAvailable(RecordedTime.parse) ?? RecordedTime.parse(Array(text.utf8))
        else { return nil }
        microseconds = parsed
    }

    /// Parses the fixed form from bytes.
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        guard let parsed = RecordedTime.parse(bytes) else { return nil }
        microseconds = parsed
    }

    private static func parse(_ bytes: some RandomAccessCollection<UInt8>) -> Int64? {
        guard bytes.count == 27, byte(bytes, 10) == UInt8(ascii: "T"), byte(bytes, 13) == UInt8(ascii: ":"),
              byte(bytes, 16) == UInt8(ascii: ":"), byte(bytes, 19) == UInt8(ascii: "."), byte(bytes, 26) == UInt8(ascii: "Z"),
              let date = CalendarDate(prefix: bytes),
              let hour = digits(bytes, 11, 2), let minute = digits(bytes, 14, 2), let second = digits(bytes, 17, 2),
              let micros = digits(bytes, 20, 6), hour < 24, minute < 60, second < 60 else { return nil }
        let seconds = Int64(date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second)
        return seconds * 1_000_000 + Int64(micros)
    }

    public var description: String {
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let micros = Int(microseconds - seconds * 1_000_000)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let date = CalendarDate(daysSinceEpoch: Int(days))
        return "\(date)T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(micros, 6))Z"
    }

    public static func < (a: RecordedTime, b: RecordedTime) -> Bool { a.microseconds < b.microseconds }
}
