//! An offer's hours and days, read on the wall clock of a named time zone, and the starts
//! of the periods per-contact caps count in.

use super::CapPeriod;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const MINUTES_PER_DAY: u16 = 1_440;

/// Days of the week and a span of the day, in `time_zone`. A span whose end is before its
/// start runs past midnight: its early hours belong to the day the span started on (a Friday
/// 22:00–02:00 span covers Saturday 01:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// An IANA name, such as `Europe/Nicosia`.
    pub time_zone: String,
    /// Bit 0 is Monday … bit 6 is Sunday.
    pub days: u8,
    /// Minutes after local midnight, inclusive.
    pub from_minute: u16,
    /// Minutes after local midnight, exclusive; 1440 is the end of the day.
    pub to_minute: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("time_zone {0:?} is not a known IANA time zone")]
    UnknownZone(String),
    #[error("days must name at least one day of the week")]
    NoDays,
    #[error("times must be between 00:00 and 24:00, and from must differ from to")]
    BadTimes,
}

pub const DAY_NAMES: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

impl Schedule {
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.zone()?;
        if self.days & 0x7f == 0 || self.days & 0x80 != 0 {
            return Err(ScheduleError::NoDays);
        }
        if self.from_minute >= MINUTES_PER_DAY || self.to_minute > MINUTES_PER_DAY || self.from_minute == self.to_minute
        {
            return Err(ScheduleError::BadTimes);
        }
        Ok(())
    }

    pub fn zone(&self) -> Result<TimeZone, ScheduleError> {
        TimeZone::get(&self.time_zone).map_err(|_| ScheduleError::UnknownZone(self.time_zone.clone()))
    }

    fn has_day(&self, monday_zero: i8) -> bool {
        self.days & (1 << monday_zero.rem_euclid(7)) != 0
    }

    /// Whether `local` (the wall clock in the schedule's zone) is inside the schedule.
    pub fn contains(&self, local: DateTime) -> bool {
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let day = local.weekday().to_monday_zero_offset();
        if self.from_minute < self.to_minute {
            self.has_day(day) && (self.from_minute..self.to_minute).contains(&minute)
        } else {
            (self.has_day(day) && minute >= self.from_minute) || (self.has_day(day - 1) && minute < self.to_minute)
        }
    }
}

/// The wall clock in `zone` at epoch second `at` (`None` outside jiff's range).
pub fn local_time(zone: &TimeZone, at: i64) -> Option<DateTime> {
    Timestamp::from_second(at).ok().map(|ts| zone.to_datetime(ts))
}

