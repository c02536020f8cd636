//! Business time: the `at` a command carries (DESIGN.md §3, §4).
//!
//! A [`BusinessTime`] is an instant together with the UTC offset it was written with, so that the
//! ledger records `"2024-03-01T09:00:00+08:00"` exactly as the command said it. Deadlines are
//! computed from its local date in the ledger's time zone ([`BusinessTime::local_date`]), never
//! from the offset it happens to be written with.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::fmt::temporal::DateTimePrinter;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How many digits of fractional seconds an RFC 3339 time may have here (nanosecond precision).
pub const FRACTION_DIGITS_MAX: u8 = 9;

/// How many characters of a rejected input an error message repeats.
const ERROR_INPUT_CHARS_MAX: usize = 64;

/// The `at` of a command: an instant with the UTC offset it was written with.
///
/// It is parsed from RFC 3339 with an explicit offset (`"2024-03-01T09:00:00+08:00"` or
/// `"2024-03-01T01:00:00Z"`) and displayed (and serialised) the same way: the same offset (`Z`
/// stays `Z`, `+00:00` stays `+00:00`), seconds precision, and as many fractional digits as the
/// input had (`.125`, `.500`, `.000`), none if it had none. So for every input written with an
/// upper-case `T` and `Z`, display gives back the input exactly. Three forms are normalised: a
/// lower-case `t` or `z` and a space separator print as `T` and `Z`, `-00:00` prints as `+00:00`,
/// and a leap second `:60` is clamped to `:59`.
///
/// Equality compares the written form: the same instant written with two offsets gives two
/// unequal values. Compare [`BusinessTime::timestamp`] to compare instants.
///
/// # Examples
///
/// ```
/// use aggregates::time::BusinessTime;
///
/// let at: BusinessTime = "2024-03-01T09:00:00+08:00".parse()?;
/// assert_eq!(at.to_string(), "2024-03-01T09:00:00+08:00");
/// assert_eq!(at.timestamp().to_string(), "2024-03-01T01:00:00Z");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BusinessTime {
    timestamp: Timestamp,
    offset: Offset,
    /// Whether the offset is written `Z` rather than `+00:00`; only ever true for a zero offset.
    zulu: bool,
    /// How many fractional-second digits are written, at most [`FRACTION_DIGITS_MAX`].
    fraction_digits: u8,
}

impl BusinessTime {
    /// The business time of `timestamp` written with `offset`.
    ///
    /// A zero offset is written `Z`. Fractional seconds are written with as few digits as show
    /// the instant exactly, and not at all when it falls on a whole second.
    pub fn from_timestamp(timestamp: Timestamp, offset: Offset) -> BusinessTime {
        let nanosecond = offset.to_datetime(timestamp).subsec_nanosecond();
        BusinessTime {
            timestamp,
            offset,
            zulu: offset == Offset::UTC,
            fraction_digits: fraction_digits_needed(nanosecond),
        }
    }

    /// The instant.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The UTC offset the time was written with.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// The local date of this instant in the time zone `tz` (the ledger's, for deadlines).
    pub fn local_date(&self, tz: &TimeZone) -> Date {
        tz.to_datetime(self.timestamp).date()
    }
}

/// The fewest fractional digits that write `nanosecond` (0 to 999,999,999) exactly.
fn fraction_digits_needed(nanosecond: i32) -> u8 {
    if nanosecond == 0 {
        return 0;
    }
    let mut digits = FRACTION_DIGITS_MAX;
    let mut rest = nanosecond;
    while rest % 10 == 0 {
        rest /= 10;
        digits -= 1;
    }
    digits
}

impl fmt::Display for BusinessTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let printer = DateTimePrinter::new().precision(Some(self.fraction_digits));
        let mut text = String::with_capacity(40);
        let printed = if self.zulu {
            printer.print_timestamp(&self.timestamp, &mut text)
        } else {
            printer.print_timestamp_with_offset(&self.timestamp, self.offset, &mut text)
        };
        printed.map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// The error of parsing a [`BusinessTime`] from text that is not RFC 3339 with an offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not an RFC 3339 time with an offset (like 2024-03-01T09:00:00+08:00): {reason}"
)]
pub struct ParseBusinessTimeError {
    input: String,
    reason: String,
}

