//! Recognising a record's canonical bytes without building the record: `verify`'s fast path.
//!
//! [`scan_record`] walks stored bytes once and accepts them only when they are, byte for byte,
//! what [`write_canonical_record`](crate::record::write_canonical_record) writes for the record
//! they parse as: the twelve members in JCS order, no whitespace, strings with only the
//! escapes `JSON.stringify` writes, integers within ±(2^53 − 1) without a sign on zero or
//! leading zeros, `data`'s members in strictly increasing order, nesting within
//! [`DEPTH_MAX`]. It is stricter where that is simpler (a member name of `data` with an escape
//! or a character at or above U+E000, a `stream` with an escape): bytes it does not accept are
//! judged by parsing and re-serialising, which also gives the reason. So it never accepts bytes
//! the slow path refuses, and saves a `serde_json::Value` per record when they are canonical.

use crate::canonical::{DEPTH_MAX, INTEGER_ABS_MAX};
use crate::record::Hash;

/// What `verify` needs of a record in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedRecord<'a> {
    /// The `position` member.
    pub position: u64,
    /// The `stream` member (it has no escape).
    pub stream: &'a str,
    /// The `version` member.
    pub version: u64,
    /// The `prev` member.
    pub prev: Hash,
}

/// The record's members before `data`, each with the bytes that precede its value.
const HEAD_MEMBERS: [&[u8]; 3] = [b"{\"actor\":", b",\"at\":", b",\"command_id\":"];

/// The members after `prev`, strings, each with the bytes that precede its value.
const TAIL_STRINGS: [&[u8]; 2] = [b",\"recorded_at\":", b",\"role\":"];

/// `bytes`' members when they are a record in canonical form; `None` when they are not, or are
/// in a form this scan leaves to the slow path.
pub fn scan_record(bytes: &[u8]) -> Option<ScannedRecord<'_>> {
    // Outside strings canonical bytes are ASCII, so this checks every string's UTF-8.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut scan = Scan {
        bytes: text.as_bytes(),
        at: 0,
    };
    for prefix in HEAD_MEMBERS {
        scan.literal(prefix)?;
        scan.string()?;
    }
    scan.literal(b",\"data\":")?;
    scan.value(1)?;
    scan.literal(b",\"position\":")?;
    let position = scan.unsigned()?;
    scan.literal(b",\"prev\":\"")?;
    let prev = scan.lower_hex_hash()?;
    scan.literal(b"\"")?;
    for prefix in TAIL_STRINGS {
        scan.literal(prefix)?;
        scan.string()?;
    }
    scan.literal(b",\"schema\":")?;
    let schema = scan.unsigned()?;
    u32::try_from(schema).ok()?;
    scan.literal(b",\"stream\":")?;
    let (stream_start, stream_end, escaped) = scan.string()?;
    if escaped {
        return None;
    }
    scan.literal(b",\"type\":")?;
    scan.string()?;
    scan.literal(b",\"version\":")?;
    let version = scan.unsigned()?;
    scan.literal(b"}")?;
    if scan.at != scan.bytes.len() {
        return None;
    }
    Some(ScannedRecord {
        position,
        stream: text.get(stream_start..stream_end)?,
        version,
        prev,
    })
}

