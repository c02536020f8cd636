//! Money: an amount in yuan, written as a decimal string (`"20000000.00"`), held as whole fen.
//!
//! No floating point anywhere: the text is parsed digit by digit into a `u64` of fen, and
//! written back with exactly two decimals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest amount accepted, in fen: 100,000,000,000.00 yuan (一千亿元). Sums of many of them
/// stay far below 2^53, the largest integer the ledger's JSON carries exactly.
pub const AMOUNT_FEN_MAX: u64 = 10_000_000_000_000;

const _: () = assert!(AMOUNT_FEN_MAX < (1 << 53) / 100);

/// An amount of money in yuan, more than zero and at most [`AMOUNT_FEN_MAX`] fen.
///
/// # Examples
///
/// ```
/// use aggregates::money::Yuan;
///
/// let amount: Yuan = "20000000.5".parse()?;
/// assert_eq!(amount.fen(), 2_000_000_050);
/// assert_eq!(amount.to_string(), "20000000.50");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Yuan {
    fen: u64,
}

/// Why a text is not an amount in yuan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{text:?} is not an amount in yuan: write digits with at most two decimals, like 12345.67, \
     more than 0 and at most 100000000000.00"
)]
pub struct ParseYuanError {
    text: String,
}

impl Yuan {
    /// The amount of `fen` fen, if it is more than zero and at most [`AMOUNT_FEN_MAX`].
    pub fn from_fen(fen: u64) -> Option<Yuan> {
        (1..=AMOUNT_FEN_MAX).contains(&fen).then_some(Yuan { fen })
    }

    /// The amount in fen.
    pub fn fen(self) -> u64 {
        self.fen
    }

    /// `self + other`, if the sum is still at most [`AMOUNT_FEN_MAX`].
    pub fn checked_add(self, other: Yuan) -> Option<Yuan> {
        self.fen.checked_add(other.fen).and_then(Yuan::from_fen)
    }
}

impl FromStr for Yuan {
    type Err = ParseYuanError;

    /// Parses `123`, `123.4` or `123.45`: ASCII digits, at most 12 before the point, at most two
    /// after it. No sign, no exponent, no separators, no spaces.
    fn from_str(text: &str) -> Result<Yuan, ParseYuanError> {
        let refuse = || ParseYuanError {
            text: text.chars().take(40).collect(),
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        let shape_ok = !whole.is_empty()
            && whole.len() <= 12
            && digits(whole)
            && fraction.len() <= 2
            && digits(fraction)
            && !(text.ends_with('.'));
        if !shape_ok {
            return Err(refuse());
        }
        let whole: u64 = whole.parse().map_err(|_| refuse())?;
        let cents = format!("{fraction:0<2}");
        let cents: u64 = cents.parse().map_err(|_| refuse())?;
        let fen = whole
            .checked_mul(100)
            .and_then(|fen| fen.checked_add(cents))
            .ok_or_else(refuse)?;
        Yuan::from_fen(fen).ok_or_else(refuse)
    }
}

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.fen / 100, self.fen % 100)
    }
}

impl Serialize for Yuan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Yuan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Yuan, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parses_whole_and_decimal_amounts_and_writes_two_decimals() {
        let cases = [
            ("1", 100, "1.00"),
            ("0.01", 1, "0.01"),
            ("12345.6", 1_234_560, "12345.60"),
            ("20000000.00", 2_000_000_000, "20000000.00"),
            ("007.50", 750, "7.50"),
            ("100000000000", AMOUNT_FEN_MAX, "100000000000.00"),
        ];
        for (text, fen, written) in cases {
            let amount: Yuan = text.parse().expect(text);
            assert_eq!(amount.fen(), fen, "{text}");
            assert_eq!(amount.to_string(), written);
            assert_eq!(written.parse::<Yuan>(), Ok(amount));
        }
    }

    #[test]
    fn yuan_refuses_negatives_zero_floats_and_other_shapes() {
        let refused = [
            "",
            "0",
            "0.00",
            "-1",
            "+1",
            "1.234",
            "1e3",
            "1,000",
            " 1",
            "1 ",
            ".5",
            "5.",
            "1.2.3",
            "１",
            "100000000000.01",
            "9999999999999",
            "NaN",
            "1_000",
        ];
        for text in refused {
            assert!(text.parse::<Yuan>().is_err(), "{text:?} accepted");
        }
    }

    #[test]
    fn yuan_serialises_as_a_string_and_refuses_a_json_number() {
        let amount: Yuan = "1.5".parse().expect("valid");
        assert_eq!(serde_json::to_string(&amount).expect("ok"), "\"1.50\"");
        assert!(serde_json::from_str::<Yuan>("1.5").is_err());
        assert_eq!(
            serde_json::from_str::<Yuan>("\"1.50\"").expect("ok"),
            amount
        );
    }

    #[test]
    fn yuan_sums_stay_within_the_limit() {
        let max = Yuan::from_fen(AMOUNT_FEN_MAX).expect("the limit is allowed");
        let one = Yuan::from_fen(1).expect("one fen");
        assert_eq!(max.checked_add(one), None);
        assert_eq!(one.checked_add(one).map(Yuan::fen), Some(2));
        assert_eq!(Yuan::from_fen(0), None);
    }
}
