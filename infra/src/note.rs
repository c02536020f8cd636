//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A note is a text ending in a newline, a blank line, and one or more signature lines
//! `— <key name> base64(key ID || signature)`. Keys are written as C2SP key strings:
//! a verifier key is `name+hex(key ID)+base64(type || public key)`, a signer key is
//! `PRIVATE+KEY+name+hex(key ID)+base64(type || seed)`, and the key ID is the first four bytes of
//! `SHA-256(name || 0x0A || type || public key)`.
//!
//! Two signature types are used: `0x01`, an Ed25519 signature over the note text (the ledger's
//! checkpoints), and `0x04`, a timestamped Ed25519 witness cosignature
//! (<https://c2sp.org/tlog-cosignature>, see [`crate::checkpoint`]).
//!
//! **Invariants:** a parsed key's stated key ID is the one its name, type and public key give;
//! a note's text ends in a newline and holds no control character but newlines; verifying a note
//! checks every signature line whose name and key ID match the key, and at least one must match.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// A note longer than this is refused before it is parsed.
pub const NOTE_BYTES_MAX: usize = 64 * 1024;

/// A note with more signature lines than this is refused (the spec asks for at least 16).
pub const SIGNATURES_PER_NOTE_MAX: usize = 100;

/// A key name longer than this is refused.
pub const KEY_NAME_BYTES_MAX: usize = 256;

const _: () = assert!(SIGNATURES_PER_NOTE_MAX >= 16);
const _: () = assert!(NOTE_BYTES_MAX > SIGNATURES_PER_NOTE_MAX * (KEY_NAME_BYTES_MAX + 120));

/// The em dash and space that open a signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The signer key string prefix.
const SIGNER_PREFIX: &str = "PRIVATE+KEY+";

/// What a key signs, by its C2SP signature type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// `0x01`: Ed25519 over the note text; the ledger's checkpoint key.
    Ed25519,
    /// `0x04`: timestamped Ed25519 `cosignature/v1`; a witness's key.
    Cosignature,
}

impl KeyType {
    /// The signature type byte.
    pub fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Cosignature => 0x04,
        }
    }

    fn from_byte(byte: u8) -> Result<Self, NoteError> {
        match byte {
            0x01 => Ok(KeyType::Ed25519),
            0x04 => Ok(KeyType::Cosignature),
            other => Err(NoteError::UnsupportedKeyType(other)),
        }
    }
}

/// Why a key or note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key string does not have the C2SP shape.
    #[error("malformed key string: {0}")]
    MalformedKey(&'static str),
    /// A key string's key ID is not the one its name and key give.
    #[error("the key ID in the key string does not match its name and public key")]
    KeyIdMismatch,
    /// A key of a signature type huiyin does not use.
    #[error("signature type 0x{0:02x} is not supported (Ed25519 0x01 and cosignature 0x04 are)")]
    UnsupportedKeyType(u8),
    /// A key name that is empty, too long, or holds a space or `+`.
    #[error("key name {0:?} is not allowed: non-empty, no spaces, no '+'")]
    BadKeyName(String),
    /// A note that does not have the signed-note shape.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// No signature line carries the key's name and key ID.
    #[error("the note has no signature by {0}")]
    NoSignatureByKey(String),
    /// A signature by the key does not verify.
    #[error("a signature by {0} does not verify")]
    BadSignature(String),
}

/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
pub fn key_id(name: &str, key_type: KeyType, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0a, key_type.byte()]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Checks a key name: non-empty, bounded, no Unicode space, no `+`.
///
/// # Errors
/// [`NoteError::BadKeyName`].
pub fn check_key_name(name: &str) -> Result<(), NoteError> {
    let allowed = !name.is_empty()
        && name.len() <= KEY_NAME_BYTES_MAX
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control());
    if allowed {
        Ok(())
    } else {
        Err(NoteError::BadKeyName(name.to_owned()))
    }
}

