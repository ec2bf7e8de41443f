//! Resetting a forgotten password: a single-use link is mailed (through the outbox) to an
//! account's address, whoever asks and whether or not the address has an account (the answer
//! is the same); following it within 30 minutes sets a new password, ends every session and
//! the calendar feed's address, and proves the address.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, RunQueryDsl};

use super::account::{Sessions, login_key};
use super::session::first_in_window;
use super::token::secret_digest;
use super::{AccountStatus, IdentityError, UserId, password, rules};
use crate::db::{DbError, DbPool};
use crate::platform::mail;
use crate::ports::Mail;
use crate::schema::{password_resets, users};

/// How long a mailed link works.
pub const LINK_LIFETIME: TimeDelta = TimeDelta::minutes(30);
/// One address gets at most one link in each such stretch, however often it is asked for.
pub const RESEND_AFTER: TimeDelta = TimeDelta::minutes(1);

/// Mails a reset link to the account of `email`, if there is one that may log in (active,
/// suspended or dormant). Nothing tells the caller whether there was.
pub async fn request(
    db: &DbPool,
    sessions: Sessions<'_>,
    email: &str,
    link_base: &str,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let email = rules::normalize_email(email);
    let mut conn = db.get().await.map_err(DbError::from)?;
    let mut account: Option<(UserId, String, String)> = users::table
        .filter(users::email.eq(&email))
        .filter(users::status.ne(AccountStatus::Withdrawn))
        .select((users::id, users::email, users::name))
        .first(&mut conn)
        .await
        .optional()?;
    if account.is_none()
        && let Some(dormant) = super::lifecycle::dormant_by_email(&mut conn, &email).await?
    {
        // A dormant account's address lives apart; the reset (then a login) brings it back.
        account = users::table
            .find(dormant)
            .select((users::id, users::name))
            .first::<(UserId, String)>(&mut conn)
            .await
            .optional()?
            .map(|(id, name)| (id, email.clone(), name));
    }
    let Some((user, address, name)) = account else {
        return Ok(());
    };
    let key = format!("password-reset:{}", login_key(&email));
    if !first_in_window(sessions.store, &key, RESEND_AFTER, now, true).await {
        return Ok(());
    }
    let code = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    conn.transaction(async |conn| -> Result<(), IdentityError> {
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::token_digest.eq(secret_digest(&code)),
                password_resets::user_id.eq(user),
                password_resets::email.eq(&address),
                password_resets::created_at.eq(now),
                password_resets::expires_at.eq(now + LINK_LIFETIME),
            ))
            .execute(conn)
            .await?;
        let link = format!(
            "{}/reset-password?token={code}",
            link_base.trim_end_matches('/')
        );
        let message = crate::platform::messages::password_reset(&name, &link, &code);
        mail::request_many(
            conn,
            &[Mail {
                to: address.clone(),
                subject: message.title,
                body: message.body,
            }],
            now,
        )
        .await?;
        Ok(())
    })
    .await
}

/// Sets a new password with a mailed code: once, within [`LINK_LIFETIME`], and only while
/// the account still has the address it went to. Every link of the account is spent, every
/// session ends, the calendar feed stops, the address counts as proven, and the failed logins
/// counted against the account are forgotten.
pub async fn confirm(
    db: &DbPool,
    sessions: Sessions<'_>,
    code: &str,
    new_password: String,
    other_secrets: &dyn super::closing::OtherSecrets,
    now: DateTime<Utc>,
) -> Result<UserId, IdentityError> {
    let hash = password::hash(new_password).await?;
    let digest = secret_digest(code);
    let mut conn = db.get().await.map_err(DbError::from)?;
    let (user, email) = conn
        .transaction(async |conn| -> Result<(UserId, String), IdentityError> {
            let (user, email, expires_at): (UserId, String, DateTime<Utc>) = password_resets::table
                .find(&digest)
                .select((
                    password_resets::user_id,
                    password_resets::email,
                    password_resets::expires_at,
                ))
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or(IdentityError::InvalidResetToken)?;
            diesel::delete(password_resets::table.filter(password_resets::user_id.eq(user)))
                .execute(conn)
                .await?;
            if expires_at <= now {
                return Err(IdentityError::InvalidResetToken);
            }
            // A dormant account's address lives apart: the link went there all the same.
            let current: Option<String> = users::table
                .find(user)
                .filter(users::status.ne(AccountStatus::Withdrawn))
                .select(users::email)
                .first(conn)
                .await
                .optional()?;
            let dormant = super::lifecycle::dormant_by_email(conn, &email).await? == Some(user.0);
            if current.as_deref() != Some(email.as_str()) && !dormant {
                return Err(IdentityError::InvalidResetToken);
            }
            diesel::update(users::table.find(user))
                .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                .execute(conn)
                .await?;
            // The link reached the address: it is proven.
            diesel::update(
                users::table
                    .find(user)
                    .filter(users::email_verified_at.is_null()),
            )
            .set(users::email_verified_at.eq(now))
            .execute(conn)
            .await?;
            other_secrets.end(conn, user).await?;
            Ok((user, email))
        })
        .await?;
    drop(conn);
    sessions.end_all(user, None).await?;
    let (window, _) = super::account::failure_window(now);
    sessions
        .store
        .clear_failed_logins(&login_key(&email), window)
        .await?;
    Ok(user)
}
