//! Field checks shared by the commands, and the limits they enforce.
//!
//! Every limit is a named constant, counted in characters (Unicode scalar values, not bytes).
//! A check returns a [`FieldError`] naming the field (a JSON path such as `deputies[2].id`, with
//! 0-based indexes) and what was wrong; the aggregate wraps it with the item's id.

use std::collections::BTreeSet;

use jiff::tz::TimeZone;

use crate::time::BusinessTime;

/// The longest id (item, deputy, leader, commitment, actor), in characters.
pub const ID_CHARS_MAX: usize = 64;
/// The longest item title, in characters.
pub const TITLE_CHARS_MAX: usize = 200;
/// The longest free text (body, answer text, reason, note, comment, summary), in characters.
pub const TEXT_CHARS_MAX: usize = 20_000;
/// The longest name of a person, in characters.
pub const NAME_CHARS_MAX: usize = 100;
/// The longest name of a unit or organ (lead unit, co-unit, redirect target), in characters.
pub const UNIT_CHARS_MAX: usize = 200;
/// The longest case number (案号), in characters.
pub const CASE_NO_CHARS_MAX: usize = 100;
/// The longest answer document number (文号), in characters.
pub const DOC_NO_CHARS_MAX: usize = 100;
/// The longest commitment text, in characters.
pub const COMMITMENT_TEXT_CHARS_MAX: usize = 2_000;
/// The most deputies one item may name.
pub const DEPUTIES_MAX: usize = 50;
/// The most cases one item may name.
pub const CASES_MAX: usize = 50;
/// The most co-units one assignment may name.
pub const CO_UNITS_MAX: usize = 20;
/// The most commitments one answer may make.
pub const COMMITMENTS_MAX: usize = 50;
/// The earliest year (of the local date in the ledger's time zone) a command's `at` may have.
pub const AT_YEAR_MIN: i16 = 1970;
/// The latest year a command's `at` may have; it keeps every computed due date far from the end
/// of the representable calendar (year 9999).
pub const AT_YEAR_MAX: i16 = 9000;

const _: () = assert!(AT_YEAR_MIN < AT_YEAR_MAX);
const _: () = assert!(AT_YEAR_MAX < 9999);

/// What is wrong with one field of a command. Its stable code is always
/// [`crate::error::ErrorCode::Invalid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A required text or list is empty, or a required text is only blanks.
    #[error("{field} must not be empty")]
    Empty {
        /// The field.
        field: String,
    },
    /// A text is longer than its limit.
    #[error("{field} is {chars} characters long, but at most {chars_max} are allowed")]
    TooLong {
        /// The field.
        field: String,
        /// Its length in characters.
        chars: usize,
        /// The limit.
        chars_max: usize,
    },
    /// An id has a character ids may not have.
    #[error(
        "{field} must consist of ASCII letters, digits, '-', '_', '/' and '.' only (1 to 64 of them), and not be '.' or '..'"
    )]
    BadId {
        /// The field.
        field: String,
    },
    /// A list has more entries than its limit.
    #[error("{field} has {count} entries, but at most {count_max} are allowed")]
    TooMany {
        /// The field.
        field: String,
        /// How many entries it has.
        count: usize,
        /// The limit.
        count_max: usize,
    },
    /// A list names the same value twice.
    #[error("{field} lists {value:?} more than once")]
    Repeated {
        /// The field.
        field: String,
        /// The value listed more than once.
        value: String,
    },
    /// An amount of money is not a decimal string in yuan within the limits.
    #[error(
        "{field} is {value:?}, but an amount is written in yuan with digits and at most two \
         decimals, like \"12345.60\": more than 0 and at most 100000000000.00"
    )]
    BadAmount {
        /// The field.
        field: String,
        /// The text given (at most 40 characters of it).
        value: String,
    },
    /// A time falls in a year outside the supported range.
    #[error("{field} falls in the year {year}, but only the years {year_min} to {year_max} are accepted")]
    YearOutOfRange {
        /// The field.
        field: String,
        /// The year of its local date.
        year: i16,
        /// The earliest year accepted.
        year_min: i16,
        /// The latest year accepted.
        year_max: i16,
    },
}