/// Splits `name+hexid+base64(type || 32 bytes)` and checks the key ID against the public key
/// derived by `public_of`.
fn parse_key_parts(
    parts: &[&str],
    public_of: impl Fn(&[u8; 32]) -> Result<[u8; 32], NoteError>,
) -> Result<(String, KeyType, [u8; 32]), NoteError> {
    let [name, id_hex, key_base64] = parts else {
        return Err(NoteError::MalformedKey("expected name+id+key"));
    };
    check_key_name(name)?;
    if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("the key ID is not 8 hex digits"));
    }
    let stated_id = u32::from_str_radix(id_hex, 16)
        .map_err(|_| NoteError::MalformedKey("the key ID is not 8 hex digits"))?;
    let bytes = BASE64
        .decode(key_base64)
        .map_err(|_| NoteError::MalformedKey("the key is not base64"))?;
    let (&type_byte, key) = bytes
        .split_first()
        .ok_or(NoteError::MalformedKey("the key is empty"))?;
    let key_type = KeyType::from_byte(type_byte)?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| NoteError::MalformedKey("an Ed25519 key is 32 bytes"))?;
    let public_key = public_of(&key)?;
    if key_id(name, key_type, &public_key) != stated_id {
        return Err(NoteError::KeyIdMismatch);
    }
    Ok(((*name).to_owned(), key_type, key))
}

/// A public key that checks signatures: the ledger's, or a witness's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_type: KeyType,
    key_id: u32,
    key: VerifyingKey,
}

impl VerifierKey {
    /// Parses a C2SP verifier key string.
    ///
    /// # Errors
    /// [`NoteError`] when the string is malformed, the key is not a valid Ed25519 point, or
    /// the key ID does not match.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        // The base64 key may itself hold '+': only the first two '+' separate.
        let parts: Vec<&str> = text.trim().splitn(3, '+').collect();
        let (name, key_type, key) = parse_key_parts(&parts, |key| Ok(*key))?;
        let key = VerifyingKey::from_bytes(&key)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        Ok(VerifierKey {
            key_id: key_id(&name, key_type, key.as_bytes()),
            name,
            key_type,
            key,
        })
    }

    /// The key's name (for the ledger's key, the checkpoint origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// True when a signature line names this key.
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        signature.name == self.name && signature.key_id == self.key_id
    }

    /// Checks a raw Ed25519 signature over `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(message, &signature).is_ok()
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![self.key_type.byte()];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(
            formatter,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(bytes)
        )
    }
}

/// A private key that signs: kept in a `.key` file, never in the database.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    key_type: KeyType,
    key: SigningKey,
}

impl std::fmt::Debug for SignerKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The seed is never printed.
        write!(formatter, "SignerKey({})", self.verifier())
    }
}

