//! Sign-in with Google (OpenID Connect, authorization code flow with PKCE, `state` and `nonce`).
//!
//! `begin` remembers a fresh state, nonce and PKCE verifier and returns the provider's URL;
//! `complete` takes them back (once), has the adapter exchange the code and verify the ID token,
//! checks the nonce, then links or creates the account and starts a session.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::account::{self, Sessions, TokenPair};
use super::{AccountStatus, IdentityError, Role, UserId, rules};
use crate::schema::users;

/// How long a user may take at the provider's consent screen.
pub const PENDING_TTL: Duration = Duration::from_secs(600);

/// What the provider vouched for, from a verified ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub nonce: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The provider could not be reached or answered with a server error.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the code (expired, reused, wrong verifier).
    #[error("the provider refused the authorization code: {0}")]
    CodeRejected(String),
    /// The ID token failed verification (signature, issuer, audience, expiry).
    #[error("the ID token is invalid: {0}")]
    InvalidIdToken(String),
}

/// The OpenID provider (Google), implemented in `petory-external-api`.
#[async_trait]
pub trait OpenIdProvider: Send + Sync + 'static {
    fn authorization_url(&self, state: &str, nonce: &str, code_challenge: &str) -> String;
    async fn exchange_code(
        &self,
        code: &str,
        code_verifier: &str,
        now: DateTime<Utc>,
    ) -> Result<VerifiedIdentity, OAuthError>;
}

/// A sign-in in progress, kept by the session store under its `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingAuthorization {
    pub nonce: String,
    pub code_verifier: String,
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// The S256 PKCE challenge of a verifier (RFC 7636).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Starts a sign-in: returns the URL to send the browser to, and the `state` (which the
/// browser must bring back with the callback).
pub async fn begin(
    sessions: Sessions<'_>,
    provider: &dyn OpenIdProvider,
) -> Result<(String, String), IdentityError> {
    let state = random_token();
    let pending = PendingAuthorization {
        nonce: random_token(),
        code_verifier: random_token(),
    };
    sessions
        .store
        .save_pending_authorization(&state, &pending, PENDING_TTL)
        .await?;
    let url = provider.authorization_url(
        &state,
        &pending.nonce,
        &code_challenge(&pending.code_verifier),
    );
    Ok((url, state))
}

/// Finishes a sign-in: links the Google account to a user (creating one if needed) and issues
/// tokens. Google is asked before a connection is taken, so a slow provider holds none.
pub async fn complete(
    db: &crate::db::DbPool,
    sessions: Sessions<'_>,
    provider: &dyn OpenIdProvider,
    state: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<TokenPair, IdentityError> {
    let pending = sessions
        .store
        .take_pending_authorization(state)
        .await?
        .ok_or(IdentityError::InvalidOAuthState)?;
    let identity = provider
        .exchange_code(code, &pending.code_verifier, now)
        .await
        .map_err(IdentityError::OAuth)?;
    if identity.nonce.as_deref() != Some(pending.nonce.as_str()) {
        return Err(IdentityError::OAuthNonceMismatch);
    }
    let mut conn = db.get().await.map_err(crate::db::DbError::from)?;
    let (user, taken_over) = link_or_create(&mut conn, &identity, now).await?;
    account::admit_by_id(&mut conn, user, now).await?;
    let role = account::find(&mut conn, user).await?.role;
    drop(conn);
    if taken_over {
        // Whoever signed up with this address without proving it loses every session.
        sessions.end_all(user, None).await?;
    }
    account::start_session(sessions, user, role, now).await
}

/// The user this Google identity signs in as, and whether an unverified account was taken
/// over (its password dropped; its sessions are the caller's to end).
async fn link_or_create(
    conn: &mut AsyncPgConnection,
    identity: &VerifiedIdentity,
    now: DateTime<Utc>,
) -> Result<(UserId, bool), IdentityError> {
    let linked: Option<i64> = users::table
        .filter(users::google_sub.eq(&identity.subject))
        .filter(users::status.ne(AccountStatus::Withdrawn))
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = linked {
        return Ok((UserId(id), false));
    }
    // Only an address Google has verified may claim an existing account.
    let email = identity
        .email
        .as_deref()
        .filter(|_| identity.email_verified)
        .map(rules::normalize_email)
        .ok_or(IdentityError::OAuthEmailUnverified)?;
    let existing: Option<(i64, Option<DateTime<Utc>>)> = users::table
        .filter(users::email.eq(&email))
        .filter(users::status.ne(AccountStatus::Withdrawn))
        .select((users::id, users::email_verified_at))
        .first(conn)
        .await
        .optional()?;
    if let Some((id, verified_at)) = existing {
        let taken_over = verified_at.is_none();
        diesel::update(users::table.find(id))
            .set((
                users::google_sub.eq(&identity.subject),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        if taken_over {
            // Somebody signed up with this address without proving it; Google proves it now.
            // A password set by whoever that was must not open the owner's account.
            diesel::update(users::table.find(id))
                .set((
                    users::password_hash.eq(None::<String>),
                    users::email_verified_at.eq(Some(now)),
                ))
                .execute(conn)
                .await?;
        }
        return Ok((UserId(id), taken_over));
    }
    // A dormant account keeps its address apart: signing in brings it back.
    if let Some(id) = super::lifecycle::dormant_by_email(conn, &email).await? {
        diesel::update(users::table.find(id))
            .set((
                users::google_sub.eq(&identity.subject),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        return Ok((UserId(id), false));
    }
    let name: String = identity
        .name
        .clone()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| email.split('@').next().unwrap_or("Petory user").to_owned())
        .chars()
        .take(50)
        .collect();
    let id = diesel::insert_into(users::table)
        .values((
            users::email.eq(&email),
            users::name.eq(name.trim()),
            users::google_sub.eq(&identity.subject),
            users::role.eq(Role::User),
            users::email_verified_at.eq(Some(now)),
            users::status_changed_at.eq(now),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
        .await?;
    Ok((UserId(id), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_matches_rfc_7636_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
