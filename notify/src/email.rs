//! E-mail over SMTP with `lettre`.

use async_trait::async_trait;
use infra::outbox::OutboxRow;
use jiff::Timestamp;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{Channel, DeliveryError};

/// One delivery (connection and every SMTP command) takes at most this long.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Delivers `email` notifications through one SMTP server (plain SMTP: a relay inside the
/// court's network, or a loopback one in tests).
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// Why the channel could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("the e-mail sender {from:?} is not a mailbox: {reason}")]
pub struct SmtpSetupError {
    /// The configured sender.
    pub from: String,
    /// Why.
    pub reason: String,
}

impl SmtpChannel {
    /// A channel to `host:port`, sending as `from` (`回音 <huiyin@court.example>`).
    ///
    /// # Errors
    /// [`SmtpSetupError`] when `from` is not a mailbox.
    pub fn new(host: &str, port: u16, from: &str) -> Result<Self, SmtpSetupError> {
        let from: Mailbox = from.parse().map_err(|error| SmtpSetupError {
            from: from.to_owned(),
            reason: format!("{error}"),
        })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(DELIVERY_TIMEOUT))
            .build();
        Ok(SmtpChannel { transport, from })
    }
}

#[async_trait]
impl Channel for SmtpChannel {
    async fn deliver(
        &self,
        notification: &OutboxRow,
        _now: Timestamp,
    ) -> Result<(), DeliveryError> {
        let entry = &notification.entry;
        let Some(address) = &entry.address else {
            return Err(DeliveryError(format!(
                "{} has no e-mail address",
                entry.recipient
            )));
        };
        let to: Mailbox = address
            .parse()
            .map_err(|error| DeliveryError(format!("bad address {address:?}: {error}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(entry.subject.clone())
            // The notice id: a receiver seeing it twice (a sender stopped after delivering and
            // before recording) can drop the copy.
            .message_id(Some(format!("<{}@huiyin>", entry.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(entry.body.clone())
            .map_err(|error| DeliveryError(format!("cannot build the message: {error}")))?;
        match tokio::time::timeout(DELIVERY_TIMEOUT, self.transport.send(message)).await {
            Ok(sent) => sent
                .map(|_| ())
                .map_err(|error| DeliveryError(format!("SMTP: {error}"))),
            Err(_) => Err(DeliveryError(format!(
                "SMTP: no answer within {} s",
                DELIVERY_TIMEOUT.as_secs()
            ))),
        }
    }
}
