//! Arrow values as text, the way pandas `to_csv` prints them, over the
//! whole range of every type — or an error saying why a value cannot be.
//!
//! pandas formats some types per column rather than per value: timestamps
//! show as many fraction digits as the finest value needs (or only dates
//! when every value is at midnight), durations likewise. So a column is
//! prepared once ([`ColumnText::new`]) and then written cell by cell.
//!
//! | Arrow | text (as `DataFrame.to_csv` after `pyarrow` `to_pandas`) |
//! |---|---|
//! | integers | decimal digits (also with nulls, where pandas would print `1.0`) |
//! | float16/32/64 | numpy's shortest repr (`0.1`, `1e+16`; float32 `1e+06`); NaN as missing |
//! | decimal | Python `str(Decimal)`: `1.50`, `1E-7`, `0E-7` |
//! | date32/64 | `YYYY-MM-DD`, years 1–9999 (else an error, as pandas cannot hold it) |
//! | timestamp | `YYYY-MM-DD HH:MM:SS[.fff…]`, dates only when all at midnight; with a time zone always the time and the offset (`+01:00`) |
//! | time32/64 | Python `str(time)`: `HH:MM:SS[.ffffff]` |
//! | duration | pandas `Timedelta`: `1 days`, `-1 days +23:59:59.999995` |
//! | bool | `True`, `False` |
//! | binary | Python `repr(bytes)`: `b'a\x00'` |
//! | dictionary | its values |

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type,
    DurationMicrosecondType, DurationMillisecondType, DurationNanosecondType, DurationSecondType,
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};

use super::civil::{self, Date, SECONDS_PER_DAY, TimeOfDay};
use super::text::{write_numpy_float16, write_numpy_float32, write_python_float};

/// Nanoseconds in a day.
const NANOS_PER_DAY: i128 = SECONDS_PER_DAY as i128 * 1_000_000_000;

/// One column, ready to be written as text cell by cell.
pub struct ColumnText<'a> {
    array: &'a dyn Array,
    style: Style<'a>,
}

/// The decisions pandas makes once per column.
enum Style<'a> {
    /// Every value printed on its own.
    PerValue,
    Timestamp {
        units_per_second: i64,
        /// Fraction digits for every value: 0, 3, 6 or 9.
        digits: u32,
        /// Every value at midnight, and no time zone: dates only.
        dates_only: bool,
        zone: Option<Zone>,
    },
    Duration {
        units_per_second: i64,
        /// Fraction digits for every value: 0, 6 or 9.
        digits: u32,
        /// Every value a whole number of days: `N days` only.
        days_only: bool,
    },
    Dictionary {
        keys: Vec<usize>,
        values: Box<ColumnText<'a>>,
    },
}

/// A timestamp column's time zone.
enum Zone {
    /// A fixed offset east of UTC, in seconds (`+05:30`, `UTC`).
    Fixed(i64),
    /// A zone of the tz database (`Europe/London`), bundled in the binary.
    Named(jiff::tz::TimeZone),
}

impl<'a> ColumnText<'a> {
    /// Prepares `array` to be written; an error names what cannot be (a
    /// type with no text form, a time zone that is not known).
    pub fn new(array: &'a dyn Array) -> Result<ColumnText<'a>, String> {
        let style = match array.data_type() {
            DataType::Timestamp(unit, zone) => {
                let zone = zone.as_deref().map(parse_zone).transpose()?;
                let units_per_second = units_per_second(*unit);
                let present = || present_i64(array).map(|v| civil::split(v, units_per_second));
                let digits = present()
                    .map(|(_, time)| civil::fraction_digits(time.nanos))
                    .max()
                    .unwrap_or(0);
                let dates_only = zone.is_none()
                    && present().all(|(_, time)| time.seconds == 0 && time.nanos == 0);
                Style::Timestamp {
                    units_per_second,
                    digits,
                    dates_only,
                    zone,
                }
            }
            DataType::Duration(unit) => {
                let units_per_second = units_per_second(*unit);
                let remainders = || {
                    present_i64(array).map(|v| nanos(v, units_per_second).rem_euclid(NANOS_PER_DAY))
                };
                let digits = remainders()
                    .map(|r| match (r % 1_000_000_000) as u32 {
                        0 => 0,
                        n if n % 1_000 == 0 => 6,
                        _ => 9,
                    })
                    .max()
                    .unwrap_or(0);
                Style::Duration {
                    units_per_second,
                    digits,
                    days_only: remainders().all(|r| r == 0),
                }
            }
            DataType::Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary();
                Style::Dictionary {
                    keys: super::dictionary_keys(dictionary),
                    values: Box::new(ColumnText::new(dictionary.values().as_ref())?),
                }
            }
            other if supported(other) => Style::PerValue,
            other => return Err(format!("cannot write a column of type {other} as CSV text")),
        };
        Ok(ColumnText { array, style })
    }

