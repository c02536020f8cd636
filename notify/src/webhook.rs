//! A generic signed webhook for SMS and WeChat gateways: a JSON POST over HTTP/1.1, signed with
//! HMAC-SHA256 over `timestamp + "." + body`.
//!
//! Headers: `X-Huiyin-Timestamp` (Unix seconds), `X-Huiyin-Signature` (`sha256=` and the hex
//! HMAC), `X-Huiyin-Notice-Id` (the notice id, for the gateway to drop a repeated delivery).
//! A gateway should refuse a timestamp far from its own clock, so a captured request cannot be
//! replayed later.

use async_trait::async_trait;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use infra::outbox::OutboxRow;
use jiff::Timestamp;
use serde_json::json;
use sha2::Sha256;
use tokio::net::TcpStream;

use crate::{Channel, DeliveryError};

/// A gateway answer is read up to this many bytes.
pub const RESPONSE_BYTES_MAX: usize = 64 * 1024;

/// How long one delivery may take.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Delivers `webhook` notifications to one gateway URL (`http://host:port/path`).
pub struct WebhookChannel {
    authority: String,
    path: String,
    secret: Vec<u8>,
}

/// Why the channel could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("webhook URL {url:?}: {reason}")]
pub struct WebhookSetupError {
    /// The configured URL.
    pub url: String,
    /// Why.
    pub reason: String,
}

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl WebhookChannel {
    /// A channel to `url`, signing with `secret`.
    ///
    /// # Errors
    /// [`WebhookSetupError`] when the URL is not `http://authority/path`.
    pub fn new(url: &str, secret: Vec<u8>) -> Result<Self, WebhookSetupError> {
        let error = |reason: &str| WebhookSetupError {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| error("only http:// is supported (a gateway inside the network)"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(error("names no host"));
        }
        Ok(WebhookChannel {
            authority: authority.to_owned(),
            path: path.to_owned(),
            secret,
        })
    }

    async fn post(&self, body: Vec<u8>, id: &str, now: Timestamp) -> Result<(), DeliveryError> {
        let failed = |what: &str, error: &dyn std::fmt::Display| {
            DeliveryError(format!("webhook {what}: {error}"))
        };
        let stream = TcpStream::connect(&self.authority)
            .await
            .map_err(|error| failed("connect", &error))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| failed("handshake", &error))?;
        let driver = tokio::spawn(connection);
        let timestamp = now.as_second();
        let request = Request::post(self.path.as_str())
            .header("host", self.authority.as_str())
            .header("content-type", "application/json; charset=utf-8")
            .header("x-huiyin-timestamp", timestamp.to_string())
            .header(
                "x-huiyin-signature",
                signature(&self.secret, timestamp, &body),
            )
            .header("x-huiyin-notice-id", id)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| failed("request", &error))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| failed("send", &error))?;
        let status = response.status();
        let answer = http_body_util::Limited::new(response.into_body(), RESPONSE_BYTES_MAX)
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        driver.abort();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError(format!(
                "webhook answered {status}: {}",
                String::from_utf8_lossy(&answer)
            )))
        }
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    async fn deliver(&self, notification: &OutboxRow, now: Timestamp) -> Result<(), DeliveryError> {
        let entry = &notification.entry;
        let body = json!({
            "id": entry.id,
            "kind": entry.kind,
            "item_id": entry.item_id,
            "to": entry.recipient,
            "address": entry.address,
            "subject": entry.subject,
            "text": entry.body,
        });
        let body = serde_json::to_vec(&body).map_err(|error| DeliveryError(error.to_string()))?;
        tokio::time::timeout(DELIVERY_TIMEOUT, self.post(body, &entry.id, now))
            .await
            .map_err(|_| DeliveryError("webhook timed out".to_owned()))?
    }
}