fn lower_hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        let end = self.at.checked_add(expected.len())?;
        (self.bytes.get(self.at..end)? == expected).then(|| self.at = end)
    }

    /// A string as `write_string` writes it; returns where its content starts and ends, and
    /// whether it holds an escape.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.literal(b"\"")?;
        let start = self.at;
        let mut escaped = false;
        loop {
            // Most bytes need no look: skip to the next quote, backslash or control byte.
            let plain = self.bytes[self.at..]
                .iter()
                .position(|byte| *byte == b'"' || *byte == b'\\' || *byte < 0x20)?;
            self.at += plain;
            let byte = self.peek()?;
            match byte {
                b'"' => break,
                0x00..=0x1f => return None,
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            // Only control characters other than the five with short escapes,
                            // as `\u00xx` in lowercase hex.
                            let digits = self.bytes.get(self.at + 1..self.at + 5)?;
                            let code = match digits {
                                [b'0', b'0', high @ (b'0' | b'1'), low] => {
                                    let low = lower_hex_digit(*low)?;
                                    (high - b'0') << 4 | low
                                }
                                _ => return None,
                            };
                            if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => self.at += 1,
            }
        }
        let end = self.at;
        self.at += 1;
        Some((start, end, escaped))
    }

    /// Digits of a non-negative integer within 2^53 − 1, no leading zero.
    fn unsigned(&mut self) -> Option<u64> {
        let start = self.at;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        match digits {
            [] => return None,
            [b'0', _, ..] => return None,
            _ => {}
        }
        // 2^53 − 1 has 16 digits.
        if digits.len() > 16 {
            return None;
        }
        let value = digits
            .iter()
            .fold(0_u64, |value, digit| value * 10 + u64::from(digit - b'0'));
        (value <= INTEGER_ABS_MAX).then_some(value)
    }

    fn lower_hex_hash(&mut self) -> Option<Hash> {
        let hex = self.bytes.get(self.at..self.at + 64)?;
        let mut hash = [0_u8; 32];
        for (byte, pair) in hash.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = lower_hex_digit(pair[0])? << 4 | lower_hex_digit(pair[1])?;
        }
        self.at += 64;
        Some(Hash::from_bytes(hash))
    }

    /// A value of `data` at `depth` (`data` itself is at 1), as `write_value` writes it.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > DEPTH_MAX {
            return None;
        }
        match self.peek()? {
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'"' => self.string().map(|_| ()),
            b'-' => {
                self.at += 1;
                // No negative zero: `-0` is written `0`.
                (self.unsigned()? != 0).then_some(())
            }
            b'0'..=b'9' => self.unsigned().map(|_| ()),
            b'[' => {
                self.at += 1;
                if self.peek()? == b']' {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'{' => {
                self.at += 1;
                if self.peek()? == b'}' {
                    self.at += 1;
                    return Some(());
                }
                let bytes: &'a [u8] = self.bytes;
                let mut last: Option<&'a [u8]> = None;
                loop {
                    let (start, end, escaped) = self.string()?;
                    let name = &bytes[start..end];
                    // Escaped names and names that may sort differently by UTF-16 code units
                    // are left to the slow path; the others must strictly increase by bytes.
                    if escaped || name.iter().any(|byte| *byte >= 0xee) {
                        return None;
                    }
                    if last.is_some_and(|last| last >= name) {
                        return None;
                    }
                    last = Some(name);
                    self.literal(b":")?;
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{seal, write_canonical_record, Record};
    use proptest::prelude::*;
    use serde_json::{json, Value};

    fn record(stream: &str, data: Value) -> Record {
        Record {
            position: 41,
            stream: stream.to_owned(),
            version: 7,
            event_type: "ItemFiled".into(),
            schema: 1,
            at: "2024-03-01T09:00:00+08:00".into(),
            recorded_at: "2024-03-01T01:00:03.125Z".into(),
            actor: "liaison-01".into(),
            role: "liaison".into(),
            command_id: "8a3e".into(),
            data,
            prev: crate::record::leaf_hash(b"before"),
        }
    }

    /// The slow path's verdict: the bytes parse as a record whose canonical form they are.
    fn slow(bytes: &[u8]) -> Option<Record> {
        let parsed: Record = serde_json::from_slice(bytes).ok()?;
        let mut out = Vec::new();
        write_canonical_record(&mut out, &parsed).ok()?;
        (out == bytes).then_some(parsed)
    }

    fn scanned_of(record: &Record) -> ScannedRecord<'_> {
        ScannedRecord {
            position: record.position,
            stream: &record.stream,
            version: record.version,
            prev: record.prev,
        }
    }

    #[test]
    fn a_sealed_record_is_recognised_with_its_members() {
        let record = record(
            "item/2024-S-001",
            json!({"title": "执行款\"发放\"\n\u{1f}", "count": -3, "list": [0, null, true, false,
                   [], {}], "max": 9_007_199_254_740_991_u64, "z": "😀𝄞\u{7f}"}),
        );
        let sealed = seal(record.clone()).expect("seal");
        assert_eq!(scan_record(&sealed.canonical), Some(scanned_of(&record)));
    }

    #[test]
    fn other_spellings_of_a_record_are_not_recognised() {
        let sealed = seal(record("item/a", json!({"b": 1, "n": "x/y"}))).expect("seal");
        let text = String::from_utf8(sealed.canonical).expect("utf-8");
        let prev = sealed.record.prev.to_hex();
        let variants = [
            text.replacen(&prev, &prev.to_uppercase(), 1),
            text.replacen("\"b\":1", "\"b\": 1", 1),
            text.replacen("\"b\":1", "\"b\":01", 1),
            text.replacen("\"b\":1", "\"b\":1.0", 1),
            text.replacen("\"b\":1", "\"b\":1e0", 1),
            text.replacen("\"b\":1", "\"b\":-0", 1),
            text.replacen("\"b\":1", "\"b\":9007199254740992", 1),
            text.replacen("\"b\":1,\"n\"", "\"n\":\"x/y\",\"b\":1,\"n\"", 1),
            text.replacen("x/y", r"x\/y", 1),
            text.replacen("x/y", r"x\u000ay", 1),
            text.replacen("x/y", r"x\u001Fy", 1),
            text.replacen("x/y", r"\u0078/y", 1),
            text.replacen("{\"actor\"", "{\"aaa\":1,\"actor\"", 1),
            text.replacen("\"schema\":1", "\"schema\":4294967296", 1),
            format!("{text} "),
        ];
        for variant in variants {
            assert_ne!(variant, text);
            assert_eq!(scan_record(variant.as_bytes()), None, "{variant}");
            assert!(slow(variant.as_bytes()).is_none(), "{variant}");
        }
    }

    #[test]
    fn names_and_streams_with_escapes_are_left_to_the_slow_path() {
        for (stream, data) in [
            ("item/\"a\"", json!({})),
            ("item/a", json!({"a\tb": 1})),
            ("item/a", json!({"\u{e000}": 1, "\u{10000}": 2})),
        ] {
            let sealed = seal(record(stream, data)).expect("seal");
            assert_eq!(scan_record(&sealed.canonical), None);
            assert!(slow(&sealed.canonical).is_some());
        }
    }

    fn value() -> impl Strategy<Value = Value> {
        let text = r#"[a-z"\\/\x00-\x1f\x7fé执\x{e000}\x{10000}😀]{0,6}"#;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-(INTEGER_ABS_MAX as i64)..=INTEGER_ABS_MAX as i64).prop_map(|n| json!(n)),
            (-3_i64..3).prop_map(|n| json!(n)),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(r"[a-c\\\x{e000}]{0,2}", inner, 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    fn escapes_or_high_names(value: &Value) -> bool {
        match value {
            Value::Array(items) => items.iter().any(escapes_or_high_names),
            Value::Object(members) => members.iter().any(|(name, member)| {
                name.contains(['\\', '"', '\u{e000}'])
                    || name.chars().any(char::is_control)
                    || escapes_or_high_names(member)
            }),
            _ => false,
        }
    }

    proptest! {
        #[test]
        fn every_sealed_record_is_recognised_unless_left_to_the_slow_path(data in value()) {
            let record = record("item/x", data);
            let sealed = seal(record.clone()).expect("seal");
            let scanned = scan_record(&sealed.canonical);
            if escapes_or_high_names(&record.data) {
                prop_assert!(scanned.is_none() || scanned == Some(scanned_of(&record)));
            } else {
                prop_assert_eq!(scanned, Some(scanned_of(&record)));
            }
        }

        #[test]
        fn bytes_recognised_are_always_a_canonical_record(
            data in value(),
            at in any::<prop::sample::Index>(),
            edit in 0_usize..3,
            byte in prop::sample::select(
                b" 0159-.e\\u\"\x1f,:[]{}aAn\xc3\xa9".to_vec()
            ),
        ) {
            let mut bytes = seal(record("item/x", data)).expect("seal").canonical;
            let at = at.index(bytes.len());
            match edit {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
            if let Some(scanned) = scan_record(&bytes) {
                let parsed = slow(&bytes);
                prop_assert!(parsed.is_some(), "{}", String::from_utf8_lossy(&bytes));
                let parsed = parsed.expect("checked");
                prop_assert_eq!(scanned, scanned_of(&parsed));
            }
        }
    }
}
