//! Mails are sent through the outbox: asked for in the transaction that decides them, sent by
//! the relay through the `Mailer` port (and retried when sending fails).

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::db::DbError;
use crate::platform::outbox;
use crate::ports::Mail;

/// A mail asked for is an outbox event of its own.
impl outbox::Payload for Mail {
    const KIND: &'static str = "MAIL_REQUESTED";
}

pub async fn request_many(
    conn: &mut AsyncPgConnection,
    mails: &[Mail],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    outbox::record_many(conn, mails, now).await?;
    Ok(())
}
