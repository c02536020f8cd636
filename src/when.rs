//! Reading "as of" and "now" moments, as the CLI's `--as-of`/`--now` and the API's `as_of`/`now`
//! give them.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Where a replay stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// Records 0..=position.
    Position(u64),
    /// Records with `recorded_at` at or before this instant.
    Time(Timestamp),
}

/// A moment that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    /// Neither an RFC 3339 time nor a date (nor, for as-of, a position).
    #[error(
        "{text:?} is neither an RFC 3339 time with an offset (2024-03-01T09:00:00+08:00) nor a \
         date (2024-03-01){also}"
    )]
    Unreadable {
        /// What was given.
        text: String,
        /// What else would have been accepted, as words to append.
        also: &'static str,
    },
    /// A date whose end of day cannot be placed in the time zone.
    #[error("{text:?} is out of range: {reason}")]
    OutOfRange {
        /// What was given.
        text: String,
        /// Why.
        reason: String,
    },
}

/// An as-of: a position (a number) or a moment.
///
/// # Errors
/// [`WhenError`] when the text is neither.
pub fn parse_as_of(text: &str, time_zone: &TimeZone) -> Result<AsOf, WhenError> {
    if let Ok(position) = text.parse::<u64>() {
        return Ok(AsOf::Position(position));
    }
    parse_moment(text, time_zone)
        .map(AsOf::Time)
        .map_err(|error| match error {
            WhenError::Unreadable { text, .. } => WhenError::Unreadable {
                text,
                also: ", nor a position (a number)",
            },
            other => other,
        })
}

/// An RFC 3339 instant, or a local date meaning the end of that day in the ledger's time zone.
///
/// # Errors
/// [`WhenError`] when the text is neither.
pub fn parse_moment(text: &str, time_zone: &TimeZone) -> Result<Timestamp, WhenError> {
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(timestamp);
    }
    if let Ok(date) = text.parse::<Date>() {
        let end_of_day = date.at(23, 59, 59, 999_999_999);
        return end_of_day
            .to_zoned(time_zone.clone())
            .map(|zoned| zoned.timestamp())
            .map_err(|error| WhenError::OutOfRange {
                text: text.to_owned(),
                reason: error.to_string(),
            });
    }
    Err(WhenError::Unreadable {
        text: text.to_owned(),
        also: "",
    })
}

/// What a read asks for: the log as of a moment (or live), judged at a moment (or the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadAt {
    /// Replay up to here; `None` reads the live projection tables.
    pub as_of: Option<AsOf>,
    /// When due-soon and overdue are judged; `None` means the as-of moment, else now.
    pub now: Option<Timestamp>,
}

impl ReadAt {
    /// Reads the `as_of` and `now` texts a user gave, either of them optional.
    ///
    /// # Errors
    /// [`WhenError`] naming the text that could not be read.
    pub fn parse(
        as_of: Option<&str>,
        now: Option<&str>,
        time_zone: &TimeZone,
    ) -> Result<Self, WhenError> {
        Ok(ReadAt {
            as_of: as_of.map(|text| parse_as_of(text, time_zone)).transpose()?,
            now: now.map(|text| parse_moment(text, time_zone)).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_reads_positions_times_and_dates() {
        let zone = TimeZone::get("Asia/Shanghai").expect("zone");
        assert_eq!(parse_as_of("12", &zone), Ok(AsOf::Position(12)));
        let moment: Timestamp = "2024-03-01T01:00:00Z".parse().expect("time");
        assert_eq!(
            parse_as_of("2024-03-01T09:00:00+08:00", &zone),
            Ok(AsOf::Time(moment))
        );
        let end_of_day: Timestamp = "2024-03-01T15:59:59.999999999Z".parse().expect("time");
        assert_eq!(parse_moment("2024-03-01", &zone), Ok(end_of_day));
        let error = parse_as_of("yesterday", &zone).expect_err("not a moment");
        assert!(error.to_string().contains("position"), "{error}");
        assert!(parse_moment("yesterday", &zone).is_err());
    }
}
