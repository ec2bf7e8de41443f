//! A local stand-in for Google's OpenID Connect endpoints, speaking the real wire format:
//! a form-encoded token endpoint that checks the PKCE verifier, RS256-signed ID tokens, JWKS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use petory_external_api::oauth::google::GoogleSettings;
use serde::Deserialize;
use serde_json::{Value, json};

const ISSUER: &str = "https://accounts.google.com";
const CLIENT_ID: &str = "petory-test.apps.googleusercontent.com";
const PRIVATE_KEY: &[u8] = include_bytes!("fixtures/fake-google-rsa.pem");
const JWKS: &str = include_str!("fixtures/fake-google-jwks.json");

/// Who signs in at the fake consent screen, and how the ID token should (mis)behave.
#[derive(Debug, Clone)]
pub struct GoogleUser {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
    /// Replaces the nonce the app sent, to test the nonce check.
    pub nonce_override: Option<String>,
    /// Replaces the audience, to test the audience check.
    pub audience_override: Option<String>,
}

impl GoogleUser {
    pub fn new(sub: &str, email: &str) -> Self {
        Self {
            sub: sub.into(),
            email: email.into(),
            email_verified: true,
            name: "Bori Kim".into(),
            nonce_override: None,
            audience_override: None,
        }
    }
}

struct Grant {
    user: GoogleUser,
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

#[derive(Clone)]
struct Provider {
    grants: Arc<Mutex<HashMap<String, Grant>>>,
    now: DateTime<Utc>,
}

pub struct FakeGoogle {
    base: String,
    provider: Provider,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    code_verifier: String,
    client_id: String,
    redirect_uri: String,
}

async fn token(
    State(provider): State<Provider>,
    Form(form): Form<TokenForm>,
) -> (StatusCode, Json<Value>) {
    let invalid = |description: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": description})),
        )
    };
    let Some(grant) = provider.grants.lock().unwrap().remove(&form.code) else {
        return invalid("unknown or used code");
    };
    if form.grant_type != "authorization_code"
        || form.client_id != CLIENT_ID
        || form.redirect_uri != grant.redirect_uri
    {
        return invalid("client or redirect mismatch");
    }
    if petory_core::identity::oauth::code_challenge(&form.code_verifier) != grant.challenge {
        return invalid("PKCE verification failed");
    }
    let user = grant.user;
    let claims = json!({
        "iss": ISSUER,
        "aud": user.audience_override.clone().unwrap_or_else(|| CLIENT_ID.to_owned()),
        "sub": user.sub,
        "email": user.email,
        "email_verified": user.email_verified,
        "name": user.name,
        "nonce": user.nonce_override.unwrap_or(grant.nonce),
        "iat": provider.now.timestamp(),
        "exp": provider.now.timestamp() + 3600,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("fake-google-1".into());
    let id_token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(PRIVATE_KEY).unwrap(),
    )
    .unwrap();
    (
        StatusCode::OK,
        Json(
            json!({"access_token": "ya29.fake", "expires_in": 3599, "token_type": "Bearer", "scope": "openid email profile", "id_token": id_token}),
        ),
    )
}

impl FakeGoogle {
    pub async fn start(now: DateTime<Utc>) -> Self {
        let provider = Provider {
            grants: Arc::default(),
            now,
        };
        let app = Router::new()
            .route("/token", post(token))
            .route(
                "/jwks",
                get(|| async { ([("content-type", "application/json")], JWKS) }),
            )
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base,
            provider,
            _server: server,
        }
    }

    pub fn settings(&self) -> GoogleSettings {
        GoogleSettings {
            client_id: CLIENT_ID.into(),
            client_secret: "fake-secret".into(),
            redirect_uri: "http://127.0.0.1:8080/api/v1/auth/oauth/google/callback".into(),
            authorization_endpoint: format!("{}/o/oauth2/v2/auth", self.base),
            token_endpoint: format!("{}/token", self.base),
            jwks_uri: format!("{}/jwks", self.base),
            issuers: vec![ISSUER.into()],
            timeout: Duration::from_secs(5),
        }
    }

    /// The user consents on the page `authorize_url` points to: returns `(code, state)` as
    /// Google would send them to the redirect URI.
    pub fn consent(&self, authorize_url: &str, user: GoogleUser) -> (String, String) {
        let url = reqwest::Url::parse(authorize_url).unwrap();
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(query["client_id"], CLIENT_ID);
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(query["scope"].contains("openid"));
        let code = format!("4/fake-{}", uuid::Uuid::new_v4().simple());
        self.provider.grants.lock().unwrap().insert(
            code.clone(),
            Grant {
                user,
                nonce: query["nonce"].clone(),
                challenge: query["code_challenge"].clone(),
                redirect_uri: query["redirect_uri"].clone(),
            },
        );
        (code, query["state"].clone())
    }
}
