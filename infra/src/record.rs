//! The recorded event of DESIGN.md §3: its fields, its canonical bytes and its leaf hash.
//!
//! **Invariant:** only this module turns a record into the bytes that get hashed, and the bytes
//! that get hashed are the bytes that get stored. Reading a record parses those stored bytes; it
//! never serialises the record again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical::{write_string, write_unsigned, write_value, CanonicalError};

/// A SHA-256 value: a leaf hash, a chain link or (later) a Merkle node.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; 32]);

impl Hash {
    /// The `prev` of the record at position 0: 32 zero bytes.
    pub const ZERO: Hash = Hash([0; 32]);

    /// Wraps 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }

    /// Takes a hash from a byte slice, which must be exactly 32 bytes long.
    ///
    /// # Errors
    /// [`HashParseError`] when the slice has another length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashParseError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| HashParseError)?;
        Ok(Hash(array))
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Hash({})", self.to_hex())
    }
}

/// A hash that is not 64 hex characters (32 bytes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a hash is 64 hexadecimal characters (32 bytes)")]
pub struct HashParseError;

impl FromStr for Hash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.len() != 64 {
            return Err(HashParseError);
        }
        let bytes = hex::decode(text).map_err(|_| HashParseError)?;
        Hash::from_slice(&bytes)
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The RFC 6962 leaf hash of a record's canonical bytes: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(canonical_bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(canonical_bytes);
    Hash(hasher.finalize().into())
}

/// One recorded event, field for field as DESIGN.md §3 names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// 0-based, gap-free position in the whole log; also the Merkle leaf index.
    pub position: u64,
    /// `<kind>/<id>`, e.g. `item/2024-S-001`.
    pub stream: String,
    /// Counts from 1 within the stream.
    pub version: u64,
    /// The event type, e.g. `ItemFiled`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The version of the event's `data` shape.
    pub schema: u32,
    /// Business time the command carried, RFC 3339 with its offset.
    pub at: String,
    /// Server time the record was appended, RFC 3339 UTC with milliseconds.
    pub recorded_at: String,
    /// Who issued the command.
    pub actor: String,
    /// The role they acted in.
    pub role: String,
    /// The command's idempotency key.
    pub command_id: String,
    /// The event's payload.
    pub data: Value,
    /// The hash of the record at `position - 1`, or [`Hash::ZERO`] at position 0.
    pub prev: Hash,
}

/// A record together with its canonical bytes and leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRecord {
    /// The record.
    pub record: Record,
    /// RFC 8785 bytes of `record`: what is stored and what is hashed.
    pub canonical: Vec<u8>,
    /// `leaf_hash(canonical)`.
    pub hash: Hash,
}

/// Produces a record's canonical bytes and leaf hash.
///
/// # Errors
/// [`CanonicalError`] when `data` holds a value with no canonical form in the record format.
pub fn seal(record: Record) -> Result<SealedRecord, CanonicalError> {
    let mut canonical = Vec::with_capacity(512);
    write_canonical_record(&mut canonical, &record)?;
    let hash = leaf_hash(&canonical);
    Ok(SealedRecord {
        record,
        canonical,
        hash,
    })
}

