//! Calendar dates as day numbers, their text forms, and cohortextractor's
//! `--index-date-range` expansion.

use std::fmt;

use chrono::NaiveDate;

/// A calendar date as days since 1970-01-01 (negative before).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const EPOCH_SHIFT: i64 = 719_468;

impl Day {
    /// The day of a year, month (1–12) and day of the month, if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        NaiveDate::from_ymd_opt(year, month, day).map(Day::from)
    }

    /// Parses `YYYY-MM-DD` (exactly that layout, as Python's
    /// `date.fromisoformat` before 3.11).
    pub fn parse_iso(text: &str) -> Option<Day> {
        Day::parse_checked(text).ok()
    }

    /// Parses `YYYY-MM-DD`, saying why a text is not a date.
    pub fn parse_checked(text: &str) -> Result<Day, DateError> {
        let bytes = text.as_bytes();
        let layout_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !layout_ok {
            return Err(DateError::Layout);
        }
        let num =
            |r: std::ops::Range<usize>| -> u32 { text[r].parse().expect("four or two digits") };
        let (year, month, day) = (num(0..4) as i32, num(5..7), num(8..10));
        if !(1..=12).contains(&month) {
            return Err(DateError::Month(month));
        }
        Day::from_ymd(year, month, day).ok_or_else(|| DateError::Day {
            year,
            month: MONTHS[month as usize - 1],
            days: days_in_month(year, month),
        })
    }

    /// Year, month (1–12) and day of the month (Howard Hinnant's
    /// `civil_from_days`, fast enough to run once per generated cell).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 as i64 + EPOCH_SHIFT;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        (year, month, day)
    }

    /// The first day of this day's year.
    pub fn start_of_year(self) -> Day {
        let (year, _, _) = self.ymd();
        Day::from_ymd(year, 1, 1).expect("January 1st exists")
    }

    /// The first day of this day's month.
    pub fn start_of_month(self) -> Day {
        let (year, month, _) = self.ymd();
        Day::from_ymd(year, month, 1).expect("the 1st exists")
    }

    /// The last day of this day's month.
    pub fn end_of_month(self) -> Day {
        let (year, month, _) = self.ymd();
        Day::from_ymd(year, month, days_in_month(year, month)).expect("the month's last day exists")
    }

    /// Appends the date in `format`.
    pub fn write(self, format: DateFormat, out: &mut Vec<u8>) {
        let (year, month, day) = self.ymd();
        push_digits(out, year.unsigned_abs(), 4);
        if format == DateFormat::Year {
            return;
        }
        out.push(b'-');
        push_digits(out, month, 2);
        if format == DateFormat::Month {
            return;
        }
        out.push(b'-');
        push_digits(out, day, 2);
    }

    /// Nanoseconds since 1970-01-01T00:00 (Arrow `timestamp[ns]`).
    pub fn nanos(self) -> i64 {
        self.0 as i64 * 86_400_000_000_000
    }
}

fn push_digits(out: &mut Vec<u8>, value: u32, width: usize) {
    let mut buffer = [b'0'; 10];
    let mut v = value;
    let mut i = buffer.len();
    while v > 0 || buffer.len() - i < width {
        i -= 1;
        buffer[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buffer[i..]);
}

impl From<NaiveDate> for Day {
    fn from(date: NaiveDate) -> Day {
        Day((date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(10);
        self.write(DateFormat::Day, &mut out);
        f.write_str(std::str::from_utf8(&out).expect("ASCII"))
    }
}

/// How precisely a date column is written (cohortextractor's `date_format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DateFormat {
    /// `YYYY`, upstream's default.
    #[default]
    Year,
    /// `YYYY-MM`.
    Month,
    /// `YYYY-MM-DD`.
    Day,
}

impl DateFormat {
    /// The format named `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<DateFormat> {
        match text {
            "YYYY" => Some(DateFormat::Year),
            "YYYY-MM" => Some(DateFormat::Month),
            "YYYY-MM-DD" => Some(DateFormat::Day),
            _ => None,
        }
    }

    /// The format's name as written in schemas.
    pub fn name(self) -> &'static str {
        match self {
            DateFormat::Year => "YYYY",
            DateFormat::Month => "YYYY-MM",
            DateFormat::Day => "YYYY-MM-DD",
        }
    }

    /// The day a written value stands for when read back (pandas fills in
    /// January and the 1st).
    pub fn truncate(self, day: Day) -> Day {
        match self {
            DateFormat::Year => day.start_of_year(),
            DateFormat::Month => day.start_of_month(),
            DateFormat::Day => day,
        }
    }
}

