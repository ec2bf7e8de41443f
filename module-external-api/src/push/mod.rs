//! Web Push to browsers (RFC 8030), the `PushService` port: each message encrypted for its
//! device (RFC 8291 aes128gcm, by `web-push-native` on RustCrypto) and signed for the push
//! service (RFC 8292 VAPID: an ES256 JWT by `jsonwebtoken`, reused per push service until
//! shortly before it expires). `sandbox` is a local push service that checks both.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::EncodePrivateKey as _;
use petory_core::config::{self, ConfigError};
use petory_core::ports::{PushMessage, PushOutcome, PushService, PushTarget};
use serde::Serialize;

#[cfg(feature = "push-sandbox")]
pub mod sandbox;

/// The application server's VAPID identity: its P-256 key and a contact (`mailto:` or
/// `https:`) push services may use to reach its operator.
#[derive(Clone)]
pub struct VapidSettings {
    key: p256::SecretKey,
    pub subject: String,
}

impl std::fmt::Debug for VapidSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidSettings")
            .field("public_key", &self.public_key())
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// For development machines and tests only (`PETORY_DEV_MODE=1`, when `scripts/dev` did not
/// generate one); anywhere else the binaries refuse to start without `PETORY_VAPID_PRIVATE_KEY`.
pub const DEV_PRIVATE_KEY: &str = "RS0WdYWWo1HajXg3NZR1olzCf31i-ZBGDkFyCs7j1jw";
pub const DEV_SUBJECT: &str = "mailto:dev@petory.invalid";

impl VapidSettings {
    /// From a raw private scalar, base64url (32 bytes: what `web-push generate-vapid-keys`
    /// and `push-sandbox keygen` print).
    pub fn new(private_key: &str, subject: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(private_key.trim().trim_end_matches('='))
            .map_err(|_| "is not base64url".to_owned())?;
        let key = p256::SecretKey::from_slice(&bytes)
            .map_err(|_| "is not a 32-byte P-256 private key".to_owned())?;
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err("the subject must be a mailto: or https: URL".to_owned());
        }
        Ok(Self {
            key,
            subject: subject.to_owned(),
        })
    }

    /// `PETORY_VAPID_PRIVATE_KEY` and `PETORY_VAPID_SUBJECT`; under `PETORY_DEV_MODE` the
    /// development pair when unset.
    pub fn from_env() -> Result<Self, ConfigError> {
        let private_key = config::var_or_dev(
            "PETORY_VAPID_PRIVATE_KEY",
            DEV_PRIVATE_KEY,
            "Web Push needs the server's VAPID key (base64url P-256 private key; \
             `push-sandbox keygen` makes one), or PETORY_DEV_MODE=1 on a development machine",
        )?;
        let subject = config::var_or_dev(
            "PETORY_VAPID_SUBJECT",
            DEV_SUBJECT,
            "push services want a contact for the sender: mailto:ops@example.com or an https URL",
        )?;
        Self::new(&private_key, &subject).map_err(|reason| ConfigError::Invalid {
            name: "PETORY_VAPID_PRIVATE_KEY",
            value: "<hidden>".into(),
            reason,
        })
    }

    /// The public key browsers subscribe with (`applicationServerKey`): 65 bytes, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.public_key().to_encoded_point(false).as_bytes())
    }

    /// A new key pair: (private, public), base64url.
    pub fn generate() -> (String, String) {
        let key = loop {
            // Almost every 32 random bytes are a valid scalar.
            if let Ok(key) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        let private = URL_SAFE_NO_PAD.encode(key.to_bytes());
        let public = URL_SAFE_NO_PAD.encode(key.public_key().to_encoded_point(false).as_bytes());
        (private, public)
    }
}

#[derive(Debug, Clone)]
pub struct PushSettings {
    pub vapid: VapidSettings,
    /// How long one push request may take.
    pub timeout: Duration,
}

impl PushSettings {
    /// [`VapidSettings::from_env`] and `PETORY_PUSH_TIMEOUT_SECS` (10).
    pub fn from_env() -> Result<Self, ConfigError> {
        let timeout = config::parsed_or("PETORY_PUSH_TIMEOUT_SECS", 10_u64)?;
        config::ensure(
            "PETORY_PUSH_TIMEOUT_SECS",
            timeout,
            (1..=120).contains(&timeout),
            "must be 1 to 120",
        )?;
        Ok(Self {
            vapid: VapidSettings::from_env()?,
            timeout: Duration::from_secs(timeout),
        })
    }
}