impl FieldError {
    /// The message in Chinese (the same facts as the English `Display`).
    pub fn message_zh(&self) -> String {
        match self {
            FieldError::Empty { field } => format!("{field} 不能为空"),
            FieldError::TooLong {
                field,
                chars,
                chars_max,
            } => format!("{field} 长 {chars} 个字符，最多允许 {chars_max} 个"),
            FieldError::BadId { field } => {
                format!("{field} 只能由英文字母、数字和 - _ / . 组成（1 至 {ID_CHARS_MAX} 个字符），且不能是 . 或 ..")
            }
            FieldError::TooMany {
                field,
                count,
                count_max,
            } => format!("{field} 有 {count} 项，最多允许 {count_max} 项"),
            FieldError::Repeated { field, value } => format!("{field} 中 {value:?} 重复出现"),
            FieldError::BadAmount { field, value } => format!(
                "{field} 为 {value:?}；金额以元为单位，只能写数字且最多两位小数（如 \"12345.60\"），须大于 0 且不超过 100000000000.00"
            ),
            FieldError::YearOutOfRange {
                field,
                year,
                year_min,
                year_max,
            } => format!("{field} 的年份为 {year}，只接受 {year_min} 年至 {year_max} 年"),
        }
    }
}

/// Whether `c` may appear in an id.
fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.')
}

/// Checks an id: 1 to [`ID_CHARS_MAX`] characters, each an ASCII letter or digit, `-`, `_`, `/`
/// or `.`; and not `.` or `..`, which a link to the id's page could not carry (a URL reads them
/// as "here" and "up", however they are encoded).
///
/// # Errors
///
/// [`FieldError::Empty`], [`FieldError::TooLong`] or [`FieldError::BadId`].
pub fn id(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(FieldError::Empty {
            field: field.to_owned(),
        });
    }
    let chars = value.chars().count();
    if chars > ID_CHARS_MAX {
        return Err(FieldError::TooLong {
            field: field.to_owned(),
            chars,
            chars_max: ID_CHARS_MAX,
        });
    }
    if !value.chars().all(is_id_char) || value == "." || value == ".." {
        return Err(FieldError::BadId {
            field: field.to_owned(),
        });
    }
    Ok(())
}

/// Checks a required text: not empty, not only blanks, and at most `chars_max` characters.
///
/// # Errors
///
/// [`FieldError::Empty`] or [`FieldError::TooLong`].
pub fn required_text(field: &str, value: &str, chars_max: usize) -> Result<(), FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::Empty {
            field: field.to_owned(),
        });
    }
    optional_text(field, value, chars_max)
}

/// Checks an optional text: at most `chars_max` characters (it may be empty).
///
/// # Errors
///
/// [`FieldError::TooLong`].
pub fn optional_text(field: &str, value: &str, chars_max: usize) -> Result<(), FieldError> {
    let chars = value.chars().count();
    if chars > chars_max {
        return Err(FieldError::TooLong {
            field: field.to_owned(),
            chars,
            chars_max,
        });
    }
    Ok(())
}

/// Checks that a list has at most `count_max` entries.
///
/// # Errors
///
/// [`FieldError::TooMany`].
pub fn count(field: &str, count: usize, count_max: usize) -> Result<(), FieldError> {
    if count > count_max {
        return Err(FieldError::TooMany {
            field: field.to_owned(),
            count,
            count_max,
        });
    }
    Ok(())
}

/// Checks that no value appears twice in `values`.
///
/// # Errors
///
/// [`FieldError::Repeated`] naming the first value seen twice.
pub fn unique<'a>(
    field: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> Result<(), FieldError> {
    let mut seen = BTreeSet::new();
    for value in values {
        if !seen.insert(value) {
            return Err(FieldError::Repeated {
                field: field.to_owned(),
                value: value.to_owned(),
            });
        }
    }
    Ok(())
}

/// Parses an amount of money in yuan.
///
/// # Errors
///
/// [`FieldError::BadAmount`].
pub fn amount(field: &str, value: &str) -> Result<crate::money::Yuan, FieldError> {
    value.parse().map_err(|_| FieldError::BadAmount {
        field: field.to_owned(),
        value: value.chars().take(40).collect(),
    })
}

