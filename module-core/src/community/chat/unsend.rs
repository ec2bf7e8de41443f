//! Taking back one's own message soon after sending it: both members then read a placeholder
//! in its place (its number in the room stays, so no client sees a gap).

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{Message, MessageId, RoomId, membership};
use crate::community::CommunityError;
use crate::schema::chat_messages;
use crate::types::UserId;

/// How long after sending a message its sender may take it back.
pub const UNSEND_WITHIN: TimeDelta = TimeDelta::minutes(5);

/// An unsent message, and the other member of its room (who is told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsent {
    pub message: Message,
    pub other: UserId,
}

/// Takes back `me`'s message `id` in room `room_id` within [`UNSEND_WITHIN`] of sending it;
/// again is harmless (the message as it is).
pub async fn unsend(
    conn: &mut AsyncPgConnection,
    me: UserId,
    room_id: RoomId,
    id: MessageId,
    now: DateTime<Utc>,
) -> Result<Unsent, CommunityError> {
    let room = membership(conn, me, room_id).await?;
    let message: Message = chat_messages::table
        .find(id)
        .filter(chat_messages::room_id.eq(room.id))
        .filter(chat_messages::sender_id.eq(me))
        .select(Message::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::MessageNotFound)?;
    let other = room.other(me);
    if message.deleted_at.is_some() {
        return Ok(Unsent { message, other });
    }
    if now - message.created_at > UNSEND_WITHIN {
        return Err(CommunityError::UnsendTooLate);
    }
    let message = diesel::update(
        chat_messages::table
            .find(id)
            .filter(chat_messages::deleted_at.is_null()),
    )
    .set(chat_messages::deleted_at.eq(now))
    .returning(Message::as_returning())
    .get_result(conn)
    .await
    .optional()?
    .unwrap_or(message);
    Ok(Unsent { message, other })
}
