//! Huiyin's sender: delivers the notifications `huiyin remind` queued in the outbox.
//!
//! - [`send_due`]: one pass over the due notifications; each attempt is recorded with the
//!   notification's new state ([`infra::outbox::OutboxStore::record_attempt`]).
//! - [`RetryPolicy`]: exponential back-off, and the number of failures after which a
//!   notification is dead.
//! - [`Channel`]: a way to deliver; [`email::SmtpChannel`] (SMTP, `lettre`) and
//!   [`webhook::WebhookChannel`] (HMAC-SHA256-signed, timestamped JSON POST for SMS and WeChat
//!   gateways).
//! - [`Clock`]: the moment, injected, so tests move time instead of waiting.
//!
//! **Invariant:** concurrent senders never deliver one notice twice: each notification is
//! claimed for [`CLAIM_LEASE`] before its delivery starts
//! ([`infra::outbox::OutboxStore::claim_next`]), and recording the attempt ends the claim.
//!
//! **Invariant:** delivery is at least once, duplicates are recognisable: a notification is
//! marked sent only after its channel accepted it, so a sender killed between the two leaves it
//! claimed, and once the lease has run out a sender delivers it again, carrying the same notice
//! id (the e-mail's `Message-ID`, the webhook's `X-Huiyin-Notice-Id`) for the receiver to drop
//! the copy. That window is one notification wide (claims are taken one at a time, and the
//! attempt is recorded right after the channel answers). Between attempts (the only place
//! [`send_due`] can be told to stop) nothing is lost or repeated.
//!
//! **Invariant:** nothing here writes to the ledger; a failed delivery is an attempt row.

pub mod email;
pub mod webhook;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use infra::outbox::{Attempt, DeliveryState, OutboxRow, OutboxStore};
use infra::store::StoreError;
use jiff::Timestamp;

/// The moment, as the sender sees it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// A way to deliver a notification.
#[async_trait]
pub trait Channel: Send + Sync {
    /// Delivers `notification` at `now` (the webhook signs with it).
    ///
    /// # Errors
    /// [`DeliveryError`] when the receiver did not accept it.
    async fn deliver(&self, notification: &OutboxRow, now: Timestamp) -> Result<(), DeliveryError>;
}

/// The channels a sender may use, by name (`email`, `webhook`).
#[derive(Clone, Default)]
pub struct Channels {
    /// Delivers `email` notifications.
    pub email: Option<Arc<dyn Channel>>,
    /// Delivers `webhook` notifications.
    pub webhook: Option<Arc<dyn Channel>>,
}

/// Retries with exponential back-off, then give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// After this many failed attempts a notification is dead.
    pub attempts_max: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub backoff_first: Duration,
    /// The longest wait.
    pub backoff_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts_max: 6,
            backoff_first: Duration::from_secs(60),
            backoff_max: Duration::from_secs(6 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.backoff_first
            .saturating_mul(1_u32 << doublings)
            .min(self.backoff_max)
    }
}

/// At most this many notifications are tried per pass.
pub const BATCH_NOTIFICATIONS_MAX: u32 = 200;

/// How long a sender's claim on a notification holds: longer than any one delivery may take
/// (each channel bounds its own), so a claim runs out only when its sender has died.
pub const CLAIM_LEASE: Duration = Duration::from_secs(300);

const _: () = assert!(CLAIM_LEASE.as_secs() >= 4 * webhook::DELIVERY_TIMEOUT.as_secs());
const _: () = assert!(CLAIM_LEASE.as_secs() >= 4 * email::DELIVERY_TIMEOUT.as_secs());

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Delivered.
    pub sent: u32,
    /// Failed, to be tried again.
    pub failed: u32,
    /// Given up on.
    pub dead: u32,
    /// Recorded by another sender first (ours was not recorded).
    pub lost_races: u32,
}

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The outbox could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Delivers every notification due at the clock's moment, oldest first, claiming each before
/// its delivery and recording each attempt (at most [`BATCH_NOTIFICATIONS_MAX`] per pass);
/// stops early, between two attempts, once `stop` is set.
///
/// # Errors
/// [`SendError`] when the outbox fails; delivery failures are recorded, not returned.
pub async fn send_due(
    outbox: &dyn OutboxStore,
    channels: &Channels,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    stop: &AtomicBool,
) -> Result<SendReport, SendError> {
    let mut report = SendReport::default();
    let lease = i64::try_from(CLAIM_LEASE.as_secs()).unwrap_or(i64::MAX);
    for _ in 0..BATCH_NOTIFICATIONS_MAX {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let now = clock.now().as_second();
        let Some(notification) = outbox.claim_next(now, now.saturating_add(lease)).await? else {
            break;
        };
        let attempt = attempt_once(channels, policy, clock, &notification).await;
        if !outbox.record_attempt(&attempt).await? {
            report.lost_races += 1;
            continue;
        }
        match attempt.state {
            DeliveryState::Sent => report.sent += 1,
            DeliveryState::Pending => report.failed += 1,
            DeliveryState::Dead => report.dead += 1,
        }
    }
    Ok(report)
}

async fn attempt_once(
    channels: &Channels,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    notification: &OutboxRow,
) -> Attempt {
    let number = notification.attempts + 1;
    let now = clock.now();
    let channel = match notification.entry.channel.as_str() {
        "email" => channels.email.as_ref(),
        "webhook" => channels.webhook.as_ref(),
        _ => None,
    };
    let outcome = match channel {
        Some(channel) => channel.deliver(notification, now).await,
        None => Err(DeliveryError(format!(
            "no {} channel for recipient {}",
            notification.entry.channel, notification.entry.recipient
        ))),
    };
    let (state, error) = match outcome {
        Ok(()) => (DeliveryState::Sent, None),
        // Nowhere to send it: trying again cannot help.
        Err(error) if channel.is_none() => (DeliveryState::Dead, Some(error.0)),
        Err(error) if number >= policy.attempts_max => (DeliveryState::Dead, Some(error.0)),
        Err(error) => (DeliveryState::Pending, Some(error.0)),
    };
    let wait = policy.backoff(number);
    let wait_seconds = i64::try_from(wait.as_secs()).unwrap_or(i64::MAX);
    Attempt {
        id: notification.entry.id.clone(),
        attempt: number,
        at: now.as_second(),
        state,
        error,
        next_attempt_at: now.as_second().saturating_add(wait_seconds),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_longest() {
        let policy = RetryPolicy {
            attempts_max: 10,
            backoff_first: Duration::from_secs(60),
            backoff_max: Duration::from_secs(600),
        };
        let waits: Vec<u64> = (1..=6).map(|n| policy.backoff(n).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600]);
        assert_eq!(policy.backoff(u32::MAX).as_secs(), 600);
    }
}