/// Checks that the local date of `at` in `time_zone` falls in [`AT_YEAR_MIN`]..=[`AT_YEAR_MAX`].
///
/// # Errors
///
/// [`FieldError::YearOutOfRange`].
pub fn at_year(field: &str, at: &BusinessTime, time_zone: &TimeZone) -> Result<(), FieldError> {
    let year = at.local_date(time_zone).year();
    if !(AT_YEAR_MIN..=AT_YEAR_MAX).contains(&year) {
        return Err(FieldError::YearOutOfRange {
            field: field.to_owned(),
            year,
            year_min: AT_YEAR_MIN,
            year_max: AT_YEAR_MAX,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_accepts_ascii_letters_digits_and_four_punctuation_marks() {
        assert_eq!(id("item_id", "2024-S-001"), Ok(()));
        assert_eq!(id("item_id", "a/b.c_d-E9"), Ok(()));
        assert_eq!(id("item_id", &"x".repeat(ID_CHARS_MAX)), Ok(()));
    }

    #[test]
    fn id_refuses_empty_too_long_and_other_characters() {
        assert_eq!(
            id("item_id", ""),
            Err(FieldError::Empty {
                field: "item_id".into()
            })
        );
        assert_eq!(
            id("item_id", &"x".repeat(ID_CHARS_MAX + 1)),
            Err(FieldError::TooLong {
                field: "item_id".into(),
                chars: 65,
                chars_max: 64
            })
        );
        for bad in ["a b", "a:b", "甲", "a\nb", "a+b", "é", ".", ".."] {
            assert_eq!(
                id("item_id", bad),
                Err(FieldError::BadId {
                    field: "item_id".into()
                })
            );
        }
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        let title = "回".repeat(TITLE_CHARS_MAX);
        assert_eq!(required_text("title", &title, TITLE_CHARS_MAX), Ok(()));
        let title = "回".repeat(TITLE_CHARS_MAX + 1);
        assert_eq!(
            required_text("title", &title, TITLE_CHARS_MAX),
            Err(FieldError::TooLong {
                field: "title".into(),
                chars: 201,
                chars_max: 200
            })
        );
    }

    #[test]
    fn required_text_refuses_empty_and_blank() {
        for blank in ["", "   ", "\n\t", "\u{3000}"] {
            assert_eq!(
                required_text("title", blank, TITLE_CHARS_MAX),
                Err(FieldError::Empty {
                    field: "title".into()
                })
            );
        }
        assert_eq!(optional_text("note", "", TEXT_CHARS_MAX), Ok(()));
    }

    #[test]
    fn unique_names_the_first_repeated_value() {
        assert_eq!(unique("co_units", ["a", "b", "c"]), Ok(()));
        assert_eq!(
            unique("co_units", ["a", "b", "a", "b"]),
            Err(FieldError::Repeated {
                field: "co_units".into(),
                value: "a".into()
            })
        );
    }

    #[test]
    fn count_allows_the_limit_and_refuses_one_more() {
        assert_eq!(count("deputies", DEPUTIES_MAX, DEPUTIES_MAX), Ok(()));
        assert_eq!(
            count("deputies", DEPUTIES_MAX + 1, DEPUTIES_MAX),
            Err(FieldError::TooMany {
                field: "deputies".into(),
                count: 51,
                count_max: 50
            })
        );
    }

    #[test]
    fn at_year_checks_the_local_year() {
        let tz = TimeZone::fixed(jiff::tz::Offset::constant(8));
        let ok: BusinessTime = "1969-12-31T16:00:00Z".parse().expect("valid");
        assert_eq!(
            at_year("at", &ok, &tz),
            Ok(()),
            "local time 1970-01-01T00:00+08:00"
        );
        let early: BusinessTime = "1969-12-31T15:59:59Z".parse().expect("valid");
        assert!(at_year("at", &early, &tz).is_err());
        let late: BusinessTime = "9001-01-01T00:00:00+08:00".parse().expect("valid");
        assert_eq!(
            at_year("at", &late, &tz),
            Err(FieldError::YearOutOfRange {
                field: "at".into(),
                year: 9001,
                year_min: AT_YEAR_MIN,
                year_max: AT_YEAR_MAX
            })
        );
    }
}
