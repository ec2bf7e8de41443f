//! Google as an OpenID Connect provider: authorization URL, code exchange with the PKCE
//! verifier, and ID token verification against the provider's JWKS (RS256, issuer, audience,
//! expiry). Every URL is configuration, so tests run against a local fake provider.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use petory_core::config::{self, ConfigError};
use petory_core::identity::oauth::{OAuthError, OpenIdProvider, VerifiedIdentity};
use serde::Deserialize;
use tokio::sync::RwLock;

#[derive(Debug, Clone)]
pub struct GoogleSettings {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    /// Accepted `iss` values.
    pub issuers: Vec<String>,
    pub timeout: Duration,
}

impl GoogleSettings {
    /// `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET`, `GOOGLE_REDIRECT_URI`, and the provider's
    /// `GOOGLE_AUTH_URL`, `GOOGLE_TOKEN_URL`, `GOOGLE_JWKS_URL`, `GOOGLE_ISSUER` (Google's own
    /// by default).
    pub fn from_env() -> Result<Self, ConfigError> {
        let issuer = config::var_or("GOOGLE_ISSUER", "https://accounts.google.com")?;
        let mut issuers = vec![issuer.clone()];
        // Google issues both forms.
        if let Some(bare) = issuer.strip_prefix("https://") {
            issuers.push(bare.to_owned());
        }
        Ok(Self {
            client_id: config::var_or(
                "GOOGLE_CLIENT_ID",
                "petory-local.apps.googleusercontent.com",
            )?,
            client_secret: config::var_or("GOOGLE_CLIENT_SECRET", "")?,
            redirect_uri: config::var_or(
                "GOOGLE_REDIRECT_URI",
                "http://127.0.0.1:8080/api/v1/auth/oauth/google/callback",
            )?,
            authorization_endpoint: config::var_or(
                "GOOGLE_AUTH_URL",
                "https://accounts.google.com/o/oauth2/v2/auth",
            )?,
            token_endpoint: config::var_or(
                "GOOGLE_TOKEN_URL",
                "https://oauth2.googleapis.com/token",
            )?,
            jwks_uri: config::var_or(
                "GOOGLE_JWKS_URL",
                "https://www.googleapis.com/oauth2/v3/certs",
            )?,
            issuers,
            timeout: Duration::from_secs(10),
        })
    }
}

pub struct GoogleOpenId {
    settings: GoogleSettings,
    http: reqwest::Client,
    /// The provider's signing keys, refetched when a token names an unknown key.
    keys: Arc<RwLock<JwkSet>>,
}

impl GoogleOpenId {
    pub fn new(settings: GoogleSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self {
            settings,
            http,
            keys: Arc::new(RwLock::new(JwkSet { keys: Vec::new() })),
        }
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, OAuthError> {
        if let Some(jwk) = self.keys.read().await.find(kid) {
            return DecodingKey::from_jwk(jwk)
                .map_err(|error| OAuthError::InvalidIdToken(error.to_string()));
        }
        let response = self
            .http
            .get(&self.settings.jwks_uri)
            .send()
            .await
            .map_err(|error| OAuthError::Unavailable(error.to_string()))?;
        if !response.status().is_success() {
            return Err(OAuthError::Unavailable(format!(
                "JWKS answered {}",
                response.status()
            )));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|error| OAuthError::Unavailable(error.to_string()))?;
        let key = set
            .find(kid)
            .map(DecodingKey::from_jwk)
            .transpose()
            .map_err(|error| OAuthError::InvalidIdToken(error.to_string()))?
            .ok_or_else(|| OAuthError::InvalidIdToken(format!("unknown signing key {kid:?}")))?;
        *self.keys.write().await = set;
        Ok(key)
    }

    async fn verify(
        &self,
        id_token: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, OAuthError> {
        let header = jsonwebtoken::decode_header(id_token)
            .map_err(|error| OAuthError::InvalidIdToken(error.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(OAuthError::InvalidIdToken(format!(
                "unexpected algorithm {:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| OAuthError::InvalidIdToken("no key id".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[self.settings.client_id.as_str()]);
        validation.set_issuer(&self.settings.issuers);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Expiry against our clock, below.
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<IdTokenClaims>(id_token, &key, &validation)
            .map_err(|error| OAuthError::InvalidIdToken(error.to_string()))?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(OAuthError::InvalidIdToken("expired".into()));
        }
        Ok(VerifiedIdentity {
            subject: claims.sub,
            email: claims.email,
            email_verified: claims.email_verified.unwrap_or(false),
            name: claims.name,
            nonce: claims.nonce,
        })
    }
}

#[derive(Debug, Deserialize)]
struct IdTokenClaims {
    sub: String,
    exp: i64,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    nonce: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
}

#[async_trait]
impl OpenIdProvider for GoogleOpenId {
    fn authorization_url(&self, state: &str, nonce: &str, code_challenge: &str) -> String {
        let query = [
            ("client_id", self.settings.client_id.as_str()),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
            ("response_type", "code"),
            ("scope", "openid email profile"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ];
        let mut url =
            reqwest::Url::parse(&self.settings.authorization_endpoint).unwrap_or_else(|_| {
                reqwest::Url::parse("https://accounts.google.com/o/oauth2/v2/auth")
                    .expect("static URL")
            });
        url.query_pairs_mut().extend_pairs(query);
        url.to_string()
    }

    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, OAuthError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", code_verifier),
            ("client_id", self.settings.client_id.as_str()),
            ("client_secret", self.settings.client_secret.as_str()),
            ("redirect_uri", self.settings.redirect_uri.as_str()),
        ];
        let response = self
            .http
            .post(&self.settings.token_endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|error| OAuthError::Unavailable(error.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(OAuthError::Unavailable(format!(
                "token endpoint answered {status}"
            )));
        }
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(OAuthError::CodeRejected(format!("{status}: {body}")));
        }
        let tokens: TokenResponse = response
            .json()
            .await
            .map_err(|error| OAuthError::CodeRejected(error.to_string()))?;
        self.verify(&tokens.id_token, now).await
    }
}