    /// Whether row `row` is missing (written as an empty field).
    pub fn is_null(&self, row: usize) -> bool {
        match &self.style {
            Style::Dictionary { keys, values } => {
                self.array.is_null(row) || values.is_null(keys[row])
            }
            _ => self.array.data_type() == &DataType::Null || self.array.is_null(row),
        }
    }

    /// Appends row `row` as text; nothing for a missing value. An error
    /// says why the value has no text that pandas would read back as it.
    pub fn write(&self, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
        if self.is_null(row) {
            return Ok(());
        }
        match &self.style {
            Style::PerValue => write_value(self.array, row, out),
            Style::Timestamp {
                units_per_second,
                digits,
                dates_only,
                zone,
            } => {
                let value = raw_i64(self.array)[row];
                write_timestamp(value, *units_per_second, *digits, *dates_only, zone, out)
            }
            Style::Duration {
                units_per_second,
                digits,
                days_only,
            } => {
                let value = raw_i64(self.array)[row];
                write_duration(nanos(value, *units_per_second), *digits, *days_only, out);
                Ok(())
            }
            Style::Dictionary { keys, values } => values.write(keys[row], out),
        }
    }
}

impl ColumnText<'_> {
    /// The calendar day of row `row` of a date or timestamp column (local
    /// to its time zone, as written); `None` when missing or not a date.
    pub fn calendar_date(&self, row: usize) -> Result<Option<Date>, String> {
        if self.is_null(row) {
            return Ok(None);
        }
        let days = match (&self.style, self.array.data_type()) {
            (
                Style::Timestamp {
                    units_per_second,
                    zone,
                    ..
                },
                _,
            ) => local_time(raw_i64(self.array)[row], *units_per_second, zone)?.0,
            (_, DataType::Date32) => i64::from(self.array.as_primitive::<Date32Type>().value(row)),
            (_, DataType::Date64) => {
                date64_days(self.array.as_primitive::<Date64Type>().value(row))?
            }
            _ => return Ok(None),
        };
        Ok(Some(Date::from_days(days)))
    }
}

/// Appends one cell of `array` as pandas `to_csv` would print it (nothing
/// for a null). Prefer [`ColumnText`] for more than one cell: this prepares
/// the column each time.
pub fn render_cell(array: &dyn Array, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
    ColumnText::new(array)?.write(row, out)
}

/// Types printed value by value.
fn supported(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Null | Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
            | Decimal32(_, _)
            | Decimal64(_, _)
            | Decimal128(_, _)
            | Decimal256(_, _)
            | Date32
            | Date64
            | Time32(_)
            | Time64(_)
            | Utf8
            | LargeUtf8
            | Utf8View
            | Binary
            | LargeBinary
            | BinaryView
            | FixedSizeBinary(_)
    )
}

