//! Random secrets (bearer tokens, session cookie values) and the digests they are stored as.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use infra::credentials::SecretDigest;
use sha2::{Digest, Sha256};

/// A secret carries this many random bits.
pub const SECRET_BITS: usize = 256;

/// Every bearer token starts with this, so a leaked one is easy to recognise (and to scan for).
pub const TOKEN_PREFIX: &str = "hy_";

/// Secrets are written as hex; a longer text cannot be one and is refused before any lookup.
pub const SECRET_TEXT_BYTES_MAX: usize = 128;

const _: () = assert!(SECRET_BITS % 8 == 0);
const _: () = assert!(TOKEN_PREFIX.len() + SECRET_BITS / 4 <= SECRET_TEXT_BYTES_MAX);

/// A fresh secret: [`SECRET_BITS`] bits from the operating system's generator, as lowercase hex.
pub fn fresh_secret() -> String {
    let mut bytes = [0u8; SECRET_BITS / 8];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A fresh public handle: 48 random bits as hex. Not a secret; it only names a token.
pub fn fresh_handle() -> String {
    let mut bytes = [0u8; 6];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The digest a secret is stored and looked up by: SHA-256 of its text.
pub fn digest(secret: &str) -> SecretDigest {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bit_hex_and_differ() {
        let first = fresh_secret();
        let second = fresh_secret();
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(first, second);
        assert_ne!(digest(&first), digest(&second));
        assert_eq!(fresh_handle().len(), 12);
    }
}
