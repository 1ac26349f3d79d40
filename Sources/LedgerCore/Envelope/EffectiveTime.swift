/// When an event happened in the world: a calendar date of the zone (`2021-10-15`, read in
/// Asia/Shanghai, UTC+8) or a date-time with an explicit offset (`2022-01-14T10:30:00+08:00`).
/// The text is kept exactly as given; `instant` orders events on one time line.
public struct EffectiveTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The zone's offset from UTC (China Standard Time, no daylight saving since 1991).
    public static let zoneOffsetSeconds = 8 * 3600

    public let text: String
    /// The calendar date in the zone.
    public let date: CalendarDate
    /// Microseconds since 1970-01-01T00:00:00Z; a bare date means its start in the zone.
    public let instant: Int64

    /// Parses and checks an effective time; nil if the text is neither form or names an
    /// impossible date or time.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard let date = CalendarDate(prefix: bytes) else { return nil }
        if bytes.count == 10 {
            self.text = text
            self.date = date
            self.instant = Int64(date.daysSinceEpoch * 86_400 - EffectiveTime.zoneOffsetSeconds) * 1_000_000
            return
        }
        // YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|±HH:MM)
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              let hour = digits(bytes, 11, 2), bytes.count > 13, bytes[13] == UInt8(ascii: ":"),
              let minute = digits(bytes, 14, 2), hour < 24, minute < 60 else { return nil }
        var i = 16
        var second = 0
        var micros = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: ":") {
            guard let s = digits(bytes, i + 1, 2), s < 60 else { return nil }  // no leap seconds
            second = s
            i += 3
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                var count = 0
                while i < bytes.count, let d = digits(bytes, i, 1) {
                    if count < 6 { micros = micros * 10 + d }
                    count += 1
                    i += 1
                }
                guard count > 0 else { return nil }
                for _ in count..<max(count, 6) { micros *= 10 }
            }
        }
        guard i < bytes.count else { return nil }  // the offset is required
        var offset = 0
        if bytes[i] == UInt8(ascii: "Z") || bytes[i] == UInt8(ascii: "z") {
            guard i + 1 == bytes.count else { return nil }
        } else {
            guard bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"), bytes.count == i + 6,
                  let oh = digits(bytes, i + 1, 2), bytes[i + 3] == UInt8(ascii: ":"),
                  let om = digits(bytes, i + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (bytes[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let seconds = date.daysSinceEpoch * 86_400 + hour * 3600 + minute * 60 + second - offset
        self.text = text
        self.instant = Int64(seconds) * 1_000_000 + Int64(micros)
        // The zone's calendar date of that instant.
        let local = seconds + EffectiveTime.zoneOffsetSeconds
        self.date = CalendarDate(daysSinceEpoch: local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
    }

    /// Today in the zone.
    public static func today() -> EffectiveTime {
        let now = RecordedTime.now().microseconds / 1_000_000 + Int64(zoneOffsetSeconds)
        return EffectiveTime(CalendarDate(daysSinceEpoch: Int(now / 86_400)).description)!
    }

    public var description: String { text }

    /// Time-line order; two spellings of one instant are ordered by their text.
    public static func < (a: EffectiveTime, b: EffectiveTime) -> Bool { (a.instant, a.text) < (b.instant, b.text) }
}
