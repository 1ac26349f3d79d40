/// The parts of a date-time with an offset, `YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH:MM)`:
/// RFC 3339's form with the seconds optional. Dates and times are checked (no 2021-02-30, no
/// hour 24, no leap second).
public struct DateTimeText: Sendable, Equatable {
    public var date: CalendarDate
    public var hour: Int
    public var minute: Int
    public var second: Int
    /// The fraction of the second, to the microsecond (finer digits are cut).
    public var microsecond: Int
    /// Whether the text gave seconds (RFC 3339 requires them).
    public var hasSeconds: Bool
    /// The offset from UTC in seconds (`Z` is 0).
    public var offsetSeconds: Int

    public init?(_ text: some StringProtocol) {
        guard let parsed = text.utf8.withContiguousStorageIfAvailable(DateTimeText.parse) ?? Array(text.utf8).withUnsafeBufferPointer(DateTimeText.parse)
        else { return nil }
        self = parsed
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    public var utcSeconds: Int {
        date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    }

    private init(date: CalendarDate) {
        self.date = date
        hour = 0; minute = 0; second = 0; microsecond = 0; hasSeconds = false; offsetSeconds = 0
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> DateTimeText? {
        guard let date = CalendarDate(prefix: bytes), bytes.count >= 17,
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = digits(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = digits(bytes, 14, 2), hour < 24, minute < 60 else { return nil }
        var result = DateTimeText(date: date)
        result.hour = hour
        result.minute = minute
        var i = 16
        if bytes[i] == UInt8(ascii: ":") {
            guard let second = digits(bytes, i + 1, 2), second < 60 else { return nil }
            result.second = second
            result.hasSeconds = true
            i += 3
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                var count = 0, micros = 0
                while i < bytes.count, let digit = digits(bytes, i, 1) {
                    if count < 6 { micros = micros * 10 + digit }
                    count += 1
                    i += 1
                }
                guard count > 0 else { return nil }
                for _ in count..<max(count, 6) { micros *= 10 }
                result.microsecond = micros
            }
        }
        guard i < bytes.count else { return nil }  // the offset is required
        if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
            guard i + 1 == bytes.count else { return nil }
        } else {
            guard bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"), bytes.count == i + 6,
                  let offsetHours = digits(bytes, i + 1, 2), bytes[i + 3] == UInt8(ascii: ":"),
                  let offsetMinutes = digits(bytes, i + 4, 2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            result.offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        return result
    }
}