fn write_value(array: &dyn Array, row: usize, out: &mut Vec<u8>) -> Result<(), String> {
    fn int<T: ArrowPrimitiveType>(array: &dyn Array, row: usize, out: &mut Vec<u8>)
    where
        T::Native: itoa::Integer,
    {
        let value = array.as_primitive::<T>().value(row);
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }
    match array.data_type() {
        DataType::Null => {}
        DataType::Boolean => out.extend_from_slice(if array.as_boolean().value(row) {
            b"True"
        } else {
            b"False"
        }),
        DataType::Int8 => int::<Int8Type>(array, row, out),
        DataType::Int16 => int::<Int16Type>(array, row, out),
        DataType::Int32 => int::<Int32Type>(array, row, out),
        DataType::Int64 => int::<Int64Type>(array, row, out),
        DataType::UInt8 => int::<UInt8Type>(array, row, out),
        DataType::UInt16 => int::<UInt16Type>(array, row, out),
        DataType::UInt32 => int::<UInt32Type>(array, row, out),
        DataType::UInt64 => int::<UInt64Type>(array, row, out),
        // A NaN is a missing value to pandas, printed empty.
        DataType::Float16 => {
            let value = array.as_primitive::<Float16Type>().value(row);
            if !value.is_nan() {
                write_numpy_float16(out, value);
            }
        }
        DataType::Float32 => {
            let value = array.as_primitive::<Float32Type>().value(row);
            if !value.is_nan() {
                write_numpy_float32(out, value);
            }
        }
        DataType::Float64 => {
            let value = array.as_primitive::<Float64Type>().value(row);
            if !value.is_nan() {
                write_python_float(out, value);
            }
        }
        DataType::Decimal32(_, scale) => {
            let value = array.as_primitive::<Decimal32Type>().value(row);
            write_decimal(&value.to_string(), *scale, out);
        }
        DataType::Decimal64(_, scale) => {
            let value = array.as_primitive::<Decimal64Type>().value(row);
            write_decimal(&value.to_string(), *scale, out);
        }
        DataType::Decimal128(_, scale) => {
            let value = array.as_primitive::<Decimal128Type>().value(row);
            write_decimal(&value.to_string(), *scale, out);
        }
        DataType::Decimal256(_, scale) => {
            let value = array.as_primitive::<Decimal256Type>().value(row);
            write_decimal(&value.to_string(), *scale, out);
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(row);
            write_date(i64::from(days), out)?;
        }
        DataType::Date64 => {
            let millis = array.as_primitive::<Date64Type>().value(row);
            write_date(date64_days(millis)?, out)?;
        }
        DataType::Time32(unit) => {
            let value = match unit {
                TimeUnit::Second => array.as_primitive::<Time32SecondType>().value(row),
                _ => array.as_primitive::<Time32MillisecondType>().value(row),
            };
            write_time(i64::from(value), units_per_second(*unit), out)?;
        }
        DataType::Time64(unit) => {
            let value = match unit {
                TimeUnit::Microsecond => array.as_primitive::<Time64MicrosecondType>().value(row),
                _ => array.as_primitive::<Time64NanosecondType>().value(row),
            };
            write_time(value, units_per_second(*unit), out)?;
        }
        DataType::Utf8 => out.extend_from_slice(array.as_string::<i32>().value(row).as_bytes()),
        DataType::LargeUtf8 => {
            out.extend_from_slice(array.as_string::<i64>().value(row).as_bytes())
        }
        DataType::Utf8View => out.extend_from_slice(array.as_string_view().value(row).as_bytes()),
        DataType::Binary => write_bytes(array.as_binary::<i32>().value(row), out),
        DataType::LargeBinary => write_bytes(array.as_binary::<i64>().value(row), out),
        DataType::BinaryView => write_bytes(array.as_binary_view().value(row), out),
        DataType::FixedSizeBinary(_) => write_bytes(array.as_fixed_size_binary().value(row), out),
        other => return Err(format!("cannot write a column of type {other} as CSV text")),
    }
    Ok(())
}

fn units_per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// A count of `units_per_second`ths of a second in nanoseconds (exact:
/// every `i64` count of seconds fits).
fn nanos(value: i64, units_per_second: i64) -> i128 {
    i128::from(value) * i128::from(1_000_000_000 / units_per_second)
}

