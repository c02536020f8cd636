//! Known answers from outside the project (copied from `shared/vectors` into `tests/data/vectors`,
//! licences beside them): RFC 8785 canonical JSON.

use std::path::{Path, PathBuf};

use infra::canonical::{to_canonical_bytes, CanonicalError};
use libtest_mimic::{Failed, Trial};
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors")
}

pub fn trials() -> Vec<Trial> {
    [
        "arrays",
        "french",
        "structures",
        "unicode",
        "values",
        "weird",
    ]
    .into_iter()
    .map(|name| Trial::test(format!("vectors::jcs::{name}"), move || check_jcs(name)))
    .collect()
}

/// True when every number in the value is an integer a record may hold.
fn only_record_numbers(value: &Value) -> bool {
    match value {
        Value::Number(number) => number
            .as_i64()
            .map(|n| n.unsigned_abs())
            .or(number.as_u64())
            .is_some_and(|n| n <= infra::canonical::INTEGER_ABS_MAX),
        Value::Array(items) => items.iter().all(only_record_numbers),
        Value::Object(members) => members.values().all(only_record_numbers),
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

/// A vector whose numbers a record can hold must come out byte for byte as the expected output
/// (and its hex); one with fractions or exponents must be refused, because records carry none.
fn check_jcs(name: &str) -> Result<(), Failed> {
    let read = |folder: &str, extension: &str| {
        std::fs::read(vectors().join(format!("jcs/{folder}/{name}.{extension}")))
            .map_err(|error| Failed::from(format!("{folder}/{name}: {error}")))
    };
    let input: Value = serde_json::from_slice(&read("input", "json")?)?;
    let canonical = to_canonical_bytes(&input);
    if only_record_numbers(&input) {
        let canonical = canonical.map_err(|error| format!("{name}: {error}"))?;
        let expected = read("output", "json")?;
        assert_eq!(
            String::from_utf8_lossy(&canonical),
            String::from_utf8_lossy(&expected)
        );
        let expected_hex: String = String::from_utf8(read("outhex", "txt")?)?
            .split_whitespace()
            .collect::<String>()
            .to_lowercase();
        assert_eq!(hex::encode(&canonical), expected_hex);
    } else {
        assert!(
            matches!(canonical, Err(CanonicalError::NumberOutOfRange(_))),
            "{name}: a vector with non-integer numbers must be refused, got {canonical:?}"
        );
    }
    Ok(())
}
