//! Who is asking: credentials and the [`Principal`] they stand for.
//!
//! - People log in with a password ([`login`]): argon2id hashes ([`password`]), failed attempts
//!   slowed down per account and per address ([`throttle::LoginThrottle`]). A login opens a
//!   session ([`open_session`]) whose random 256-bit value travels in a cookie.
//! - Programs send a bearer token ([`issue_token`], `huiyin token issue`), printed once.
//! - Only digests of tokens and session values are stored ([`secret::digest`]); the tables are
//!   behind [`infra::credentials::CredentialStore`], outside the ledger.
//!
//! A credential carries one role. The role, not anything the client says, is what the ledger
//! checks commands against, and the person id is the actor recorded on every event.

pub mod password;
pub mod secret;
pub mod throttle;

use std::net::IpAddr;
use std::time::Duration;

use aggregates::actor::{Actor, Role};
use infra::credentials::{CredentialStore, PasswordEntry, SecretDigest, SessionEntry, TokenEntry};
use infra::store::StoreError;
use jiff::{SignedDuration, Timestamp};

use self::password::PasswordCost;
use self::secret::{digest, fresh_handle, fresh_secret, SECRET_TEXT_BYTES_MAX, TOKEN_PREFIX};
use self::throttle::LoginThrottle;

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// `Authorization: Bearer <token>`.
    Token,
    /// The session cookie set by a login.
    Session,
}

/// The person a request acts for, in the role their credential carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The person's id; recorded as the actor of every command they issue.
    pub person_id: String,
    /// The role the credential carries.
    pub role: Role,
    /// How they proved it.
    pub kind: CredentialKind,
}

impl Principal {
    /// The actor the ledger records for this principal's commands.
    pub fn actor(&self) -> Actor {
        Actor {
            id: self.person_id.clone(),
            role: self.role,
        }
    }
}

/// Why a credential was not accepted, or could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request carried no credential.
    #[error("no credential: send Authorization: Bearer <token>, or log in at POST /login")]
    Missing,
    /// The credential is not one this ledger issued (or is malformed).
    #[error("the credential is not valid")]
    Unknown,
    /// The credential has expired.
    #[error("the credential expired at {0}")]
    Expired(Timestamp),
    /// The token was revoked.
    #[error("the token was revoked at {0}")]
    Revoked(Timestamp),
    /// The person id and password do not match (or the person has no password).
    #[error("wrong person id or password")]
    WrongPassword,
    /// The password is right but does not allow the role asked for.
    #[error("{person_id} may not log in as {role}")]
    RoleNotGranted {
        /// The person.
        person_id: String,
        /// The role asked for.
        role: Role,
    },
    /// Too many failed logins: try again after this long.
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    /// A field is bad or missing.
    #[error("{0}")]
    Invalid(String),
    /// A stored credential names no role this program knows.
    #[error("a stored credential is unreadable: {0}")]
    Corrupt(String),
    /// The credential tables could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (bad cost parameters) or its worker thread died.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn role_of(text: &str) -> Result<Role, AuthError> {
    text.parse()
        .map_err(|error: aggregates::actor::ParseRoleError| AuthError::Corrupt(error.to_string()))
}

fn later(at: Timestamp, ttl: Duration) -> Result<Timestamp, AuthError> {
    SignedDuration::try_from(ttl)
        .ok()
        .and_then(|ttl| at.checked_add(ttl).ok())
        .ok_or_else(|| AuthError::Invalid(format!("a lifetime of {ttl:?} is too long")))
}

fn check_person_id(person_id: &str) -> Result<(), AuthError> {
    aggregates::validate::id("person_id", person_id)
        .map_err(|error| AuthError::Invalid(error.to_string()))
}

/// A token just issued. `token` is shown once and never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The public handle, for revoking.
    pub token_id: String,
    /// The secret to send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Whom it acts for.
    pub person_id: String,
    /// In which role.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Timestamp,
}

/// Issues a bearer token for `person_id` acting as `role`, valid for `ttl` from `now`.
///
/// # Errors
/// [`AuthError::Invalid`] for a malformed person id; [`AuthError::Store`] when it cannot be
/// stored.
pub async fn issue_token(
    store: &dyn CredentialStore,
    person_id: &str,
    role: Role,
    now: Timestamp,
    ttl: Duration,
) -> Result<IssuedToken, AuthError> {
    check_person_id(person_id)?;
    let token = format!("{TOKEN_PREFIX}{}", fresh_secret());
    let issued = IssuedToken {
        token_id: fresh_handle(),
        person_id: person_id.to_owned(),
        role,
        expires_at: later(now, ttl)?,
        token,
    };
    store
        .insert_token(&TokenEntry {
            token_id: issued.token_id.clone(),
            secret_hash: digest(&issued.token),
            person_id: issued.person_id.clone(),
            role: role.as_str().to_owned(),
            created_at: now,
            expires_at: issued.expires_at,
            revoked_at: None,
        })
        .await?;
    Ok(issued)
}