/// The raw values of a timestamp or duration column (meaningless where
/// null).
fn raw_i64(array: &dyn Array) -> &[i64] {
    fn of<T: ArrowPrimitiveType<Native = i64>>(array: &dyn Array) -> &[i64] {
        array.as_primitive::<T>().values()
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => of::<TimestampSecondType>(array),
        DataType::Timestamp(TimeUnit::Millisecond, _) => of::<TimestampMillisecondType>(array),
        DataType::Timestamp(TimeUnit::Microsecond, _) => of::<TimestampMicrosecondType>(array),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => of::<TimestampNanosecondType>(array),
        DataType::Duration(TimeUnit::Second) => of::<DurationSecondType>(array),
        DataType::Duration(TimeUnit::Millisecond) => of::<DurationMillisecondType>(array),
        DataType::Duration(TimeUnit::Microsecond) => of::<DurationMicrosecondType>(array),
        DataType::Duration(TimeUnit::Nanosecond) => of::<DurationNanosecondType>(array),
        other => unreachable!("raw_i64 of {other}"),
    }
}

/// The values of the rows that are not null.
fn present_i64(array: &dyn Array) -> impl Iterator<Item = i64> + '_ {
    raw_i64(array)
        .iter()
        .enumerate()
        .filter(|(row, _)| array.is_valid(*row))
        .map(|(_, &v)| v)
}

/// Parses an Arrow time zone: `UTC`, a fixed offset (`+05:30`, `-0800`,
/// `+01`) or a tz database name.
fn parse_zone(text: &str) -> Result<Zone, String> {
    if let Some(seconds) = fixed_offset(text) {
        return Ok(Zone::Fixed(seconds));
    }
    jiff::tz::TimeZone::get(text)
        .map(Zone::Named)
        .map_err(|_| format!("unknown time zone {text:?}"))
}

