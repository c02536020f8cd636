//! Known answers from outside the project (copied from `shared/vectors` into `tests/data/vectors`,
//! licences beside them): RFC 8785 canonical JSON, and C2SP signed notes and checkpoints. The
//! RFC 6962 vectors are read by `merkle`.

use std::path::{Path, PathBuf};

use infra::canonical::{to_canonical_bytes, CanonicalError};
use infra::checkpoint::open_checkpoint;
use infra::note::{Note, SignerKey, VerifierKey};
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

// ---------------------------------------------------------------------------------------------
// Signed notes and checkpoints (`signed-note.json`): sign with the given seed and reproduce the
// signature line exactly; verify the given notes; refuse each of them with any one byte changed.

pub fn note_trials() -> Vec<Trial> {
    vec![
        Trial::test("vectors::signed_note::signing_reproduces_the_line", || {
            signing_reproduces_the_line()
        }),
        Trial::test("vectors::signed_note::given_notes_verify", || {
            given_notes_verify()
        }),
        Trial::test(
            "vectors::signed_note::one_byte_changed_anywhere_is_refused",
            one_byte_changed_anywhere_is_refused,
        ),
    ]
}

fn note_cases() -> Result<Vec<Value>, Failed> {
    let text = std::fs::read_to_string(vectors().join("signed-note.json"))?;
    let vectors: Value = serde_json::from_str(&text)?;
    Ok(vectors["cases"].as_array().ok_or("cases")?.clone())
}

fn text_of<'a>(case: &'a Value, key: &str) -> Result<&'a str, Failed> {
    Ok(case[key].as_str().ok_or_else(|| format!("{key} missing"))?)
}

/// The note a case describes: given whole, or as text and signature line.
fn note_of(case: &Value) -> Result<String, Failed> {
    match case.get("note") {
        Some(note) => Ok(note.as_str().ok_or("note")?.to_owned()),
        None => Ok(format!(
            "{}\n{}\n",
            text_of(case, "text")?,
            text_of(case, "signature_line")?
        )),
    }
}

fn signing_reproduces_the_line() -> Result<(), Failed> {
    let cases = note_cases()?;
    let case = &cases[0];
    let signer = SignerKey::parse(text_of(case, "signer_key")?)?;
    assert_eq!(signer.to_key_string(), text_of(case, "signer_key")?);
    assert_eq!(
        signer.verifier().to_string(),
        text_of(case, "verifier_key")?
    );
    let note = Note::sign(text_of(case, "text")?, &signer);
    assert_eq!(
        note.signatures()[0].line,
        format!("{}\n", text_of(case, "signature_line")?)
    );
    // The checkpoint case is the same seed under another name: sign the 8-leaf root and get the
    // given note byte for byte.
    let checkpoint_case = &cases[2];
    let seed_key = text_of(case, "signer_key")?
        .splitn(5, '+')
        .last()
        .ok_or("key")?;
    let verifier = VerifierKey::parse(text_of(checkpoint_case, "verifier_key")?)?;
    let renamed = SignerKey::parse(&format!(
        "PRIVATE+KEY+{}+{:08x}+{seed_key}",
        verifier.name(),
        verifier.key_id()
    ))?;
    let (checkpoint, _) = open_checkpoint(text_of(checkpoint_case, "note")?, Some(&verifier))?;
    assert_eq!(checkpoint.origin, "example.com/test-ledger");
    assert_eq!(checkpoint.tree_size, 8);
    assert_eq!(
        checkpoint.root.to_hex(),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    assert_eq!(
        checkpoint.sign(&renamed)?.to_string(),
        text_of(checkpoint_case, "note")?
    );
    Ok(())
}

fn given_notes_verify() -> Result<(), Failed> {
    for case in note_cases()? {
        let key = VerifierKey::parse(text_of(&case, "verifier_key")?)?;
        let note = Note::parse(&note_of(&case)?)?;
        note.verify(&key)
            .map_err(|error| format!("{}: {error}", case["name"]))?;
        assert_eq!(note.to_string(), note_of(&case)?);
    }
    Ok(())
}

fn one_byte_changed_anywhere_is_refused() -> Result<(), Failed> {
    for case in note_cases()? {
        let key = VerifierKey::parse(text_of(&case, "verifier_key")?)?;
        let note = note_of(&case)?;
        for offset in 0..note.len() {
            let mut bytes = note.clone().into_bytes();
            bytes[offset] ^= 0x01;
            let accepted = String::from_utf8(bytes)
                .ok()
                .and_then(|changed| Note::parse(&changed).ok())
                .is_some_and(|changed| changed.verify(&key).is_ok());
            assert!(
                !accepted,
                "{}: byte {offset} changed and accepted",
                case["name"]
            );
        }
        // A key with one byte changed does not verify the note either.
        let mut key_text = text_of(&case, "verifier_key")?.to_owned().into_bytes();
        let last = key_text.len() - 2;
        key_text[last] ^= 0x01;
        let changed_key = String::from_utf8(key_text)?;
        let verified = VerifierKey::parse(&changed_key)
            .ok()
            .is_some_and(|changed| Note::parse(&note).is_ok_and(|n| n.verify(&changed).is_ok()));
        assert!(!verified, "{}: a changed key verified", case["name"]);
    }
    Ok(())
}
