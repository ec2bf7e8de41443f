//! A member's notification settings: for each kind, whether it reaches them in the app, by push
//! and by mail; and the chat rooms they muted. Only the kinds a member changed have a row; the
//! others have the defaults. Every sender asks [`wanted`],
//! so a switch means the same everywhere; the midnight question's set insert applies the same rule
//! in its SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NewNotification, Notice, NotificationError, NotificationKind};
use crate::schema::{chat_members, notification_settings};
use crate::types::UserId;

/// The rooms one member may mute at once (a member is in at most this many rooms in practice).
pub const MAX_MUTED_ROOMS: usize = 1000;

/// Where one kind reaches a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Channels {
    /// In the app: the list and the live stream.
    pub in_app: bool,
    /// By Web Push to the member's devices.
    pub push: bool,
    /// By mail.
    pub mail: bool,
}

impl Default for Channels {
    /// Every kind in the app and by push, none by mail.
    fn default() -> Self {
        Self {
            in_app: true,
            push: true,
            mail: false,
        }
    }
}

/// A change of one kind's channels: `None` keeps a channel as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelsChange {
    pub in_app: Option<bool>,
    pub push: Option<bool>,
    pub mail: Option<bool>,
}

/// Every kind's channels, and the rooms muted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub kinds: BTreeMap<NotificationKind, Channels>,
    pub muted_rooms: Vec<i64>,
}

/// What a change asks: some kinds' channels, and (when given) the whole list of muted rooms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    pub kinds: BTreeMap<NotificationKind, ChannelsChange>,
    pub muted_rooms: Option<Vec<i64>>,
}

#[derive(Queryable)]
struct Row {
    kind: NotificationKind,
    in_app: bool,
    push: bool,
    mail: bool,
}

/// `user`'s settings: each kind's stored channels, or the defaults.
pub async fn get(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Settings, NotificationError> {
    let rows: Vec<Row> = notification_settings::table
        .filter(notification_settings::user_id.eq(user))
        .select((
            notification_settings::kind,
            notification_settings::in_app,
            notification_settings::push,
            notification_settings::mail,
        ))
        .load(conn)
        .await?;
    let mut kinds: BTreeMap<NotificationKind, Channels> = NotificationKind::ALL
        .iter()
        .map(|kind| (*kind, Channels::default()))
        .collect();
    for row in rows {
        kinds.insert(
            row.kind,
            Channels {
                in_app: row.in_app,
                push: row.push,
                mail: row.mail,
            },
        );
    }
    let muted_rooms = chat_members::table
        .filter(chat_members::user_id.eq(user))
        .filter(chat_members::muted)
        .order(chat_members::room_id)
        .select(chat_members::room_id)
        .load(conn)
        .await?;
    Ok(Settings { kinds, muted_rooms })
}

/// Changes `user`'s settings as asked, in one transaction; a muted room must be one of the
/// member's rooms.
pub async fn change(
    conn: &mut AsyncPgConnection,
    user: UserId,
    change: SettingsChange,
    now: DateTime<Utc>,
) -> Result<Settings, NotificationError> {
    if change
        .muted_rooms
        .as_ref()
        .is_some_and(|rooms| rooms.len() > MAX_MUTED_ROOMS)
    {
        return Err(NotificationError::TooManyMutedRooms {
            max: MAX_MUTED_ROOMS,
        });
    }
    conn.transaction(async |conn| {
        let current = get(conn, user).await?;
        for (kind, asked) in &change.kinds {
            let was = current.kinds.get(kind).copied().unwrap_or_default();
            let now_channels = Channels {
                in_app: asked.in_app.unwrap_or(was.in_app),
                push: asked.push.unwrap_or(was.push),
                mail: asked.mail.unwrap_or(was.mail),
            };
            diesel::insert_into(notification_settings::table)
                .values((
                    notification_settings::user_id.eq(user),
                    notification_settings::kind.eq(kind),
                    notification_settings::in_app.eq(now_channels.in_app),
                    notification_settings::push.eq(now_channels.push),
                    notification_settings::mail.eq(now_channels.mail),
                    notification_settings::updated_at.eq(now),
                ))
                .on_conflict((notification_settings::user_id, notification_settings::kind))
                .do_update()
                .set((
                    notification_settings::in_app.eq(now_channels.in_app),
                    notification_settings::push.eq(now_channels.push),
                    notification_settings::mail.eq(now_channels.mail),
                    notification_settings::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
        }
        if let Some(rooms) = &change.muted_rooms {
            let mine: i64 = chat_members::table
                .filter(chat_members::user_id.eq(user))
                .filter(chat_members::room_id.eq_any(rooms))
                .count()
                .get_result(conn)
                .await?;
            let mut distinct = rooms.clone();
            distinct.sort_unstable();
            distinct.dedup();
            if usize::try_from(mine).unwrap_or(0) != distinct.len() {
                return Err(NotificationError::RoomNotFound);
            }
            diesel::update(chat_members::table.filter(chat_members::user_id.eq(user)))
                .set(chat_members::muted.eq(chat_members::room_id.eq_any(&distinct)))
                .execute(conn)
                .await?;
        }
        get(conn, user).await
    })
    .await
}

/// A way a notification reaches its member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    InApp,
    Push,
    Mail,
}

/// Whether `notification` should reach its member in the app: its kind is on, and a chat
/// message is not from a room they muted.
pub async fn wanted(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
) -> Result<bool, NotificationError> {
    wanted_on(conn, notification, Channel::InApp).await
}

/// Whether `notification` should reach its member on `channel`: its kind is on there, and a
/// chat message is not from a room they muted.
pub async fn wanted_on(
    conn: &mut AsyncPgConnection,
    notification: &NewNotification,
    channel: Channel,
) -> Result<bool, NotificationError> {
    let kind = notification.notice.kind();
    let mine = notification_settings::table
        .filter(notification_settings::user_id.eq(notification.user_id))
        .filter(notification_settings::kind.eq(kind))
        .into_boxed();
    let mine = match channel {
        Channel::InApp => mine.filter(notification_settings::in_app.eq(false)),
        Channel::Push => mine.filter(notification_settings::push.eq(false)),
        Channel::Mail => mine.filter(notification_settings::mail.eq(true)),
    };
    let row_says: bool = diesel::select(diesel::dsl::exists(mine))
        .get_result(conn)
        .await?;
    // A row switching it off (in the app, by push), or one switching mail on.
    let on = match channel {
        Channel::InApp | Channel::Push => !row_says,
        Channel::Mail => row_says,
    };
    if !on {
        return Ok(false);
    }
    if let Notice::ChatMessage { room_id, .. } = notification.notice {
        let muted: bool = diesel::select(diesel::dsl::exists(
            chat_members::table
                .filter(chat_members::room_id.eq(room_id))
                .filter(chat_members::user_id.eq(notification.user_id))
                .filter(chat_members::muted),
        ))
        .get_result(conn)
        .await?;
        return Ok(!muted);
    }
    Ok(true)
}