/// The principal a bearer token stands for at `now`.
///
/// # Errors
/// [`AuthError::Unknown`], [`AuthError::Expired`] or [`AuthError::Revoked`] when it stands for
/// no one; [`AuthError::Store`] when the tables cannot be read.
pub async fn token_principal(
    store: &dyn CredentialStore,
    token: &str,
    now: Timestamp,
) -> Result<Principal, AuthError> {
    Ok(token_lookup(store, token, now).await?.0)
}

/// The principal a bearer token stands for at `now`, and when the token expires.
///
/// # Errors
/// As [`token_principal`].
pub async fn token_lookup(
    store: &dyn CredentialStore,
    token: &str,
    now: Timestamp,
) -> Result<(Principal, Timestamp), AuthError> {
    token_digest_lookup(store, &token_digest(token)?, now).await
}

/// As [`token_lookup`], for the token whose text has this digest.
///
/// # Errors
/// As [`token_principal`].
pub async fn token_digest_lookup(
    store: &dyn CredentialStore,
    digest: &SecretDigest,
    now: Timestamp,
) -> Result<(Principal, Timestamp), AuthError> {
    let entry = store.token(digest).await?.ok_or(AuthError::Unknown)?;
    if let Some(revoked_at) = entry.revoked_at {
        return Err(AuthError::Revoked(revoked_at));
    }
    if now >= entry.expires_at {
        return Err(AuthError::Expired(entry.expires_at));
    }
    let principal = Principal {
        person_id: entry.person_id,
        role: role_of(&entry.role)?,
        kind: CredentialKind::Token,
    };
    Ok((principal, entry.expires_at))
}

/// The digest a bearer token is stored by, if the text has a token's form.
///
/// # Errors
/// [`AuthError::Unknown`] when it cannot be a token this program issued.
pub fn token_digest(token: &str) -> Result<SecretDigest, AuthError> {
    if token.len() > SECRET_TEXT_BYTES_MAX || !token.starts_with(TOKEN_PREFIX) {
        return Err(AuthError::Unknown);
    }
    Ok(digest(token))
}

/// The token cache holds at most this many tokens; when full it is emptied and fills again.
pub const TOKENS_CACHED_MAX: usize = 1_024;

/// Bearer tokens found valid by a lookup, by digest: whom each stands for and until when. What it
/// holds never goes stale (a token's person, role and expiry never change once issued); the one
/// thing that can change, revocation, it does not know, so an entry may be used only by a read
/// whose own statement confirms the token is still stored and unrevoked (the board page:
/// [`crate::reading::BoardRequest::confirm_token`]). Revoking a token therefore takes effect at
/// once, as without the cache: a request after the revocation committed is refused.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: std::sync::Mutex<std::collections::HashMap<SecretDigest, (Principal, Timestamp)>>,
}

impl TokenCache {
    fn entries(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<SecretDigest, (Principal, Timestamp)>>
    {
        self.entries
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The principal of a token looked up before, unless it has expired by `now` (then it is
    /// forgotten, and a lookup answers why it no longer works).
    pub fn get(&self, digest: &SecretDigest, now: Timestamp) -> Option<Principal> {
        let mut entries = self.entries();
        let (principal, expires_at) = entries.get(digest)?;
        if now >= *expires_at {
            entries.remove(digest);
            return None;
        }
        Some(principal.clone())
    }

    /// Remembers a token a lookup found valid.
    pub fn put(&self, digest: SecretDigest, principal: Principal, expires_at: Timestamp) {
        let mut entries = self.entries();
        if entries.len() >= TOKENS_CACHED_MAX {
            entries.clear();
        }
        entries.insert(digest, (principal, expires_at));
    }

    /// Forgets a token (found revoked or gone).
    pub fn forget(&self, digest: &SecretDigest) {
        self.entries().remove(digest);
    }

    /// How many tokens it holds.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

/// Sets a person's password and the roles it may log in as; ends their sessions.
///
/// # Errors
/// [`AuthError::Invalid`] for a malformed person id, no roles, or a password outside the length
/// limits; [`AuthError::Store`] or [`AuthError::Hashing`] when it cannot be stored.
pub async fn set_password(
    store: &dyn CredentialStore,
    person_id: &str,
    roles: &[Role],
    password: &str,
    cost: PasswordCost,
    now: Timestamp,
) -> Result<(), AuthError> {
    check_person_id(person_id)?;
    if roles.is_empty() {
        return Err(AuthError::Invalid(
            "name at least one role the password may log in as".to_owned(),
        ));
    }
    password::check_new(password)?;
    let owned = password.to_owned();
    let phc = tokio::task::spawn_blocking(move || password::hash(&owned, cost))
        .await
        .map_err(|error| AuthError::Hashing(error.to_string()))??;
    let mut roles: Vec<String> = roles.iter().map(|role| role.as_str().to_owned()).collect();
    roles.sort();
    roles.dedup();
    store
        .set_password(&PasswordEntry {
            person_id: person_id.to_owned(),
            phc,
            roles,
            updated_at: now,
        })
        .await?;
    Ok(())
}

/// A login attempt: who, with what, for which role, from where.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    /// The person's id.
    pub person_id: String,
    /// The password as typed.
    pub password: String,
    /// The role to act in; may be left out when the password allows exactly one.
    pub role: Option<Role>,
    /// The client's address, when known.
    pub address: Option<IpAddr>,
}

/// A verifier for people who have no password, so that an unknown person id costs as much time
/// as a known one and the answer's timing does not tell which ids exist.
fn decoy_phc() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        password::hash(&fresh_secret(), PasswordCost::RECOMMENDED).unwrap_or_default()
    })
}