impl ParseBusinessTimeError {
    fn new(input: &str, reason: impl Into<String>) -> ParseBusinessTimeError {
        ParseBusinessTimeError {
            input: input.chars().take(ERROR_INPUT_CHARS_MAX).collect(),
            reason: reason.into(),
        }
    }

    /// Why the text was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The parts of an RFC 3339 time that jiff's (more lenient) parser does not report.
struct Rfc3339Shape {
    fraction_digits: u8,
    /// `None` for `Z`, else the offset in seconds east of UTC.
    offset_seconds: Option<i32>,
}

/// Checks that `input` has the shape `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, leaving the
/// calendar checks (month 13, February 30) to jiff.
fn parse_shape(input: &str) -> Result<Rfc3339Shape, &'static str> {
    let bytes = input.as_bytes();
    let digit = |index: usize| bytes.get(index).is_some_and(u8::is_ascii_digit);
    let byte_is =
        |index: usize, allowed: &[u8]| bytes.get(index).is_some_and(|b| allowed.contains(b));
    let date_time_ok = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        .into_iter()
        .all(digit)
        && byte_is(4, b"-")
        && byte_is(7, b"-")
        && byte_is(10, b"Tt ")
        && byte_is(13, b":")
        && byte_is(16, b":");
    if !date_time_ok {
        return Err("expected a date and time written YYYY-MM-DDTHH:MM:SS");
    }
    let mut index = 19;
    let mut fraction_digits: u8 = 0;
    if byte_is(index, b".") {
        index += 1;
        while digit(index) {
            index += 1;
            fraction_digits = fraction_digits.saturating_add(1);
        }
        if !(1..=FRACTION_DIGITS_MAX).contains(&fraction_digits) {
            return Err("fractional seconds need 1 to 9 digits after the '.'");
        }
    }
    let offset = &bytes[index..];
    match offset {
        [] => Err("the UTC offset is missing; end the time with Z or ±HH:MM"),
        [b'Z' | b'z'] => Ok(Rfc3339Shape {
            fraction_digits,
            offset_seconds: None,
        }),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) =>
        {
            let hours = i32::from(h1 - b'0') * 10 + i32::from(h2 - b'0');
            let minutes = i32::from(m1 - b'0') * 10 + i32::from(m2 - b'0');
            if !(hours <= 23 && minutes <= 59) {
                return Err("the UTC offset must be at most 23:59");
            }
            let sign = if *sign == b'-' { -1 } else { 1 };
            let offset_seconds = Some(sign * (hours * 3600 + minutes * 60));
            Ok(Rfc3339Shape {
                fraction_digits,
                offset_seconds,
            })
        }
        _ => Err("the UTC offset must be Z or ±HH:MM, with nothing after it"),
    }
}

impl FromStr for BusinessTime {
    type Err = ParseBusinessTimeError;

    fn from_str(input: &str) -> Result<BusinessTime, ParseBusinessTimeError> {
        let shape =
            parse_shape(input).map_err(|reason| ParseBusinessTimeError::new(input, reason))?;
        let timestamp: Timestamp = input
            .parse()
            .map_err(|error: jiff::Error| ParseBusinessTimeError::new(input, error.to_string()))?;
        let (offset, zulu) = match shape.offset_seconds {
            None => (Offset::UTC, true),
            Some(seconds) => {
                let offset = Offset::from_seconds(seconds)
                    .map_err(|error| ParseBusinessTimeError::new(input, error.to_string()))?;
                (offset, false)
            }
        };
        Ok(BusinessTime {
            timestamp,
            offset,
            zulu,
            fraction_digits: shape.fraction_digits,
        })
    }
}