/// The epoch second the period containing `at` began, on `zone`'s calendar: local
/// midnight, the Monday's, the 1st's (the first instant that exists, on a day a clock change
/// skips midnight). The lifetime began at `i64::MIN`.
pub fn period_start(period: CapPeriod, zone: &TimeZone, at: i64) -> i64 {
    let Some(local) = local_time(zone, at) else {
        return i64::MIN;
    };
    let date = local.date();
    let first = match period {
        CapPeriod::Lifetime => return i64::MIN,
        CapPeriod::Day => Some(date),
        CapPeriod::Week => date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .ok(),
        CapPeriod::Month => Some(date.first_of_month()),
    };
    first
        .and_then(|day| day.to_zoned_datetime(zone.clone()).ok())
        .map_or(i64::MIN, |start| start.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, text: &str) -> i64 {
        let local: DateTime = text.parse().unwrap();
        local
            .to_zoned_datetime(TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_second()
    }

    fn inside(schedule: &Schedule, zone: &str, text: &str) -> bool {
        schedule.contains(local_time(&schedule.zone().unwrap(), at(zone, text)).unwrap())
    }

    #[test]
    fn a_span_across_midnight_belongs_to_the_day_it_started() {
        // Friday 22:00 to 02:00, Nicosia time.
        let friday_night = Schedule {
            time_zone: "Europe/Nicosia".into(),
            days: 1 << 4,
            from_minute: 22 * 60,
            to_minute: 2 * 60,
        };
        friday_night.validate().unwrap();
        let cases = [
            ("2026-11-27T21:59", false), // Friday, before
            ("2026-11-27T22:00", true),
            ("2026-11-28T01:59", true), // Saturday's early hours are Friday's
            ("2026-11-28T02:00", false),
            ("2026-11-28T23:00", false), // Saturday night is not Friday's
            ("2026-11-27T01:00", false), // Friday's early hours belong to Thursday
        ];
        for (local, expected) in cases {
            assert_eq!(inside(&friday_night, "Europe/Nicosia", local), expected, "{local}");
        }
        // The wall clock is Nicosia's: Saturday 00:30 UTC is 02:30 there, outside; Friday
        // 20:30 UTC is 22:30 there, inside.
        assert!(!inside(&friday_night, "UTC", "2026-11-28T00:30"));
        assert!(inside(&friday_night, "UTC", "2026-11-27T20:30"));
    }

    #[test]
    fn hours_follow_the_wall_clock_across_daylight_saving_changes() {
        // Every day 09:00-10:00 in New York; 09:30 local is 13:30 UTC in summer, 14:30 in winter.
        let morning = Schedule {
            time_zone: "America/New_York".into(),
            days: 0x7f,
            from_minute: 9 * 60,
            to_minute: 10 * 60,
        };
        let zone = morning.zone().unwrap();
        for (utc, expected) in [
            ("2026-07-01T13:30", true),
            ("2026-07-01T14:30", false),
            ("2026-12-01T14:30", true),
            ("2026-12-01T13:30", false),
            // 2026-03-08: clocks jump from 02:00 to 03:00; 09:30 EDT is 13:30 UTC.
            ("2026-03-08T13:30", true),
            // 2026-11-01: clocks fall back at 02:00; 09:30 EST is 14:30 UTC.
            ("2026-11-01T14:30", true),
        ] {
            let instant = at("UTC", utc);
            assert_eq!(morning.contains(local_time(&zone, instant).unwrap()), expected, "{utc}");
        }
    }

    #[test]
    fn periods_start_at_local_midnight_monday_and_the_first() {
        let zone = TimeZone::get("Europe/Nicosia").unwrap();
        // Wednesday 2026-11-25 10:00 local.
        let instant = at("Europe/Nicosia", "2026-11-25T10:00");
        assert_eq!(
            period_start(CapPeriod::Day, &zone, instant),
            at("Europe/Nicosia", "2026-11-25T00:00")
        );
        assert_eq!(
            period_start(CapPeriod::Week, &zone, instant),
            at("Europe/Nicosia", "2026-11-23T00:00")
        );
        assert_eq!(
            period_start(CapPeriod::Month, &zone, instant),
            at("Europe/Nicosia", "2026-11-01T00:00")
        );
        assert_eq!(period_start(CapPeriod::Lifetime, &zone, instant), i64::MIN);
        // A day whose midnight a clock change skips (Santiago, 2026-09-06) starts at 01:00.
        let santiago = TimeZone::get("America/Santiago").unwrap();
        let noon = at("America/Santiago", "2026-09-06T12:00");
        assert_eq!(
            period_start(CapPeriod::Day, &santiago, noon),
            at("America/Santiago", "2026-09-06T01:00")
        );
    }

    #[test]
    fn impossible_schedules_are_refused() {
        let mut schedule = Schedule {
            time_zone: "Mars/Olympus".into(),
            days: 1,
            from_minute: 0,
            to_minute: 60,
        };
        assert!(matches!(schedule.validate(), Err(ScheduleError::UnknownZone(_))));
        schedule.time_zone = "UTC".into();
        schedule.validate().unwrap();
        schedule.days = 0;
        assert_eq!(schedule.validate(), Err(ScheduleError::NoDays));
        schedule.days = 1;
        schedule.to_minute = 0;
        assert_eq!(schedule.validate(), Err(ScheduleError::BadTimes));
        schedule.to_minute = 1_441;
        assert_eq!(schedule.validate(), Err(ScheduleError::BadTimes));
    }
}
