//! Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque random strings whose digest
//! is kept by the session store).

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{Role, UserId};
use crate::config::{self, ConfigError};

#[derive(Clone)]
pub struct TokenSettings {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub issuer: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for TokenSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSettings")
            .field("issuer", &self.issuer)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .finish_non_exhaustive()
    }
}

/// For development machines only (`PETORY_DEV_MODE=1`); anywhere else the API refuses to start
/// without `PETORY_JWT_SECRET`.
pub const DEV_SECRET: &str = "petory-local-development-secret-do-not-use-in-production";

impl TokenSettings {
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            issuer: "petory".to_owned(),
            access_ttl,
            refresh_ttl,
        }
    }

    /// `PETORY_JWT_SECRET` (at least 32 bytes), `PETORY_ACCESS_TOKEN_TTL_SECS` (900),
    /// `PETORY_REFRESH_TOKEN_TTL_DAYS` (14).
    pub fn from_env() -> Result<Self, ConfigError> {
        // Without a secret of its own, anyone who read the source could mint an ADMIN token.
        let secret = match config::var("PETORY_JWT_SECRET")? {
            Some(secret) => secret,
            None if config::dev_mode()? => {
                tracing::warn!(
                    "PETORY_JWT_SECRET is unset: signing with the development secret (PETORY_DEV_MODE)"
                );
                DEV_SECRET.to_owned()
            }
            None => {
                return Err(ConfigError::Missing {
                    name: "PETORY_JWT_SECRET",
                    reason: "tokens cannot be signed with a secret everyone knows; set at least 32 random bytes \
                             (or PETORY_DEV_MODE=1 on a development machine)",
                });
            }
        };
        config::ensure(
            "PETORY_JWT_SECRET",
            "<hidden>",
            secret.len() >= 32,
            "must be at least 32 bytes",
        )?;
        let access = access_ttl_from_env()?;
        let refresh = config::parsed_or("PETORY_REFRESH_TOKEN_TTL_DAYS", 14_u64)?;
        config::ensure(
            "PETORY_REFRESH_TOKEN_TTL_DAYS",
            refresh,
            (1..=365).contains(&refresh),
            "must be 1 to 365",
        )?;
        Ok(Self::new(
            secret.as_bytes(),
            access,
            Duration::from_secs(refresh * 86_400),
        ))
    }
}