fn fixed_offset(text: &str) -> Option<i64> {
    if matches!(text, "UTC" | "Z" | "utc") {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = text[1..].chars().filter(|&c| c != ':').collect();
    if !(digits.len() == 2 || digits.len() == 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits.get(2..).map_or(Some(0), |m| m.parse().ok())?;
    Some(sign * (hours * 3_600 + minutes * 60))
}

/// The day of a date64 value, which Arrow requires to be a whole day.
fn date64_days(millis: i64) -> Result<i64, String> {
    let day = SECONDS_PER_DAY * 1_000;
    if millis % day != 0 {
        return Err(format!(
            "date64 value {millis} is not a whole day (Arrow requires multiples of {day} ms)"
        ));
    }
    Ok(millis / day)
}

fn write_date(days: i64, out: &mut Vec<u8>) -> Result<(), String> {
    let date = Date::from_days(days);
    if !(1..=9999).contains(&date.year) {
        let mut text = Vec::new();
        date.write(&mut text);
        return Err(format!(
            "date {} is outside the years 1 to 9999 that pandas and Python can hold as a date",
            String::from_utf8_lossy(&text)
        ));
    }
    date.write(out);
    Ok(())
}

/// Python `str(datetime.time)`: microseconds only when there are some.
fn write_time(value: i64, units_per_second: i64, out: &mut Vec<u8>) -> Result<(), String> {
    if !(0..SECONDS_PER_DAY * units_per_second).contains(&value) {
        return Err(format!(
            "time value {value} is not a time of day (0 to 24 hours)"
        ));
    }
    let (_, time) = civil::split(value, units_per_second);
    if time.nanos % 1_000 != 0 {
        return Err(format!(
            "time value {value} has nanoseconds, which Python's time cannot hold"
        ));
    }
    time.write_hms(out);
    if time.nanos != 0 {
        civil::write_fraction(out, time.nanos, 6);
    }
    Ok(())
}

/// A timestamp as its local calendar day and time of day, with the zone's
/// offset from UTC (in seconds) when it has a zone.
fn local_time(
    value: i64,
    units_per_second: i64,
    zone: &Option<Zone>,
) -> Result<(i64, TimeOfDay, Option<i64>), String> {
    let offset = match zone {
        None => None,
        Some(Zone::Fixed(seconds)) => Some(*seconds),
        Some(Zone::Named(tz)) => Some(named_offset(tz, value.div_euclid(units_per_second))?),
    };
    let (days, time) = civil::split(value, units_per_second);
    Ok(match offset {
        None => (days, time, None),
        Some(offset) => {
            let local = i64::from(time.seconds) + offset;
            let time = TimeOfDay {
                seconds: local.rem_euclid(SECONDS_PER_DAY) as u32,
                nanos: time.nanos,
            };
            (days + local.div_euclid(SECONDS_PER_DAY), time, Some(offset))
        }
    })
}

fn write_timestamp(
    value: i64,
    units_per_second: i64,
    digits: u32,
    dates_only: bool,
    zone: &Option<Zone>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let (days, time, offset) = local_time(value, units_per_second, zone)?;
    Date::from_days(days).write(out);
    if dates_only {
        return Ok(());
    }
    out.push(b' ');
    time.write_hms(out);
    civil::write_fraction(out, time.nanos, digits);
    if let Some(offset) = offset {
        write_offset(offset, out);
    }
    Ok(())
}

/// The offset from UTC in `tz` at `seconds` since the epoch.
fn named_offset(tz: &jiff::tz::TimeZone, seconds: i64) -> Result<i64, String> {
    let instant = jiff::Timestamp::from_second(seconds).map_err(|_| {
        format!(
            "timestamp {seconds} s from 1970 is beyond the years 9999 BC to 9999 AD whose \
             offset in time zone {} is known",
            tz.iana_name().unwrap_or("?")
        )
    })?;
    Ok(i64::from(tz.to_offset(instant).seconds()))
}

/// Python's `+HH:MM`, with `:SS` when the offset has seconds.
fn write_offset(offset: i64, out: &mut Vec<u8>) {
    let sign = if offset < 0 { '-' } else { '+' };
    let magnitude = offset.unsigned_abs();
    let _ = write!(
        out,
        "{sign}{:02}:{:02}",
        magnitude / 3_600,
        magnitude / 60 % 60
    );
    if magnitude % 60 != 0 {
        let _ = write!(out, ":{:02}", magnitude % 60);
    }
}

/// pandas `Timedelta`: `N days` for whole days, else
/// `N days HH:MM:SS[.ffffff[fff]]`, the days rounded down (`-1 days +23:59:59`).
fn write_duration(nanos: i128, digits: u32, days_only: bool, out: &mut Vec<u8>) {
    let days = nanos.div_euclid(NANOS_PER_DAY);
    let _ = write!(out, "{days} days");
    if days_only {
        return;
    }
    out.extend_from_slice(if nanos < 0 { b" +" } else { b" " });
    let remainder = nanos.rem_euclid(NANOS_PER_DAY);
    let time = TimeOfDay {
        seconds: (remainder / 1_000_000_000) as u32,
        nanos: (remainder % 1_000_000_000) as u32,
    };
    time.write_hms(out);
    civil::write_fraction(out, time.nanos, digits);
}

/// Python `str(Decimal)` of `unscaled` × 10^-`scale`.
fn write_decimal(unscaled: &str, scale: i8, out: &mut Vec<u8>) {
    let (negative, coefficient) = match unscaled.strip_prefix('-') {
        Some(digits) => (true, digits),
        None => (false, unscaled),
    };
    if negative {
        out.push(b'-');
    }
    let exponent = -i64::from(scale);
    let length = coefficient.len() as i64;
    let adjusted = exponent + length - 1;
    if exponent <= 0 && adjusted >= -6 {
        let point = length + exponent;
        if exponent == 0 {
            out.extend_from_slice(coefficient.as_bytes());
        } else if point > 0 {
            let (int_part, frac_part) = coefficient.split_at(point as usize);
            let _ = write!(out, "{int_part}.{frac_part}");
        } else {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(coefficient.as_bytes());
        }
    } else {
        let (first, rest) = coefficient.split_at(1);
        out.extend_from_slice(first.as_bytes());
        if !rest.is_empty() {
            let _ = write!(out, ".{rest}");
        }
        let sign = if adjusted >= 0 { "+" } else { "-" };
        let _ = write!(out, "E{sign}{}", adjusted.abs());
    }
}

/// Python `repr(bytes)`: `b'...'` (or `b"..."` when only that avoids
/// escaping a quote), printable ASCII as itself, `\t \n \r \\` and `\xNN`.
fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    out.push(b'b');
    out.push(quote);
    for &byte in bytes {
        match byte {
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            _ if byte == quote => out.extend_from_slice(&[b'\\', byte]),
            0x20..=0x7e => out.push(byte),
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
    out.push(quote);
}
