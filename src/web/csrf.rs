//! The CSRF token of a session: the hidden `csrf` field of every form a page serves, checked on
//! every form POST (403 `csrf` when it is wrong or missing).
//!
//! The token is `SHA-256("huiyin csrf v1\0" || session cookie value)` in hex: it is bound to the
//! session, needs no storage, and cannot be computed without the cookie, which is HttpOnly and
//! SameSite=Strict. The domain prefix keeps it different from the session's stored digest
//! (`SHA-256(cookie value)`), so a copy of the credentials table does not reveal it.

use sha2::{Digest, Sha256};

const CSRF_DOMAIN: &[u8] = b"huiyin csrf v1\0";

/// The CSRF token of the session whose cookie value is `session_cookie`.
pub fn csrf_token(session_cookie: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CSRF_DOMAIN);
    hasher.update(session_cookie.as_bytes());
    hex::encode(hasher.finalize())
}

/// True when `sent` is the session's token; compares in time independent of where they differ.
pub(crate) fn csrf_matches(expected: &str, sent: &str) -> bool {
    expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.bytes())
            .fold(0u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_bound_to_the_session_and_is_not_its_digest() {
        let one = csrf_token("aa");
        assert_eq!(one.len(), 64);
        assert_ne!(one, csrf_token("ab"));
        assert_ne!(one, hex::encode(Sha256::digest(b"aa")));
        assert!(csrf_matches(&one, &one));
        assert!(!csrf_matches(&one, &csrf_token("ab")));
        assert!(!csrf_matches(&one, ""));
    }
}