impl Serialize for BusinessTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BusinessTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<BusinessTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn parse(text: &str) -> BusinessTime {
        text.parse()
            .unwrap_or_else(|error| panic!("{text} should parse: {error}"))
    }

    #[test]
    fn business_time_display_round_trips_typical_inputs_exactly() {
        let inputs = [
            "2024-03-01T09:00:00+08:00",
            "2024-03-01T01:00:00Z",
            "2024-03-01T01:00:00+00:00",
            "2024-03-01T01:00:03.125Z",
            "2024-03-01T01:00:03.500Z",
            "2024-03-01T01:00:03.000Z",
            "2024-03-01T09:00:00.000000001+08:00",
            "2024-03-01T09:00:00.123456789+08:00",
            "2023-12-31T23:59:59-05:30",
            "2024-02-29T00:00:00+14:00",
            "1999-01-01T00:00:00-12:00",
        ];
        for input in inputs {
            assert_eq!(parse(input).to_string(), input);
        }
    }

    #[test]
    fn business_time_serde_is_the_rfc3339_string() {
        let at = parse("2024-03-01T09:00:00+08:00");
        let json = serde_json::to_string(&at).expect("serialises");
        assert_eq!(json, "\"2024-03-01T09:00:00+08:00\"");
        let back: BusinessTime = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, at);
        assert!(serde_json::from_str::<BusinessTime>("\"2024-03-01T09:00:00\"").is_err());
        assert!(serde_json::from_str::<BusinessTime>("1709254800").is_err());
    }

    #[test]
    fn business_time_keeps_the_instant_and_the_offset() {
        let at = parse("2024-03-01T09:00:00+08:00");
        assert_eq!(at.timestamp(), parse("2024-03-01T01:00:00Z").timestamp());
        assert_eq!(at.offset(), Offset::constant(8));
        assert_ne!(
            at,
            parse("2024-03-01T01:00:00Z"),
            "equality compares the written form"
        );
    }

    #[test]
    fn business_time_local_date_uses_the_given_time_zone_not_the_offset() {
        let shanghai = TimeZone::get("Asia/Shanghai").expect("bundled tzdb");
        let late_utc = parse("2024-03-04T23:30:00Z");
        assert_eq!(late_utc.local_date(&shanghai), date(2024, 3, 5));
        assert_eq!(late_utc.local_date(&TimeZone::UTC), date(2024, 3, 4));
        let early_beijing = parse("2024-03-05T00:10:00+08:00");
        assert_eq!(early_beijing.local_date(&shanghai), date(2024, 3, 5));
    }

    #[test]
    fn business_time_normalises_lenient_rfc3339_forms() {
        assert_eq!(
            parse("2024-03-01t09:00:00z").to_string(),
            "2024-03-01T09:00:00Z"
        );
        assert_eq!(
            parse("2024-03-01 09:00:00+08:00").to_string(),
            "2024-03-01T09:00:00+08:00"
        );
        assert_eq!(
            parse("2024-03-01T09:00:00-00:00").to_string(),
            "2024-03-01T09:00:00+00:00"
        );
    }

    #[test]
    fn business_time_refuses_anything_but_rfc3339_with_an_offset() {
        let refused = [
            "",
            "2024-03-01",
            "2024-03-01T09:00:00",
            "2024-03-01T09:00+08:00",
            "2024-03-01T09:00:00+0800",
            "2024-03-01T09:00:00+08",
            "20240301T090000Z",
            "2024-03-01T09:00:00.Z",
            "2024-03-01T09:00:00.1234567890Z",
            "2024-03-01T09:00:00,5Z",
            "2024-03-01T09:00:00+24:00",
            "2024-03-01T09:00:00+08:60",
            "2024-03-01T09:00:00+08:00[Asia/Shanghai]",
            "2024-03-01T09:00:00Z ",
            "2024-13-01T09:00:00Z",
            "2023-02-29T09:00:00Z",
            "2024-03-01T24:00:00Z",
            "２０24-03-01T09:00:00Z",
        ];
        for input in refused {
            assert!(
                input.parse::<BusinessTime>().is_err(),
                "{input:?} should be refused"
            );
        }
    }

    #[test]
    fn business_time_from_timestamp_writes_the_fewest_fraction_digits() {
        let whole = Timestamp::new(1_709_254_800, 0).expect("valid");
        assert_eq!(
            BusinessTime::from_timestamp(whole, Offset::constant(8)).to_string(),
            "2024-03-01T09:00:00+08:00"
        );
        assert_eq!(
            BusinessTime::from_timestamp(whole, Offset::UTC).to_string(),
            "2024-03-01T01:00:00Z"
        );
        let millis = Timestamp::new(1_709_254_803, 125_000_000).expect("valid");
        let at = BusinessTime::from_timestamp(millis, Offset::UTC);
        assert_eq!(at.to_string(), "2024-03-01T01:00:03.125Z");
        assert_eq!(parse(&at.to_string()), at);
        let before_epoch = Timestamp::new(-1, 500_000_000).expect("valid");
        let at = BusinessTime::from_timestamp(before_epoch, Offset::UTC);
        assert_eq!(at.to_string(), "1969-12-31T23:59:59.5Z");
    }
}