/// How long a VAPID token is valid (push services take at most 24 hours).
const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// A cached token is replaced this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(3600);

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: u64,
    sub: &'a str,
}

/// The Web Push client: one HTTP client, one VAPID key, a token per push service.
pub struct WebPush {
    http: reqwest::Client,
    signing: jsonwebtoken::EncodingKey,
    public_key: String,
    subject: String,
    /// VAPID tokens by audience (a push service's origin), with when they expire.
    tokens: Mutex<HashMap<String, (String, u64)>>,
}

impl WebPush {
    pub fn new(settings: &PushSettings) -> anyhow::Result<Self> {
        let der = settings
            .vapid
            .key
            .to_pkcs8_der()
            .map_err(|error| anyhow::anyhow!("VAPID key: {error}"))?;
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(settings.timeout)
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(256)
                .build()?,
            signing: jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
            public_key: settings.vapid.public_key(),
            subject: settings.vapid.subject.clone(),
            tokens: Mutex::default(),
        })
    }

    /// The `Authorization` header for a push service at `audience` (its origin).
    fn authorization(&self, audience: &str) -> Result<String, jsonwebtoken::errors::Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let token = match tokens.get(audience) {
            Some((token, exp)) if *exp > now + TOKEN_MARGIN.as_secs() => token.clone(),
            _ => {
                let exp = now + TOKEN_LIFETIME.as_secs();
                let token = jsonwebtoken::encode(
                    &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
                    &VapidClaims {
                        aud: audience,
                        exp,
                        sub: &self.subject,
                    },
                    &self.signing,
                )?;
                tokens.insert(audience.to_owned(), (token.clone(), exp));
                token
            }
        };
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// The body for `target`: `payload` encrypted for its keys (aes128gcm).
pub fn encrypt(target: &PushTarget, payload: &[u8]) -> Result<Vec<u8>, String> {
    let public = URL_SAFE_NO_PAD
        .decode(&target.p256dh)
        .ok()
        .and_then(|bytes| web_push_native::p256::PublicKey::from_sec1_bytes(&bytes).ok())
        .ok_or("the subscription's p256dh is not a P-256 key")?;
    let auth = URL_SAFE_NO_PAD
        .decode(&target.auth)
        .ok()
        .filter(|bytes| bytes.len() == 16)
        .ok_or("the subscription's auth is not 16 bytes")?;
    web_push_native::encrypt(
        payload.to_vec(),
        &public,
        &web_push_native::Auth::clone_from_slice(&auth),
    )
    .map_err(|error| error.to_string())
}

#[async_trait]
impl PushService for WebPush {
    async fn send(&self, target: &PushTarget, message: &PushMessage) -> PushOutcome {
        let refused = |reason: String| PushOutcome::Refused { reason };
        let Ok(url) = url::Url::parse(&target.endpoint) else {
            return refused("the endpoint is not a URL".into());
        };
        let audience = url.origin().ascii_serialization();
        let body = match encrypt(target, &message.payload) {
            Ok(body) => body,
            Err(reason) => return refused(reason),
        };
        let authorization = match self.authorization(&audience) {
            Ok(header) => header,
            Err(error) => return refused(format!("VAPID token not signed: {error}")),
        };
        let mut request = self
            .http
            .post(url)
            .header("TTL", message.ttl.as_secs().to_string())
            .header("Urgency", message.urgency.as_str())
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body);
        if let Some(topic) = &message.topic {
            request = request.header("Topic", topic);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return PushOutcome::RetryLater {
                    reason: format!("push service unreachable: {error}"),
                    after: None,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return PushOutcome::Accepted;
        }
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return PushOutcome::Gone;
        }
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        let reason = format!("{status}: {}", text.chars().take(200).collect::<String>());
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            PushOutcome::RetryLater { reason, after }
        } else {
            PushOutcome::Refused { reason }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_key_reads_and_a_generated_pair_matches() {
        let dev = VapidSettings::new(DEV_PRIVATE_KEY, DEV_SUBJECT).unwrap();
        assert_eq!(dev.public_key().len(), 87);
        let (private, public) = VapidSettings::generate();
        assert_eq!(
            VapidSettings::new(&private, "https://petory.example")
                .unwrap()
                .public_key(),
            public
        );
        assert!(VapidSettings::new("short", DEV_SUBJECT).is_err());
        assert!(VapidSettings::new(&private, "ops@example.com").is_err());
    }
}