/// Checks a login attempt at `now`; returns who it proves the caller to be. Failures are
/// counted in `throttle`, and an attempt that must still wait is refused before the password is
/// looked at.
///
/// # Errors
/// [`AuthError::Throttled`], [`AuthError::WrongPassword`], [`AuthError::RoleNotGranted`],
/// [`AuthError::Invalid`] (no role given where the password allows several), or a store failure.
pub async fn login(
    store: &dyn CredentialStore,
    throttle: &LoginThrottle,
    attempt: LoginAttempt,
    now: Timestamp,
) -> Result<Principal, AuthError> {
    // A malformed id names no one and is refused before it is counted, so the throttle's keys
    // stay short (at most `ID_CHARS_MAX` characters).
    check_person_id(&attempt.person_id)?;
    let wait = throttle.wait_left(&attempt.person_id, attempt.address, now);
    if !wait.is_zero() {
        return Err(AuthError::Throttled(wait));
    }
    let entry = store.password(&attempt.person_id).await?;
    let phc = entry
        .as_ref()
        .map_or_else(|| decoy_phc().to_owned(), |entry| entry.phc.clone());
    let typed = attempt.password.clone();
    let matches = tokio::task::spawn_blocking(move || password::verify(&phc, &typed))
        .await
        .map_err(|error| AuthError::Hashing(error.to_string()))?;
    let Some(entry) = entry.filter(|_| matches) else {
        throttle.failed(&attempt.person_id, attempt.address, now);
        return Err(AuthError::WrongPassword);
    };
    throttle.succeeded(&attempt.person_id);
    let granted = entry
        .roles
        .iter()
        .map(|role| role_of(role))
        .collect::<Result<Vec<Role>, AuthError>>()?;
    let role = match (attempt.role, granted.as_slice()) {
        (Some(role), _) if granted.contains(&role) => role,
        (Some(role), _) => {
            return Err(AuthError::RoleNotGranted {
                person_id: attempt.person_id,
                role,
            })
        }
        (None, [only]) => *only,
        (None, _) => {
            let names: Vec<&str> = granted.iter().map(|role| role.as_str()).collect();
            return Err(AuthError::Invalid(format!(
                "role: say which role to log in as ({})",
                names.join(", ")
            )));
        }
    };
    Ok(Principal {
        person_id: attempt.person_id,
        role,
        kind: CredentialKind::Session,
    })
}

/// A session just opened: the cookie value (shown once) and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedSession {
    /// The random value the cookie carries.
    pub cookie_value: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Opens a session for a principal, valid for `ttl` from `now`.
///
/// # Errors
/// [`AuthError::Store`] when it cannot be stored.
pub async fn open_session(
    store: &dyn CredentialStore,
    principal: &Principal,
    now: Timestamp,
    ttl: Duration,
) -> Result<OpenedSession, AuthError> {
    let opened = OpenedSession {
        cookie_value: fresh_secret(),
        expires_at: later(now, ttl)?,
    };
    store
        .insert_session(&SessionEntry {
            secret_hash: digest(&opened.cookie_value),
            person_id: principal.person_id.clone(),
            role: principal.role.as_str().to_owned(),
            created_at: now,
            expires_at: opened.expires_at,
        })
        .await?;
    Ok(opened)
}

/// The principal a session cookie value stands for at `now`.
///
/// # Errors
/// [`AuthError::Unknown`] or [`AuthError::Expired`] when it stands for no one.
pub async fn session_principal(
    store: &dyn CredentialStore,
    cookie_value: &str,
    now: Timestamp,
) -> Result<Principal, AuthError> {
    if cookie_value.len() > SECRET_TEXT_BYTES_MAX {
        return Err(AuthError::Unknown);
    }
    let entry = store
        .session(&digest(cookie_value))
        .await?
        .ok_or(AuthError::Unknown)?;
    if now >= entry.expires_at {
        return Err(AuthError::Expired(entry.expires_at));
    }
    Ok(Principal {
        person_id: entry.person_id,
        role: role_of(&entry.role)?,
        kind: CredentialKind::Session,
    })
}

/// Ends the session a cookie value names, if there is one.
///
/// # Errors
/// [`AuthError::Store`] when the tables cannot be written.
pub async fn close_session(
    store: &dyn CredentialStore,
    cookie_value: &str,
) -> Result<bool, AuthError> {
    if cookie_value.len() > SECRET_TEXT_BYTES_MAX {
        return Ok(false);
    }
    Ok(store.delete_session(&digest(cookie_value)).await?)
}
