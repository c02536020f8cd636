//! Where credentials live: password hashes, bearer tokens and login sessions, in tables beside
//! the ledger but never in it (DESIGN.md §4).
//!
//! **Invariant:** no secret is stored. A password is kept as its argon2id PHC string, a token
//! and a session cookie as the SHA-256 of their text ([`SecretDigest`]); the secrets themselves
//! are shown once, when they are made, and looked up again only by their digest.
//!
//! This module stores and finds; it does not decide. Whether a token has expired or been
//! revoked, and what a role may do, is decided by the caller with its own clock.
//!
//! The same SQL serves both backends, written with `$n` placeholders (which SQLite also
//! accepts) and stamped out for each store by `credential_store_impl!`, like [`crate::views`].

use async_trait::async_trait;
use jiff::Timestamp;

use crate::record::format_recorded_at;
use crate::store::{PostgresStore, SqliteStore, StoreError};

/// The SHA-256 digest of a secret (a bearer token or a session cookie value).
pub type SecretDigest = [u8; 32];

/// A person's password: its argon2id hash and the roles it may log in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordEntry {
    /// The person.
    pub person_id: String,
    /// The argon2id hash as a PHC string (algorithm, parameters, salt and hash).
    pub phc: String,
    /// The role ids the person may log in as (`"liaison"`, …), at least one.
    pub roles: Vec<String>,
    /// When the password was set.
    pub updated_at: Timestamp,
}

/// A bearer token, as stored: its digest and what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    /// The public handle printed at issue; revoking names it.
    pub token_id: String,
    /// SHA-256 of the token text.
    pub secret_hash: SecretDigest,
    /// Whom the token acts for.
    pub person_id: String,
    /// The role id it acts in.
    pub role: String,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// A login session, as stored: the digest of its cookie value and whom it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// SHA-256 of the cookie value.
    pub secret_hash: SecretDigest,
    /// The person logged in.
    pub person_id: String,
    /// The role id they logged in as.
    pub role: String,
    /// When they logged in.
    pub created_at: Timestamp,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Stores and finds credentials. Both ledger backends implement it on their own pool.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    /// Sets (or replaces) a person's password and the roles it may log in as, and ends every
    /// session the person had: a new password logs everyone out.
    async fn set_password(&self, entry: &PasswordEntry) -> Result<(), StoreError>;

    /// The person's password entry, if they have one.
    async fn password(&self, person_id: &str) -> Result<Option<PasswordEntry>, StoreError>;

    /// Stores a newly issued token.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the id or digest is already used (a caller bug: both are
    /// random).
    async fn insert_token(&self, entry: &TokenEntry) -> Result<(), StoreError>;

    /// The token whose text has this digest, revoked or expired ones included.
    async fn token(&self, secret_hash: &SecretDigest) -> Result<Option<TokenEntry>, StoreError>;

    /// Marks a token revoked at `at`. Returns false when no unrevoked token has that id.
    async fn revoke_token(&self, token_id: &str, at: Timestamp) -> Result<bool, StoreError>;

    /// Stores a new session.
    async fn insert_session(&self, entry: &SessionEntry) -> Result<(), StoreError>;

    /// The session whose cookie value has this digest, expired ones included.
    async fn session(&self, secret_hash: &SecretDigest)
        -> Result<Option<SessionEntry>, StoreError>;

    /// Ends a session (logout). Returns false when there was none.
    async fn delete_session(&self, secret_hash: &SecretDigest) -> Result<bool, StoreError>;

    /// Forgets every session that ended before `now`; returns how many.
    async fn delete_sessions_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

fn time_text(at: Timestamp) -> String {
    format_recorded_at(at)
}

fn time_of(text: &str, table: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|error| {
        StoreError::Database(format!(
            "{table}: stored time {text:?} is unreadable: {error}"
        ))
    })
}

fn digest_of(bytes: &[u8], table: &str) -> Result<SecretDigest, StoreError> {
    bytes.try_into().map_err(|_| {
        StoreError::Database(format!(
            "{table}: stored digest is {} bytes, not 32",
            bytes.len()
        ))
    })
}

