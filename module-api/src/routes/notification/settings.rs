//! My notification settings: each kind's channels (in the app, push, mail) and my muted chat
//! rooms.

use std::collections::BTreeMap;

use axum::extract::State;
use petory_core::notification::NotificationKind;
use petory_core::notification::settings::{
    self, Channels, ChannelsChange, MAX_MUTED_ROOMS, Settings, SettingsChange,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, ValidJson};

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationSettingsResponse {
    /// Every kind with its channels (a kind never changed has the defaults: in the app and by
    /// push, not by mail).
    pub kinds: BTreeMap<NotificationKind, Channels>,
    /// Chat rooms whose messages notify me of nothing.
    pub muted_rooms: Vec<i64>,
}

impl From<Settings> for NotificationSettingsResponse {
    fn from(settings: Settings) -> Self {
        Self {
            kinds: settings.kinds,
            muted_rooms: settings.muted_rooms,
        }
    }
}

/// A change of one kind's channels: a channel left out stays as it is.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub struct ChannelsPatch {
    pub in_app: Option<bool>,
    pub push: Option<bool>,
    pub mail: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct NotificationSettingsPatch {
    /// The kinds to change, by kind.
    #[serde(default)]
    pub kinds: BTreeMap<NotificationKind, ChannelsPatch>,
    /// The rooms muted from now on, all of them (`[]` unmutes every room); left out, the muted
    /// rooms stay.
    #[validate(length(max = 1000))]
    #[schema(max_items = 1000)]
    pub muted_rooms: Option<Vec<i64>>,
}

const _: () = assert!(MAX_MUTED_ROOMS == 1000, "the schema's max_items");

/// My notification settings.
#[utoipa::path(get, path = "/users/me/notification-settings", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every kind's channels and my muted rooms", body = NotificationSettingsResponse),
    ))]
pub async fn get_settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<NotificationSettingsResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(settings::get(&mut conn, user.id).await?.into()))
}

/// Change some of my notification settings.
#[utoipa::path(patch, path = "/users/me/notification-settings", tag = "notifications", security(("bearer" = [])),
    request_body = NotificationSettingsPatch,
    responses(
        (status = 200, description = "The settings now", body = NotificationSettingsResponse),
        (status = 422, description = "`VALIDATION_FAILED` (a muted room that is not one of mine: `muted_rooms` `not_your_room`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn change_settings(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<NotificationSettingsPatch>,
) -> ApiResult<Json<NotificationSettingsResponse>> {
    let change = SettingsChange {
        kinds: body
            .kinds
            .into_iter()
            .map(|(kind, patch)| {
                (
                    kind,
                    ChannelsChange {
                        in_app: patch.in_app,
                        push: patch.push,
                        mail: patch.mail,
                    },
                )
            })
            .collect(),
        muted_rooms: body.muted_rooms,
    };
    let mut conn = state.db().await?;
    Ok(Json(
        settings::change(&mut conn, user.id, change, state.clock.now())
            .await?
            .into(),
    ))
}
