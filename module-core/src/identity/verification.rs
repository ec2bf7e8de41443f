//! Proving an email address: a link with a single-use token is mailed (through the outbox, in
//! the transaction that asks for it); following it marks the account's address verified. Only
//! a verified account owns its address: Google sign-in links to it as is, and takes an
//! unverified one over (see `oauth`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::token::secret_digest;
use super::{IdentityError, UserId};
use crate::platform::mail;
use crate::ports::Mail;
use crate::schema::{email_verifications, users};

/// How long a mailed link works.
pub const LINK_LIFETIME: TimeDelta = TimeDelta::hours(48);
/// How soon another link may be asked for.
pub const RESEND_AFTER: TimeDelta = TimeDelta::minutes(1);

/// Mails a verification link for the account's current address, in the caller's transaction.
/// `link_base` is the API as browsers reach it (`PETORY_PUBLIC_URL`).
pub async fn send(
    conn: &mut AsyncPgConnection,
    user: UserId,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let (email, name): (String, String) = users::table
        .find(user)
        .select((users::email, users::name))
        .first(conn)
        .await?;
    let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    diesel::insert_into(email_verifications::table)
        .values((
            email_verifications::token_digest.eq(secret_digest(&token)),
            email_verifications::user_id.eq(user),
            email_verifications::email.eq(&email),
            email_verifications::created_at.eq(now),
            email_verifications::expires_at.eq(now + LINK_LIFETIME),
        ))
        .execute(conn)
        .await?;
    let link = format!(
        "{}/api/v1/auth/verify-email?token={token}",
        link_base.trim_end_matches('/')
    );
    let message = crate::platform::messages::verify_email(&name, &link);
    mail::request_many(
        conn,
        &[Mail {
            to: email,
            subject: message.title,
            body: message.body,
        }],
        now,
    )
    .await?;
    Ok(())
}

/// Mails a fresh link, unless one went out less than [`RESEND_AFTER`] ago.
pub async fn resend(
    conn: &mut AsyncPgConnection,
    user: UserId,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    conn.transaction(async move |conn| -> Result<(), IdentityError> {
        // One request at a time per account.
        let verified: Option<DateTime<Utc>> = users::table
            .find(user)
            .select(users::email_verified_at)
            .for_update()
            .first(conn)
            .await?;
        if verified.is_some() {
            return Err(IdentityError::EmailAlreadyVerified);
        }
        let last: Option<DateTime<Utc>> = email_verifications::table
            .filter(email_verifications::user_id.eq(user))
            .select(diesel::dsl::max(email_verifications::created_at))
            .first(conn)
            .await?;
        if let Some(last) = last.filter(|last| *last + RESEND_AFTER > now) {
            let wait = (last + RESEND_AFTER - now).num_seconds().max(1);
            return Err(IdentityError::VerificationRecentlySent {
                retry_after: u64::try_from(wait).unwrap_or(60),
            });
        }
        send(conn, user, link_base, now).await
    })
    .await
}

/// Follows a mailed link: the account's address is verified if the link is unexpired and was
/// sent to the address the account has now. Every link of the account is spent.
pub async fn confirm(
    conn: &mut AsyncPgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<UserId, IdentityError> {
    let token_digest = secret_digest(token);
    conn.transaction(async move |conn| -> Result<UserId, IdentityError> {
        let (user_id, email, expires_at): (i64, String, DateTime<Utc>) = email_verifications::table
            .find(&token_digest)
            .select((
                email_verifications::user_id,
                email_verifications::email,
                email_verifications::expires_at,
            ))
            .first(conn)
            .await
            .optional()?
            .ok_or(IdentityError::InvalidVerificationToken)?;
        if expires_at <= now {
            return Err(IdentityError::InvalidVerificationToken);
        }
        let verified = diesel::update(
            users::table
                .find(user_id)
                .filter(users::email.eq(&email))
                .filter(users::email_verified_at.is_null()),
        )
        .set((users::email_verified_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
        .await?;
        diesel::delete(email_verifications::table.filter(email_verifications::user_id.eq(user_id)))
            .execute(conn)
            .await?;
        if verified == 0 {
            return Err(IdentityError::InvalidVerificationToken);
        }
        Ok(UserId(user_id))
    })
    .await
}
