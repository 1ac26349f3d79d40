import Testing
@testable import LedgerValues

@Suite struct TimeTests {
    @Test(arguments: ["2021-02-30", "2021-13-01", "2021-00-10", "2022-02-29", "1900-02-29", "2021-1-01", "20210101",
                      "2021-10-15T10:00", "2021-10-15T24:00:00Z", "2021-10-15T10:60:00Z", "2021-10-15T10:00:00+8:00",
                      "2021-10-15 10:00:00Z", "2021-10-15T10:00:00.Z", "2021-10-15Tab:00Z", ""])
    func rejectsImpossibleOrMalformedEffectiveTimes(text: String) {
        #expect(EffectiveTime(text) == nil)
    }

    @Test func acceptsDatesAndDateTimesWithOffsets() throws {
        #expect(EffectiveTime("2024-02-29") != nil)
        #expect(EffectiveTime("2000-02-29") != nil)
        let date = try #require(EffectiveTime("2022-01-14"))
        let sameInstant = try #require(EffectiveTime("2022-01-14T00:00:00+08:00"))
        let utc = try #require(EffectiveTime("2022-01-13T16:00:00Z"))
        #expect(date.instant == sameInstant.instant)
        #expect(utc.instant == sameInstant.instant)
        // 2022-01-13T20:00Z is already the 14th in the zone.
        #expect(try #require(EffectiveTime("2022-01-13T20:00:00.5Z")).date.description == "2022-01-14")
        #expect(try #require(EffectiveTime("2022-01-14T23:59:59.999999-05:00")).date.description == "2022-01-15")
    }

    @Test func calendarDaysRoundTrip() {
        for days in stride(from: -800_000, through: 2_900_000, by: 997) {
            let date = CalendarDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
        }
        #expect(CalendarDate(year: 1970, month: 1, day: 1)?.daysSinceEpoch == 0)
        #expect(CalendarDate(year: 2000, month: 3, day: 1)?.daysSinceEpoch == 11_017)
    }

    @Test func recordedTimesAreFixedWidthAndRoundTrip() throws {
        let time = RecordedTime(microseconds: 1_642_125_600_000_123)
        #expect(time.description == "2022-01-14T02:00:00.000123Z")
        #expect(RecordedTime(time.description) == time)
        #expect(RecordedTime("2022-01-14T02:00:00Z") == nil)
        let now = RecordedTime.now()
        #expect(now.description.count == 27)
    }
}