/// Appends the RFC 8785 canonical JSON of `record` to `out`: its members written directly, in
/// JCS order (the names are ASCII, so byte order), `data` through the general writer. The same
/// bytes as canonicalising the record's JSON value, without building that value; [`seal`] and
/// `verify` (which compares them with the stored bytes) both use it.
///
/// # Errors
/// [`CanonicalError`] when `data` or a number has no canonical form in the record format.
pub fn write_canonical_record(out: &mut Vec<u8>, record: &Record) -> Result<(), CanonicalError> {
    out.extend_from_slice(b"{\"actor\":");
    write_string(out, &record.actor);
    out.extend_from_slice(b",\"at\":");
    write_string(out, &record.at);
    out.extend_from_slice(b",\"command_id\":");
    write_string(out, &record.command_id);
    out.extend_from_slice(b",\"data\":");
    write_value(out, &record.data, 1)?;
    out.extend_from_slice(b",\"position\":");
    write_unsigned(out, record.position)?;
    out.extend_from_slice(b",\"prev\":\"");
    let mut hex = [0_u8; 64];
    hex::encode_to_slice(record.prev.as_bytes(), &mut hex).expect("64 hex digits for 32 bytes");
    out.extend_from_slice(&hex);
    out.extend_from_slice(b"\",\"recorded_at\":");
    write_string(out, &record.recorded_at);
    out.extend_from_slice(b",\"role\":");
    write_string(out, &record.role);
    out.extend_from_slice(b",\"schema\":");
    write_unsigned(out, u64::from(record.schema))?;
    out.extend_from_slice(b",\"stream\":");
    write_string(out, &record.stream);
    out.extend_from_slice(b",\"type\":");
    write_string(out, &record.event_type);
    out.extend_from_slice(b",\"version\":");
    write_unsigned(out, record.version)?;
    out.push(b'}');
    Ok(())
}

/// Formats a server timestamp as a record's `recorded_at`: UTC, milliseconds, `Z`.
pub fn format_recorded_at(timestamp: jiff::Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(position: u64, prev: Hash) -> Record {
        Record {
            position,
            stream: "item/2024-S-001".into(),
            version: 1,
            event_type: "ItemFiled".into(),
            schema: 1,
            at: "2024-03-01T09:00:00+08:00".into(),
            recorded_at: "2024-03-01T01:00:03.125Z".into(),
            actor: "liaison-01".into(),
            role: "liaison".into(),
            command_id: "8a3e".into(),
            data: json!({"title": "执行款发放", "item_id": "2024-S-001"}),
            prev,
        }
    }

    #[test]
    fn sealed_bytes_are_the_canonical_form_with_sorted_members() {
        let sealed = seal(sample(0, Hash::ZERO)).expect("seal");
        let text = String::from_utf8(sealed.canonical.clone()).expect("utf-8");
        assert!(text.starts_with(r#"{"actor":"liaison-01","at":"2024-03-01T09:00:00+08:00","#));
        assert!(text.contains(r#""data":{"item_id":"2024-S-001","title":"执行款发放"}"#));
        assert!(text.ends_with(r#""type":"ItemFiled","version":1}"#));
        assert_eq!(sealed.hash, leaf_hash(&sealed.canonical));
    }

    #[test]
    fn parsing_stored_bytes_gives_back_the_same_record() {
        let sealed = seal(sample(7, leaf_hash(b"x"))).expect("seal");
        let parsed: Record = serde_json::from_slice(&sealed.canonical).expect("parse");
        assert_eq!(parsed, sealed.record);
    }

    #[test]
    fn the_direct_writer_gives_the_bytes_of_canonicalising_the_records_value() {
        let record = sample(9, leaf_hash(b"y"));
        let value = serde_json::to_value(&record).expect("value");
        let general = crate::canonical::to_canonical_bytes(&value).expect("canonical");
        assert_eq!(seal(record).expect("seal").canonical, general);
    }

    #[test]
    fn leaf_hash_of_empty_input_is_the_rfc6962_empty_leaf() {
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
    }

    #[test]
    fn hash_text_must_be_exactly_64_hex_characters() {
        assert!("00".parse::<Hash>().is_err());
        assert!("zz".repeat(32).parse::<Hash>().is_err());
        assert_eq!("00".repeat(32).parse::<Hash>(), Ok(Hash::ZERO));
    }

    #[test]
    fn recorded_at_has_milliseconds_and_z() {
        let timestamp: jiff::Timestamp = "2024-03-01T01:00:03.125678Z".parse().expect("ts");
        assert_eq!(format_recorded_at(timestamp), "2024-03-01T01:00:03.125Z");
    }
}
