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
        if let date = CalendarDate(text) {
            self.text = text
            self.date = date
            self.instant = Int64(date.daysSinceEpoch * 86_400 - EffectiveTime.zoneOffsetSeconds) * 1_000_000
            return
        }
        guard let parts = DateTimeText(text) else { return nil }
        let seconds = parts.utcSeconds
        self.text = text
        self.instant = Int64(seconds) * 1_000_000 + Int64(parts.microsecond)
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
