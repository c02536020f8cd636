//! RFC 8785 JSON Canonicalization Scheme (JCS), restricted to the values a record can hold.
//!
//! A record's canonical bytes are what gets hashed and stored, so this module is written here
//! rather than taken from a library: its exact output is part of the ledger's contract, and it
//! is tested against the known answers in `shared/vectors/jcs`.
//!
//! Records carry no floating-point numbers (DESIGN.md §3: numbers are integers below 2^53, money
//! is a decimal string), so a number that is not such an integer is refused rather than
//! formatted. That keeps ECMAScript number formatting, the hardest part of JCS, out of the
//! ledger altogether.

use serde_json::Value;

/// The largest integer a record may carry: 2^53 − 1, the last integer every JSON reader
/// represents exactly.
pub const INTEGER_ABS_MAX: u64 = (1 << 53) - 1;

/// Nesting deeper than this is refused; records are a few levels deep.
pub const DEPTH_MAX: usize = 64;

/// Why a value has no canonical form in the record format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// A fraction, an exponent or an integer beyond ±(2^53 − 1).
    #[error("number {0} is not an integer within ±(2^53 − 1); records carry no other numbers")]
    NumberOutOfRange(String),
    /// Arrays and objects nested deeper than [`DEPTH_MAX`].
    #[error("value nested deeper than {DEPTH_MAX} levels")]
    TooDeep,
}

/// Serialises `value` as RFC 8785 canonical JSON (UTF-8 bytes).
///
/// # Errors
/// [`CanonicalError`] when the value holds a number the record format does not allow or is
/// nested too deeply.
pub fn to_canonical_bytes(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value, 0)?;
    Ok(out)
}

/// True when a member name may sort differently by UTF-16 code units than by UTF-8 bytes: it
/// holds a character at or above U+E000 (UTF-8 lead byte 0xEE or more).
fn needs_utf16_order(name: &str) -> bool {
    name.bytes().any(|byte| byte >= 0xee)
}

/// JCS member order: by UTF-16 code units. For names below U+E000 that is UTF-8 byte order,
/// compared without encoding anything.
fn jcs_order(a: &str, b: &str) -> std::cmp::Ordering {
    if needs_utf16_order(a) || needs_utf16_order(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.as_bytes().cmp(b.as_bytes())
    }
}

pub(crate) fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    depth: usize,
) -> Result<(), CanonicalError> {
    if depth > DEPTH_MAX {
        return Err(CanonicalError::TooDeep);
    }
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            // JCS orders members by the UTF-16 code units of their names, which differs from
            // UTF-8 byte order for characters above U+FFFF. The map usually iterates in that
            // order already (sorted by UTF-8 bytes, names below U+E000); only when it does not
            // are the members sorted.
            let in_order = members
                .keys()
                .zip(members.keys().skip(1))
                .all(|(a, b)| jcs_order(a, b).is_lt());
            out.push(b'{');
            if in_order {
                write_members(out, members.iter(), depth)?;
            } else {
                let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
                sorted.sort_by(|a, b| jcs_order(a.0, b.0));
                write_members(out, sorted.into_iter(), depth)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_members<'a>(
    out: &mut Vec<u8>,
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    depth: usize,
) -> Result<(), CanonicalError> {
    for (index, (name, member)) in members.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(out, name);
        out.push(b':');
        write_value(out, member, depth + 1)?;
    }
    Ok(())
}

/// Writes an unsigned integer, refusing one beyond [`INTEGER_ABS_MAX`].
pub(crate) fn write_unsigned(out: &mut Vec<u8>, number: u64) -> Result<(), CanonicalError> {
    if number > INTEGER_ABS_MAX {
        return Err(CanonicalError::NumberOutOfRange(number.to_string()));
    }
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    Ok(())
}

fn write_number(out: &mut Vec<u8>, number: &serde_json::Number) -> Result<(), CanonicalError> {
    let mut digits = itoa::Buffer::new();
    if let Some(unsigned) = number.as_u64() {
        if unsigned <= INTEGER_ABS_MAX {
            out.extend_from_slice(digits.format(unsigned).as_bytes());
            return Ok(());
        }
    } else if let Some(signed) = number.as_i64() {
        if signed.unsigned_abs() <= INTEGER_ABS_MAX {
            out.extend_from_slice(digits.format(signed).as_bytes());
            return Ok(());
        }
    }
    Err(CanonicalError::NumberOutOfRange(number.to_string()))
}

/// Writes a JSON string as ECMAScript's `JSON.stringify` does: the two-character escapes for
/// `"`, `\`, backspace, form feed, newline, carriage return and tab, `\u00xx` (lowercase hex)
/// for the other control characters, and every other character as its UTF-8 bytes.
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    // Most strings need no escape: copy them whole.
    if !text
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        return;
    }
    for character in text.chars() {
        match character {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            control if u32::from(control) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", u32::from(control)).as_bytes());
            }
            other => {
                let mut buffer = [0_u8; 4];
                out.extend_from_slice(other.encode_utf8(&mut buffer).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        String::from_utf8(to_canonical_bytes(&value).expect("canonical")).expect("utf-8")
    }

    #[test]
    fn members_are_sorted_by_utf16_code_units_not_utf8_bytes() {
        // U+1F602 is D83D DE02 in UTF-16, which sorts before U+FB33; in UTF-8 it sorts after.
        assert_eq!(
            canonical(json!({"\u{fb33}": 1, "\u{1f602}": 2})),
            "{\"😂\":2,\"דּ\":1}"
        );
    }

    #[test]
    fn control_characters_use_short_escapes_or_lowercase_hex() {
        let expected = format!("\"{}\u{7f}\"", r"\b\f\n\r\t\u000f\u001f");
        assert_eq!(
            canonical(json!("\u{8}\u{c}\n\r\t\u{f}\u{1f}\u{7f}")),
            expected
        );
    }

    #[test]
    fn integers_up_to_two_to_the_53_minus_one_are_written_and_beyond_refused() {
        assert_eq!(
            canonical(json!(9_007_199_254_740_991_u64)),
            "9007199254740991"
        );
        assert_eq!(
            canonical(json!(-9_007_199_254_740_991_i64)),
            "-9007199254740991"
        );
        assert!(to_canonical_bytes(&json!(9_007_199_254_740_992_u64)).is_err());
        assert!(to_canonical_bytes(&json!(-9_007_199_254_740_992_i64)).is_err());
        assert!(to_canonical_bytes(&json!(1.5)).is_err());
    }

    #[test]
    fn nesting_beyond_the_depth_limit_is_refused() {
        let mut value = json!(0);
        for _ in 0..=DEPTH_MAX {
            value = json!([value]);
        }
        assert_eq!(to_canonical_bytes(&value), Err(CanonicalError::TooDeep));
    }
}
