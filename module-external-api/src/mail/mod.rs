//! The `Mailer` port over lettre: SMTP, or `.eml` files in a directory for development and
//! tests. `PETORY_MAIL_URL` picks one: `smtp://user:pass@host:587` (STARTTLS), `smtps://…`
//! (TLS), or `file:///var/tmp/petory-mail`.

use std::path::PathBuf;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use petory_core::config::{self, ConfigError};
use petory_core::ports::{Mail, MailError, Mailer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// Where mail goes: an SMTP URL or a `file://` directory.
    pub url: String,
    pub from: String,
}

impl MailSettings {
    pub const DEFAULT_URL: &str = "file:///var/tmp/petory-mail";

    /// Mail as `.eml` files in `dir` (development and tests).
    pub fn directory(dir: &std::path::Path) -> Self {
        Self {
            url: format!("file://{}", dir.display()),
            from: "Petory <no-reply@petory.local>".into(),
        }
    }

    /// `PETORY_MAIL_URL` and `PETORY_MAIL_FROM`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let settings = Self {
            url: config::var_or("PETORY_MAIL_URL", Self::DEFAULT_URL)?,
            from: config::var_or("PETORY_MAIL_FROM", "Petory <no-reply@petory.local>")?,
        };
        config::ensure(
            "PETORY_MAIL_FROM",
            &settings.from,
            settings.from.parse::<Mailbox>().is_ok(),
            "must be a mailbox like `Petory <no-reply@example.com>`",
        )?;
        config::ensure(
            "PETORY_MAIL_URL",
            &settings.url,
            settings.url.starts_with("file://")
                || AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url).is_ok(),
            "must be smtp://, smtps:// or file://",
        )?;
        Ok(settings)
    }
}

enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

pub struct LettreMailer {
    transport: Transport,
    from: Mailbox,
}

impl LettreMailer {
    pub fn new(settings: &MailSettings) -> Result<Self, MailError> {
        let from = settings
            .from
            .parse()
            .map_err(|error| MailError(format!("sender: {error}")))?;
        let transport = match settings.url.strip_prefix("file://") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                std::fs::create_dir_all(&dir)
                    .map_err(|error| MailError(format!("{}: {error}", dir.display())))?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
            None => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.url)
                    .map_err(|error| MailError(error.to_string()))?
                    .build(),
            ),
        };
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for LettreMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|error| MailError(format!("recipient {}: {error}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .body(mail.body.clone())
            .map_err(|error| MailError(error.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|error| MailError(error.to_string())),
            Transport::Files(files) => files
                .send(message)
                .await
                .map(drop)
                .map_err(|error| MailError(error.to_string())),
        }
    }
}