impl SignerKey {
    /// A key from a 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`].
    pub fn from_seed(name: &str, key_type: KeyType, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(SignerKey {
            name: name.to_owned(),
            key_type,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// A new key from the operating system's random source.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`]; [`NoteError::MalformedKey`] when no randomness is available.
    pub fn generate(name: &str, key_type: KeyType) -> Result<Self, NoteError> {
        let mut seed = [0_u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|_| NoteError::MalformedKey("no random source to make a key"))?;
        SignerKey::from_seed(name, key_type, seed)
    }

    /// Parses a C2SP signer key string (`PRIVATE+KEY+…`).
    ///
    /// # Errors
    /// [`NoteError`] when the string is malformed or its key ID does not match.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .trim()
            .strip_prefix(SIGNER_PREFIX)
            .ok_or(NoteError::MalformedKey(
                "a signer key starts with PRIVATE+KEY+",
            ))?;
        let parts: Vec<&str> = rest.splitn(3, '+').collect();
        let public_of =
            |seed: &[u8; 32]| Ok(SigningKey::from_bytes(seed).verifying_key().to_bytes());
        let (name, key_type, seed) = parse_key_parts(&parts, public_of)?;
        SignerKey::from_seed(&name, key_type, seed)
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        let key = self.key.verifying_key();
        VerifierKey {
            key_id: key_id(&self.name, self.key_type, key.as_bytes()),
            name: self.name.clone(),
            key_type: self.key_type,
            key,
        }
    }

    /// The C2SP signer key string. It holds the secret seed.
    pub fn to_key_string(&self) -> String {
        let mut bytes = vec![self.key_type.byte()];
        bytes.extend_from_slice(self.key.as_bytes());
        let verifier = self.verifier();
        format!(
            "{SIGNER_PREFIX}{}+{:08x}+{}",
            self.name,
            verifier.key_id,
            BASE64.encode(bytes)
        )
    }

    /// A raw Ed25519 signature over `message`.
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// The signature line for `payload` (already framed for the key type), with its newline.
    pub fn signature_line(&self, payload: &[u8]) -> String {
        let mut bytes = self.verifier().key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(payload);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: u32,
    /// The bytes after the key ID (an Ed25519 signature, or a timestamp and one).
    pub payload: Vec<u8>,
    /// The line as written, with its newline.
    pub line: String,
}

/// A parsed signed note: its text and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note. Nothing is verified yet.
    ///
    /// # Errors
    /// [`NoteError::MalformedNote`] when it is not a signed note.
    pub fn parse(message: &str) -> Result<Self, NoteError> {
        if message.len() > NOTE_BYTES_MAX {
            return Err(NoteError::MalformedNote("the note is too long"));
        }
        if message.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::MalformedNote("control characters in the note"));
        }
        let split = message.rfind("\n\n").ok_or(NoteError::MalformedNote(
            "no blank line before the signatures",
        ))?;
        let (text, signature_block) = (&message[..=split], &message[split + 2..]);
        if signature_block.is_empty() || !signature_block.ends_with('\n') {
            return Err(NoteError::MalformedNote("signature lines end in a newline"));
        }
        let signatures = signature_block
            .split_inclusive('\n')
            .map(parse_signature_line)
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.len() > SIGNATURES_PER_NOTE_MAX {
            return Err(NoteError::MalformedNote("too many signatures"));
        }
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// A note of `text` signed with Ed25519 (type `0x01`) `signer`.
    ///
    /// # Panics
    /// When `text` does not end in a newline or `signer` is not an Ed25519 note key (bugs).
    pub fn sign(text: &str, signer: &SignerKey) -> Self {
        assert!(text.ends_with('\n'));
        assert_eq!(signer.key_type(), KeyType::Ed25519);
        let line = signer.signature_line(&signer.sign_bytes(text.as_bytes()));
        let note = Note {
            text: text.to_owned(),
            signatures: Vec::new(),
        };
        note.with_line(&line)
    }

    /// The same note with one more signature line.
    ///
    /// # Panics
    /// When `line` is not a signature line (a bug: lines come from [`SignerKey`]).
    pub fn with_line(&self, line: &str) -> Self {
        let mut signatures = self.signatures.clone();
        signatures.push(parse_signature_line(line).expect("a well-formed signature line"));
        Note {
            text: self.text.clone(),
            signatures,
        }
    }

    /// The signed text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the Ed25519 (type `0x01`) signatures by `key`: every line naming it must verify,
    /// and there must be one.
    ///
    /// # Errors
    /// [`NoteError::NoSignatureByKey`] or [`NoteError::BadSignature`].
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        if key.key_type() != KeyType::Ed25519 {
            return Err(NoteError::UnsupportedKeyType(key.key_type().byte()));
        }
        let mut found = false;
        for signature in self.signatures.iter().filter(|s| key.matches(s)) {
            if !key.verifies(self.text.as_bytes(), &signature.payload) {
                return Err(NoteError::BadSignature(key.name().to_owned()));
            }
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(NoteError::NoSignatureByKey(key.name().to_owned()))
        }
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.text)?;
        formatter.write_str("\n")?;
        for signature in &self.signatures {
            formatter.write_str(&signature.line)?;
        }
        Ok(())
    }
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, NoteError> {
    let malformed = NoteError::MalformedNote("a signature line is — <name> <base64>");
    let body = line
        .strip_suffix('\n')
        .and_then(|body| body.strip_prefix(SIGNATURE_PREFIX))
        .ok_or(malformed.clone())?;
    let (name, encoded) = body.split_once(' ').ok_or(malformed.clone())?;
    check_key_name(name).map_err(|_| malformed.clone())?;
    let bytes = BASE64.decode(encoded).map_err(|_| malformed.clone())?;
    if bytes.len() < 5 {
        return Err(malformed);
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        payload: bytes[4..].to_vec(),
        line: line.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_round_trips_through_its_strings() {
        let signer = SignerKey::generate("huiyin/test", KeyType::Ed25519).expect("key");
        let parsed = SignerKey::parse(&signer.to_key_string()).expect("signer");
        assert_eq!(parsed.verifier(), signer.verifier());
        let verifier = VerifierKey::parse(&signer.verifier().to_string()).expect("verifier");
        assert_eq!(verifier, signer.verifier());
        let note = Note::sign("hello\n", &signer);
        let reparsed = Note::parse(&note.to_string()).expect("note");
        assert_eq!(reparsed, note);
        reparsed.verify(&verifier).expect("verifies");
    }

    #[test]
    fn key_names_with_spaces_or_plus_are_refused() {
        for name in ["", "a b", "a+b", "a\tb"] {
            assert!(SignerKey::from_seed(name, KeyType::Ed25519, [7; 32]).is_err());
        }
    }

    #[test]
    fn a_note_without_blank_line_or_signature_is_malformed() {
        assert!(Note::parse("text\n").is_err());
        assert!(Note::parse("text\n\n").is_err());
        assert!(Note::parse("text\n\n\u{2014} name AAAA\n").is_err());
    }
}