/// Why a text is not a `YYYY-MM-DD` date; reads after the text
/// (`2020-02-30 is not a date (February 2020 has 29 days)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD`.
    #[error("is not a YYYY-MM-DD date")]
    Layout,
    /// The month is not 01 to 12.
    #[error("is not a date (there is no month {0})")]
    Month(u32),
    /// The month has no such day.
    #[error("is not a date ({month} {year} has {days} days)")]
    Day {
        /// The year.
        year: i32,
        /// The month's name.
        month: &'static str,
        /// How many days it has.
        days: u32,
    },
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The days of `month` (1–12) of `year`.
fn days_in_month(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|&day| Day::from_ymd(year, month, day).is_some())
        .expect("every month has 28 days")
}

/// What is wrong with an `--index-date-range`, worded as upstream words it.
#[derive(Debug, thiserror::Error)]
pub enum RangeError {
    /// A date is not `YYYY-MM-DD` or `today`.
    #[error(
        "Invalid date range '{0}': Dates must be in YYYY-MM-DD format or 'today' and ranges must be in the form 'DATE to DATE by (week|month)'"
    )]
    BadDate(String),
    /// The period after `by` is neither `week` nor `month`.
    #[error("Unknown time period '{0}': must be 'week' or 'month'")]
    BadPeriod(String),
    /// END is before START.
    #[error("Invalid date range '{0}': end cannot be earlier than start")]
    Backwards(String),
    /// A monthly step lands on a day its month lacks.
    #[error(
        "Invalid date range '{range}': a monthly range keeps the day of the month, and {month} has no day {day}; start the range on the 28th or earlier"
    )]
    MissingDay {
        /// The range as given.
        range: String,
        /// `YYYY-MM` of the month lacking the day.
        month: String,
        /// The day of the month.
        day: u32,
    },
}

/// Expands `DATE`, `DATE to DATE` or `DATE to DATE by week|month` into its
/// dates, newest first (the order upstream writes them). No `by` means
/// month. `today` stands for `today`.
pub fn expand_range(range: &str, today: Day) -> Result<Vec<Day>, RangeError> {
    let (start, end, period) = match range.split_once(" to ") {
        Some((start, rest)) => match rest.split_once(" by ") {
            Some((end, period)) => (start, end, period),
            None => (start, rest, "month"),
        },
        None => (range, range, "month"),
    };
    let parse = |text: &str| match text {
        "today" => Some(today),
        _ => Day::parse_iso(text),
    };
    let (Some(start), Some(end)) = (parse(start), parse(end)) else {
        return Err(RangeError::BadDate(range.to_string()));
    };
    let weekly = match period {
        "week" => true,
        "month" => false,
        other => return Err(RangeError::BadPeriod(other.to_string())),
    };
    if end < start {
        return Err(RangeError::Backwards(range.to_string()));
    }
    let mut dates = Vec::new();
    let mut date = start;
    while date <= end {
        dates.push(date);
        date = if weekly {
            Day(date.0 + 7)
        } else {
            match next_month(date, end) {
                Ok(Some(next)) => next,
                Ok(None) => break,
                Err((month, day)) => {
                    return Err(RangeError::MissingDay {
                        range: range.to_string(),
                        month,
                        day,
                    });
                }
            }
        };
    }
    dates.reverse();
    Ok(dates)
}

