//! Password hashing with argon2id. A hash is kept as its PHC string, which carries the
//! parameters and the salt, so hashes made with other parameters still verify.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::AuthError;

/// A password has at least this many characters.
pub const PASSWORD_CHARS_MIN: usize = 8;

/// A password has at most this many bytes; longer input is refused before any hashing.
pub const PASSWORD_BYTES_MAX: usize = 1024;

/// The cost of new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl PasswordCost {
    /// OWASP's recommended argon2id setting: 19 MiB, 2 passes, 1 lane.
    pub const RECOMMENDED: PasswordCost = PasswordCost {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// The cheapest setting argon2 allows; for tests only, never for real passwords.
    pub const TESTING_ONLY: PasswordCost = PasswordCost {
        memory_kib: 8,
        iterations: 1,
        parallelism: 1,
    };

    fn hasher(self) -> Result<Argon2<'static>, AuthError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|error| AuthError::Hashing(error.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Checks a new password against the length limits.
///
/// # Errors
/// [`AuthError::Invalid`] when it is too short or too long.
pub fn check_new(password: &str) -> Result<(), AuthError> {
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(AuthError::Invalid(format!(
            "a password has at most {PASSWORD_BYTES_MAX} bytes"
        )));
    }
    if password.chars().count() < PASSWORD_CHARS_MIN {
        return Err(AuthError::Invalid(format!(
            "a password has at least {PASSWORD_CHARS_MIN} characters"
        )));
    }
    Ok(())
}

/// Hashes a password with a fresh random salt; returns the PHC string. Slow on purpose: call
/// it off the async workers.
///
/// # Errors
/// [`AuthError::Hashing`] when the cost is not one argon2 accepts.
pub fn hash(password: &str, cost: PasswordCost) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    let hashed = cost
        .hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|error| AuthError::Hashing(error.to_string()))?;
    Ok(hashed.to_string())
}

/// True when `password` matches the PHC string `phc`. An unreadable PHC string matches
/// nothing. Slow on purpose, like [`hash`].
pub fn verify(phc: &str, password: &str) -> bool {
    if password.len() > PASSWORD_BYTES_MAX {
        return false;
    }
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse", PasswordCost::TESTING_ONLY).expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify(&phc, "correct horse"));
        assert!(!verify(&phc, "correct horsE"));
        assert!(!verify("not a phc string", "correct horse"));
        assert_ne!(
            phc,
            hash("correct horse", PasswordCost::TESTING_ONLY).expect("hash"),
            "every hash has its own salt"
        );
    }

    #[test]
    fn new_passwords_have_bounded_length() {
        assert!(check_new("short").is_err());
        assert!(check_new("long enough").is_ok());
        assert!(check_new(&"x".repeat(PASSWORD_BYTES_MAX + 1)).is_err());
    }
}
