//! Calendar arithmetic over the whole range of Arrow's date and time types
//! (±2^63 seconds is ±292 billion years), without chrono's ±262,000-year
//! limit.

/// Seconds in a day.
pub const SECONDS_PER_DAY: i64 = 86_400;

/// A day of the proleptic Gregorian calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date {
    /// The year (astronomical: 0 is 1 BC, negative before).
    pub year: i64,
    /// 1 to 12.
    pub month: u32,
    /// 1 to 31.
    pub day: u32,
}

impl Date {
    /// The date `days` days after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`, exact for every `i64` that is a day count of an
    /// `i64` number of seconds).
    pub fn from_days(days: i64) -> Date {
        let z = i128::from(days) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11]
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i128::from(month <= 2);
        Date {
            year: year as i64,
            month,
            day,
        }
    }

    /// `YYYY-MM-DD` as Python and pandas write it: the year zero-padded to
    /// four characters including its sign (`0050`, `-005`, `10000`).
    pub fn write(self, out: &mut Vec<u8>) {
        use std::io::Write;
        let _ = write!(out, "{:04}-{:02}-{:02}", self.year, self.month, self.day);
    }
}

/// A time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeOfDay {
    /// Seconds since midnight, 0 to 86,399.
    pub seconds: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl TimeOfDay {
    /// `HH:MM:SS`.
    pub fn write_hms(self, out: &mut Vec<u8>) {
        use std::io::Write;
        let s = self.seconds;
        let _ = write!(out, "{:02}:{:02}:{:02}", s / 3_600, s / 60 % 60, s % 60);
    }
}

/// Splits a count of `units_per_second`ths of a second since the epoch
/// into days and the time of day (floor division: before 1970 the time of
/// day is still positive).
pub fn split(value: i64, units_per_second: i64) -> (i64, TimeOfDay) {
    let seconds = value.div_euclid(units_per_second);
    let fraction = value.rem_euclid(units_per_second);
    let nanos = (fraction * (1_000_000_000 / units_per_second)) as u32;
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    let of_day = seconds.rem_euclid(SECONDS_PER_DAY) as u32;
    (
        days,
        TimeOfDay {
            seconds: of_day,
            nanos,
        },
    )
}

/// Appends the first `digits` (0, 3, 6 or 9) digits of a fraction of a
/// second, after a `.` (nothing for 0 digits).
pub fn write_fraction(out: &mut Vec<u8>, nanos: u32, digits: u32) {
    use std::io::Write;
    if digits > 0 {
        let value = nanos / 10u32.pow(9 - digits);
        let _ = write!(out, ".{value:0width$}", width = digits as usize);
    }
}

/// How many fraction digits (0, 3, 6 or 9) pandas shows for a time with
/// this many nanoseconds: the coarsest of ms, µs, ns that holds it exactly.
pub fn fraction_digits(nanos: u32) -> u32 {
    if nanos == 0 {
        0
    } else if nanos % 1_000_000 == 0 {
        3
    } else if nanos % 1_000 == 0 {
        6
    } else {
        9
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    #[test]
    fn epoch_and_known_dates() {
        let d = |days| Date::from_days(days);
        assert_eq!(
            d(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            d(-1),
            Date {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        assert_eq!(
            d(2_932_896),
            Date {
                year: 9999,
                month: 12,
                day: 31
            }
        );
        let mut out = Vec::new();
        d(-719_163).write(&mut out);
        assert_eq!(out, b"0000-12-31");
        out.clear();
        Date::from_days(i64::MIN.div_euclid(SECONDS_PER_DAY)).write(&mut out);
        assert_eq!(out, b"-292277022657-01-27");
    }

    #[test]
    fn times_split_with_floor_division() {
        let (days, time) = split(-1, 1_000);
        assert_eq!(days, -1);
        assert_eq!(time.seconds, 86_399);
        assert_eq!(time.nanos, 999_000_000);
        let mut out = Vec::new();
        time.write_hms(&mut out);
        write_fraction(&mut out, time.nanos, 3);
        assert_eq!(out, b"23:59:59.999");
        assert_eq!(fraction_digits(500_000_000), 3);
        assert_eq!(fraction_digits(1_500_000), 6);
        assert_eq!(fraction_digits(1_000), 6);
        assert_eq!(fraction_digits(1), 9);
    }

    proptest! {
        #[test]
        fn dates_agree_with_chrono_where_chrono_reaches(days in -95_000_000i64..95_000_000) {
            let ours = Date::from_days(days);
            let theirs = chrono::NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).unwrap();
            prop_assert_eq!(
                (ours.year, ours.month, ours.day),
                (i64::from(theirs.year()), theirs.month(), theirs.day())
            );
        }
    }
}
