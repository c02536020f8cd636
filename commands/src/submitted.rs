//! A command as a client sent it, before it is trusted.

use aggregates::actor::{Actor, Role};
use aggregates::time::BusinessTime;
use aggregates::validate;
use infra::canonical::to_canonical_bytes;
use infra::record::{leaf_hash, Hash};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::CommandError;

/// Where "now" comes from. The domain never reads a clock; the write side asks this one only
/// to fill in a missing `at`.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> jiff::Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// `{"command_id","type","at","data","actor","role"}` as received. `actor` and `role` are only
/// honoured from the trusted local CLI; over HTTP they come from the credential.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submitted {
    /// Idempotency key; the caller gives a fresh one when the client sent none.
    pub command_id: Option<String>,
    /// The command type, e.g. `FileItem`.
    #[serde(rename = "type")]
    pub command_type: String,
    /// Business time, RFC 3339 with offset; defaults to now.
    pub at: Option<String>,
    /// The command's fields.
    #[serde(default)]
    pub data: Value,
    /// Who (CLI only).
    pub actor: Option<String>,
    /// In which role (CLI only).
    pub role: Option<String>,
}

impl Submitted {
    /// Parses one JSON command.
    ///
    /// # Errors
    /// `invalid` when the text is not JSON or not a command object.
    pub fn parse(text: &str) -> Result<Self, CommandError> {
        serde_json::from_str(text).map_err(|error| {
            CommandError::invalid(
                format!("the command is not valid JSON of the expected shape: {error}"),
                format!("指令不是格式正确的 JSON（应为 command_id、type、at、data）：{error}"),
            )
        })
    }

    /// The business time: the `at` given, or now in the ledger's time zone.
    pub(crate) fn business_time(
        &self,
        clock: &dyn Clock,
        time_zone: &jiff::tz::TimeZone,
    ) -> Result<BusinessTime, CommandError> {
        match &self.at {
            Some(at) => at
                .parse::<BusinessTime>()
                .map_err(|error| {
                    CommandError::invalid(
                        format!("at: {error}"),
                        format!("at（业务时间）须为带时区偏移的 RFC 3339 时间，如 2024-03-01T09:00:00+08:00：{error}"),
                    )
                }),
            None => {
                let now = clock.now();
                Ok(BusinessTime::from_timestamp(now, time_zone.to_offset(now)))
            }
        }
    }

    /// Who issues it: the command's own `actor`/`role` win over the defaults given.
    pub(crate) fn actor(&self, default: Option<&Actor>) -> Result<Actor, CommandError> {
        let id = self
            .actor
            .clone()
            .or_else(|| default.map(|actor| actor.id.clone()))
            .ok_or_else(|| {
                CommandError::invalid(
                    "actor: missing; say who issues the command",
                    "缺少 actor：请注明由谁发出指令",
                )
            })?;
        validate::id("actor", &id)?;
        let role = match (&self.role, default) {
            (Some(role), _) => role.parse::<Role>().map_err(|error| {
                CommandError::invalid(
                    format!("role: {error}"),
                    format!("role（角色）无效：{error}"),
                )
            })?,
            (None, Some(actor)) => actor.role,
            (None, None) => {
                return Err(CommandError::invalid(
                    "role: missing; say in which role the command is issued",
                    "缺少 role：请注明以何种角色发出指令",
                ))
            }
        };
        Ok(Actor { id, role })
    }

    /// Digest of what the client asked for: the same command retried hashes the same,
    /// whatever its whitespace or member order.
    pub(crate) fn request_hash(&self, actor: &Actor) -> Result<Hash, CommandError> {
        let fingerprint = json!({
            "type": self.command_type,
            "at": self.at,
            "data": self.data,
            "actor": actor.id,
            "role": actor.role.as_str(),
        });
        let bytes = to_canonical_bytes(&fingerprint).map_err(|error| {
            CommandError::invalid(format!("data: {error}"), format!("data 无法记录：{error}"))
        })?;
        Ok(leaf_hash(&bytes))
    }
}