/// `(token_id, secret_hash, person_id, role, created_at, expires_at, revoked_at)`.
type TokenRow = (
    String,
    Vec<u8>,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn token_entry(row: TokenRow) -> Result<TokenEntry, StoreError> {
    let (token_id, secret_hash, person_id, role, created_at, expires_at, revoked_at) = row;
    Ok(TokenEntry {
        token_id,
        secret_hash: digest_of(&secret_hash, "api_tokens")?,
        person_id,
        role,
        created_at: time_of(&created_at, "api_tokens")?,
        expires_at: time_of(&expires_at, "api_tokens")?,
        revoked_at: revoked_at
            .map(|text| time_of(&text, "api_tokens"))
            .transpose()?,
    })
}

/// `(secret_hash, person_id, role, created_at, expires_at)`.
type SessionRow = (Vec<u8>, String, String, String, String);

fn session_entry(row: SessionRow) -> Result<SessionEntry, StoreError> {
    let (secret_hash, person_id, role, created_at, expires_at) = row;
    Ok(SessionEntry {
        secret_hash: digest_of(&secret_hash, "sessions")?,
        person_id,
        role,
        created_at: time_of(&created_at, "sessions")?,
        expires_at: time_of(&expires_at, "sessions")?,
    })
}

macro_rules! credential_store_impl {
    ($store:ty) => {
        #[async_trait]
        impl CredentialStore for $store {
            async fn set_password(&self, entry: &PasswordEntry) -> Result<(), StoreError> {
                let mut tx = self.pool().begin().await?;
                sqlx::query(
                    "INSERT INTO passwords (person_id, phc, roles, updated_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (person_id) DO UPDATE SET phc = excluded.phc, \
                     roles = excluded.roles, updated_at = excluded.updated_at",
                )
                .bind(&entry.person_id)
                .bind(&entry.phc)
                .bind(entry.roles.join(" "))
                .bind(time_text(entry.updated_at))
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM sessions WHERE person_id = $1")
                    .bind(&entry.person_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn password(
                &self,
                person_id: &str,
            ) -> Result<Option<PasswordEntry>, StoreError> {
                let found: Option<(String, String, String)> = sqlx::query_as(
                    "SELECT phc, roles, updated_at FROM passwords WHERE person_id = $1",
                )
                .bind(person_id)
                .fetch_optional(self.pool())
                .await?;
                found
                    .map(|(phc, roles, updated_at)| {
                        Ok(PasswordEntry {
                            person_id: person_id.to_owned(),
                            phc,
                            roles: roles.split_whitespace().map(str::to_owned).collect(),
                            updated_at: time_of(&updated_at, "passwords")?,
                        })
                    })
                    .transpose()
            }

            async fn insert_token(&self, entry: &TokenEntry) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO api_tokens (token_id, secret_hash, person_id, role, \
                     created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&entry.token_id)
                .bind(entry.secret_hash.as_slice())
                .bind(&entry.person_id)
                .bind(&entry.role)
                .bind(time_text(entry.created_at))
                .bind(time_text(entry.expires_at))
                .bind(entry.revoked_at.map(time_text))
                .execute(self.pool())
                .await?;
                Ok(())
            }

            async fn token(
                &self,
                secret_hash: &SecretDigest,
            ) -> Result<Option<TokenEntry>, StoreError> {
                let found: Option<TokenRow> = sqlx::query_as(
                    "SELECT token_id, secret_hash, person_id, role, created_at, expires_at, \
                     revoked_at FROM api_tokens WHERE secret_hash = $1",
                )
                .bind(secret_hash.as_slice())
                .fetch_optional(self.pool())
                .await?;
                found.map(token_entry).transpose()
            }

            async fn revoke_token(&self, token_id: &str, at: Timestamp) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked_at = $1 \
                     WHERE token_id = $2 AND revoked_at IS NULL",
                )
                .bind(time_text(at))
                .bind(token_id)
                .execute(self.pool())
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_session(&self, entry: &SessionEntry) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (secret_hash, person_id, role, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(entry.secret_hash.as_slice())
                .bind(&entry.person_id)
                .bind(&entry.role)
                .bind(time_text(entry.created_at))
                .bind(time_text(entry.expires_at))
                .execute(self.pool())
                .await?;
                Ok(())
            }

            async fn session(
                &self,
                secret_hash: &SecretDigest,
            ) -> Result<Option<SessionEntry>, StoreError> {
                let found: Option<SessionRow> = sqlx::query_as(
                    "SELECT secret_hash, person_id, role, created_at, expires_at \
                     FROM sessions WHERE secret_hash = $1",
                )
                .bind(secret_hash.as_slice())
                .fetch_optional(self.pool())
                .await?;
                found.map(session_entry).transpose()
            }

            async fn delete_session(&self, secret_hash: &SecretDigest) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE secret_hash = $1")
                    .bind(secret_hash.as_slice())
                    .execute(self.pool())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_sessions_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                    .bind(time_text(now))
                    .execute(self.pool())
                    .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

credential_store_impl!(SqliteStore);
credential_store_impl!(PostgresStore);