/// The same day of the next month; `None` when that month starts after
/// `end` (the range is complete), an error when the day does not exist.
fn next_month(date: Day, end: Day) -> Result<Option<Day>, (String, u32)> {
    let (year, month, day) = date.ymd();
    let (year, month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    if Day::from_ymd(year, month, 1).is_some_and(|first| first > end) {
        return Ok(None);
    }
    Day::from_ymd(year, month, day)
        .map(Some)
        .ok_or_else(|| (format!("{year:04}-{month:02}"), day))
}

/// Today's date in the local time zone (as Python's `date.today()`).
pub fn today() -> Day {
    Day::from(chrono::Local::now().date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse_iso(text).unwrap()
    }

    fn texts(days: &[Day]) -> Vec<String> {
        days.iter().map(Day::to_string).collect()
    }

    #[test]
    fn days_convert_both_ways() {
        for (text, n) in [
            ("1970-01-01", 0),
            ("1900-01-01", -25_567),
            ("2020-03-01", 18_322),
        ] {
            assert_eq!(day(text), Day(n));
            assert_eq!(Day(n).to_string(), text);
        }
        // Every day of four centuries round-trips through ymd.
        for n in -200_000..-53_902 {
            let (y, m, d) = Day(n).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(n)));
        }
        for bad in [
            "2020-02-30",
            "2020-3-01",
            "20200301",
            "2020-03-01 ",
            "2021-02-29",
        ] {
            assert_eq!(Day::parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn impossible_dates_say_why() {
        let why = |text: &str| Day::parse_checked(text).unwrap_err().to_string();
        assert_eq!(
            why("2020-02-30"),
            "is not a date (February 2020 has 29 days)"
        );
        assert_eq!(
            why("2021-02-29"),
            "is not a date (February 2021 has 28 days)"
        );
        assert_eq!(why("2020-04-31"), "is not a date (April 2020 has 30 days)");
        assert_eq!(why("2020-13-01"), "is not a date (there is no month 13)");
        assert_eq!(why("2020-00-10"), "is not a date (there is no month 0)");
        assert_eq!(
            why("2020-01-00"),
            "is not a date (January 2020 has 31 days)"
        );
        assert_eq!(why("2020/01/01"), "is not a YYYY-MM-DD date");
    }

    #[test]
    fn dates_write_at_their_precision() {
        let mut out = Vec::new();
        for format in [DateFormat::Year, DateFormat::Month, DateFormat::Day] {
            day("0999-07-04").write(format, &mut out);
            out.push(b' ');
        }
        assert_eq!(out, b"0999 0999-07 0999-07-04 ");
        assert_eq!(
            DateFormat::Month.truncate(day("2020-03-17")),
            day("2020-03-01")
        );
        assert_eq!(
            DateFormat::Year.truncate(day("2020-03-17")),
            day("2020-01-01")
        );
    }

    #[test]
    fn the_flucats_ranges_give_54_weeks_each_newest_first() {
        let today = day("2026-11-24");
        let first = expand_range("2020-03-01 to 2021-03-07 by week", today).unwrap();
        assert_eq!(first.len(), 54);
        assert_eq!(first[0], day("2021-03-07"));
        assert_eq!(first[53], day("2020-03-01"));
        let second = expand_range("2021-03-14 to 2022-03-20 by week", today).unwrap();
        assert_eq!(second.len(), 54);
        assert!(second.windows(2).all(|w| w[0].0 - w[1].0 == 7));
    }

    #[test]
    fn months_keep_the_day_and_single_dates_are_one_file() {
        let today = day("2026-11-24");
        let months = expand_range("2020-11-15 to 2021-02-20", today).unwrap();
        assert_eq!(
            texts(&months),
            ["2021-02-15", "2021-01-15", "2020-12-15", "2020-11-15"]
        );
        assert_eq!(
            texts(&expand_range("today", today).unwrap()),
            ["2026-11-24"]
        );
        // A month that lacks the day but starts after the end is no problem.
        assert_eq!(expand_range("2021-01-31", today).unwrap().len(), 1);
        let error = expand_range("2020-01-31 to 2020-03-31 by month", today).unwrap_err();
        assert!(
            error.to_string().contains("2020-02 has no day 31"),
            "{error}"
        );
        // An uneven end is not reached.
        let weeks = expand_range("2020-03-01 to 2020-03-14 by week", today).unwrap();
        assert_eq!(texts(&weeks), ["2020-03-08", "2020-03-01"]);
    }
}