/// `PETORY_ACCESS_TOKEN_TTL_SECS` (900): also how long a revocation must be remembered.
pub fn access_ttl_from_env() -> Result<Duration, ConfigError> {
    let access = config::parsed_or("PETORY_ACCESS_TOKEN_TTL_SECS", 900_u64)?;
    config::ensure(
        "PETORY_ACCESS_TOKEN_TTL_SECS",
        access,
        (60..=86_400).contains(&access),
        "must be 60 to 86400",
    )?;
    Ok(Duration::from_secs(access))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    pub role: Role,
    /// This token's id, for the logout blacklist.
    pub jti: String,
    /// The session (refresh-token family) the token belongs to.
    pub sid: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok().map(UserId)
    }

    /// How long the token remains valid after `now` (zero when expired).
    pub fn remaining(&self, now: DateTime<Utc>) -> Duration {
        Duration::from_secs(u64::try_from(self.exp - now.timestamp()).unwrap_or(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is malformed or its signature is wrong")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
}

pub fn issue_access(
    settings: &TokenSettings,
    user: UserId,
    role: Role,
    session: &str,
    now: DateTime<Utc>,
) -> (String, AccessClaims) {
    let claims = AccessClaims {
        sub: user.to_string(),
        role,
        jti: uuid::Uuid::new_v4().to_string(),
        sid: session.to_owned(),
        iss: settings.issuer.clone(),
        iat: now.timestamp(),
        exp: now.timestamp() + i64::try_from(settings.access_ttl.as_secs()).unwrap_or(900),
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &settings.encoding)
        .unwrap_or_default();
    (token, claims)
}

/// Checks signature, algorithm (HS256 only, so `alg: none` and key confusion are refused),
/// issuer and expiry against `now`.
pub fn verify_access(
    settings: &TokenSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Result<AccessClaims, TokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Expiry is checked against our clock below, not the system's.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    validation.set_issuer(&[settings.issuer.as_str()]);
    let claims = jsonwebtoken::decode::<AccessClaims>(token, &settings.decoding, &validation)
        .map_err(|_| TokenError::Invalid)?
        .claims;
    if claims.exp <= now.timestamp() {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

/// The audience of device tokens: never an access token's (which has none), and the reverse.
const DEVICE_AUDIENCE: &str = "petory-device";
/// How long a device stays known without signing in again.
pub const DEVICE_TTL: chrono::TimeDelta = chrono::TimeDelta::days(365);

/// A browser or app that signed in to an account: it keeps its own count of failed logins, so
/// that guesses from elsewhere never lock the owner out of a device they used before. Signed
/// like access tokens, kept by the client (an `HttpOnly` cookie), worth nothing without the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceClaims {
    /// The account's login key (its email's digest, as failed logins are counted by).
    pub acc: String,
    /// This device's random id.
    pub did: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// A device token for `account` (a login key): the device `did` again, or a new one.
pub fn issue_device(
    settings: &TokenSettings,
    account: &str,
    did: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let claims = DeviceClaims {
        acc: account.to_owned(),
        did: did.map_or_else(|| hex::encode(rand::random::<[u8; 16]>()), str::to_owned),
        iss: settings.issuer.clone(),
        aud: DEVICE_AUDIENCE.to_owned(),
        iat: now.timestamp(),
        exp: (now + DEVICE_TTL).timestamp(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &settings.encoding)
        .unwrap_or_default()
}

/// The claims of a device token that is ours and unexpired; `None` for anything else.
pub fn verify_device(
    settings: &TokenSettings,
    token: &str,
    now: DateTime<Utc>,
) -> Option<DeviceClaims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[settings.issuer.as_str()]);
    validation.set_audience(&[DEVICE_AUDIENCE]);
    jsonwebtoken::decode::<DeviceClaims>(token, &settings.decoding, &validation)
        .ok()
        .map(|data| data.claims)
        .filter(|claims| claims.exp > now.timestamp())
}

/// A new refresh token: 256 random bits, hex-encoded.
pub fn new_refresh_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// What is kept instead of a secret token (refresh tokens, mailed links, payment tokens,
/// calendar feed addresses): its SHA-256, hex-encoded.
pub fn secret_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> TokenSettings {
        TokenSettings::new(
            DEV_SECRET.as_bytes(),
            Duration::from_secs(900),
            Duration::from_secs(86_400),
        )
    }

    fn now() -> DateTime<Utc> {
        "2026-11-23T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let (token, claims) = issue_access(&settings(), UserId(7), Role::User, "family", now());
        assert_eq!(
            verify_access(&settings(), &token, now()),
            Ok(claims.clone())
        );
        assert_eq!(claims.user_id(), Some(UserId(7)));
        let later = now() + chrono::TimeDelta::seconds(900);
        assert_eq!(
            verify_access(&settings(), &token, later),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn tampered_and_unsigned_tokens_are_refused() {
        let (token, _) = issue_access(&settings(), UserId(7), Role::User, "family", now());
        let other = TokenSettings::new(
            b"another-secret-another-secret-another",
            Duration::from_secs(900),
            Duration::from_secs(60),
        );
        assert_eq!(
            verify_access(&other, &token, now()),
            Err(TokenError::Invalid)
        );

        let mut parts: Vec<&str> = token.split('.').collect();
        // `{"alg":"none","typ":"JWT"}` with the original claims and no signature.
        parts[0] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let unsigned = format!("{}.{}.", parts[0], parts[1]);
        assert_eq!(
            verify_access(&settings(), &unsigned, now()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn device_and_access_tokens_are_never_taken_for_each_other() {
        let device = issue_device(&settings(), "account-key", None, now());
        let claims = verify_device(&settings(), &device, now()).unwrap();
        assert_eq!(claims.acc, "account-key");
        assert_eq!(claims.did.len(), 32);
        // The same device again keeps its id.
        let again = issue_device(&settings(), "account-key", Some(&claims.did), now());
        assert_eq!(
            verify_device(&settings(), &again, now()).unwrap().did,
            claims.did
        );
        assert_eq!(
            verify_access(&settings(), &device, now()),
            Err(TokenError::Invalid)
        );
        let (access, _) = issue_access(&settings(), UserId(7), Role::User, "family", now());
        assert_eq!(verify_device(&settings(), &access, now()), None);
        assert_eq!(
            verify_device(&settings(), &device, now() + DEVICE_TTL),
            None,
            "expired"
        );
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_as_digests() {
        let (a, b) = (new_refresh_token(), new_refresh_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(secret_digest(&a).len(), 64);
        assert_ne!(secret_digest(&a), a);
    }
}
