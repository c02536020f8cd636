//! Reading `--as-of` and `--now`.

use anyhow::{bail, Context};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// Where a replay stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsOf {
    /// Records 0..=position.
    Position(u64),
    /// Records with `recorded_at` at or before this instant.
    Time(Timestamp),
}

/// `--as-of POS|TIME`.
pub(crate) fn parse_as_of(text: &str, time_zone: &TimeZone) -> anyhow::Result<AsOf> {
    if let Ok(position) = text.parse::<u64>() {
        return Ok(AsOf::Position(position));
    }
    Ok(AsOf::Time(
        parse_moment(text, time_zone).context("--as-of takes a position or a time")?,
    ))
}

/// An RFC 3339 instant, or a local date meaning the end of that day in the ledger's time zone.
pub(crate) fn parse_moment(text: &str, time_zone: &TimeZone) -> anyhow::Result<Timestamp> {
    if let Ok(timestamp) = text.parse::<Timestamp>() {
        return Ok(timestamp);
    }
    if let Ok(date) = text.parse::<Date>() {
        let end_of_day = date.at(23, 59, 59, 999_999_999);
        return Ok(end_of_day.to_zoned(time_zone.clone())?.timestamp());
    }
    bail!("{text:?} is neither an RFC 3339 time with an offset (2024-03-01T09:00:00+08:00) nor a date (2024-03-01)")
}
