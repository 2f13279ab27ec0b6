//! SMS and e-mail to holders. Every message is recorded in the `outbox` table by the store
//! (with its secret masked: the database keeps no OTP or activation code) and handed to
//! the providers of its channel:
//!
//! - [`OutboxFile`], the default for both channels: an owner-only file that stands for the
//!   holder's phone and mailbox (the test bed reads OTPs there);
//! - [`Webhook`], a real provider's HTTP endpoint: POST JSON
//!   `{"channel", "to", "subject", "text"}` (subject for e-mail only).

use std::path::PathBuf;
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// One message to a holder, carrying one secret (an OTP or an activation code).
pub struct Message {
    pub channel: Channel,
    pub to: String,
    pub subject: &'static str,
    text: Zeroizing<String>,
    masked: String,
}

impl Message {
    /// `template` has `{secret}` where the secret goes.
    pub fn new(channel: Channel, to: &str, subject: &'static str, template: &str, secret: &str) -> Message {
        Message {
            channel,
            to: to.to_owned(),
            subject,
            text: Zeroizing::new(template.replace("{secret}", secret)),
            masked: template.replace("{secret}", &"•".repeat(secret.chars().count().min(6))),
        }
    }

    /// The text as sent.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text with its secret masked, as the outbox table keeps it.
    pub fn masked(&self) -> &str {
        &self.masked
    }
}

/// A way to deliver messages: the outbox file, or a provider.
pub trait Provider: Send + Sync {
    fn send(&self, message: &Message) -> Result<()>;
}

/// The default provider: one line per message (time, channel, recipient, subject and
/// text, newlines as spaces) appended to an owner-only file.
pub struct OutboxFile(pub PathBuf);

impl Provider for OutboxFile {
    fn send(&self, m: &Message) -> Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&self.0).map_err(Error::file(&self.0))?;
        let text = m.text().replace(['\n', '\t'], " ");
        let line = match m.channel {
            Channel::Sms => format!("{}\tsms\t{}\t{text}", now(), m.to),
            Channel::Email => format!("{}\temail\t{}\t{}: {text}", now(), m.to, m.subject),
        };
        writeln!(f, "{line}").map_err(Error::file(&self.0))
    }
}

/// A provider's HTTP(S) endpoint.
pub struct Webhook(pub String);

impl Provider for Webhook {
    fn send(&self, m: &Message) -> Result<()> {
        let mut payload = serde_json::json!({ "channel": m.channel.name(), "to": m.to, "text": m.text() });
        if m.channel == Channel::Email {
            payload["subject"] = m.subject.into();
        }
        ureq::post(&self.0)
            .timeout(std::time::Duration::from_secs(10))
            .send_json(payload)
            .map(|_| ())
            .map_err(|e| Error::Delivery { provider: self.0.clone(), reason: e.to_string() })
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The providers of each channel.
#[derive(Clone, Default)]
pub struct Gateway {
    providers: Arc<Vec<(Channel, Box<dyn Provider>)>>,
}

impl Gateway {
    /// The outbox file for both channels, plus each channel's webhook when configured.
    pub fn new(outbox: Option<PathBuf>, sms_webhook: Option<String>, email_webhook: Option<String>) -> Gateway {
        let mut providers: Vec<(Channel, Box<dyn Provider>)> = Vec::new();
        if let Some(path) = outbox {
            providers.push((Channel::Sms, Box::new(OutboxFile(path.clone()))));
            providers.push((Channel::Email, Box::new(OutboxFile(path))));
        }
        if let Some(url) = sms_webhook {
            providers.push((Channel::Sms, Box::new(Webhook(url))));
        }
        if let Some(url) = email_webhook {
            providers.push((Channel::Email, Box::new(Webhook(url))));
        }
        Gateway { providers: Arc::new(providers) }
    }

    /// Hand the message to every provider of its channel; false when one refused it.
    pub async fn deliver(&self, message: Message) -> bool {
        let providers = self.providers.clone();
        tokio::task::spawn_blocking(move || {
            let mut delivered = true;
            for (_, provider) in providers.iter().filter(|(c, _)| *c == message.channel) {
                if let Err(e) = provider.send(&message) {
                    // The recipient is personal data the operator needs; the text is not logged.
                    tracing::warn!(channel = message.channel.name(), to = %message.to, error = %e, "not delivered");
                    delivered = false;
                }
            }
            delivered
        })
        .await
        .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_reach_the_outbox_file_and_the_table_copy_is_masked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("outbox.log");
        let gateway = Gateway::new(Some(file.clone()), None, None);
        let m = Message::new(Channel::Email, "a@b.it", "Oggetto", "Codice:\n{secret}.", "ABCD-EFGH-JKLM");
        assert_eq!(m.masked(), "Codice:\n••••••.");
        assert!(gateway.deliver(m).await);
        let sms = Message::new(Channel::Sms, "+39333", "", "OTP {secret}", "123456");
        assert!(gateway.deliver(sms).await);
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("\temail\ta@b.it\tOggetto: Codice: ABCD-EFGH-JKLM."), "{text}");
        assert!(lines[1].ends_with("\tsms\t+39333\tOTP 123456"), "{text}");
        let webhook = Gateway::new(None, None, Some("http://127.0.0.1:9/unreachable".into()));
        assert!(!webhook.deliver(Message::new(Channel::Email, "a@b.it", "S", "{secret}", "X")).await);
        assert!(webhook.deliver(Message::new(Channel::Sms, "+39", "", "{secret}", "X")).await, "no SMS provider");
    }
}
