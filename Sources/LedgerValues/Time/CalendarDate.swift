#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A proleptic Gregorian calendar date, checked (2021-02-30 is refused).
public struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: some StringProtocol) {
        guard let date = text.utf8.withContiguousStorageIfAvailable({ CalendarDate(bytes: $0) }) ?? CalendarDate(bytes: Array(text.utf8))
        else { return nil }
        self = date
    }

    /// Parses `YYYY-MM-DD` from the first ten bytes; nil unless there are exactly ten.
    init?(bytes: some RandomAccessCollection<UInt8>) {
        guard bytes.count == 10 else { return nil }
        self.init(prefix: bytes)
    }

    /// Parses `YYYY-MM-DD` from the first ten of `bytes`.
    init?(prefix bytes: some RandomAccessCollection<UInt8>) {
        guard bytes.count >= 10, byte(bytes, 4) == UInt8(ascii: "-"), byte(bytes, 7) == UInt8(ascii: "-"),
              let year = digits(bytes, 0, 4), let month = digits(bytes, 5, 2), let day = digits(bytes, 8, 2)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func isLeap(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // Count in 400-year eras starting on March 1st, so the leap day ends each cycle.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = (month + 9) % 12  // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var description: String {
        pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }
}

/// Reads `count` decimal digits at `offset`, or nil if any is not a digit.
func digits(_ bytes: some RandomAccessCollection<UInt8>, _ offset: Int, _ count: Int) -> Int? {
    guard offset + count <= bytes.count else { return nil }
    var value = 0
    var i = bytes.index(bytes.startIndex, offsetBy: offset)
    for _ in 0..<count {
        let b = bytes[i]
        guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(b - UInt8(ascii: "0"))
        i = bytes.index(after: i)
    }
    return value
}

/// The byte at `offset`.
func byte(_ bytes: some RandomAccessCollection<UInt8>, _ offset: Int) -> UInt8 {
    bytes[bytes.index(bytes.startIndex, offsetBy: offset)]
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
