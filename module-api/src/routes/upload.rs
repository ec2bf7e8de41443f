//! Uploads: a presigned `PUT` for one image, under a key the server makes.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::platform::upload::{self, ImageType, Purpose};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, ValidJson};

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UploadRequest {
    /// Where the image will be used; a key is accepted only there (`ITEM`: administrators).
    pub purpose: Purpose,
    pub content_type: ImageType,
    /// The exact size of the file in bytes (the server's limit may be lower than the schema's).
    #[schema(minimum = 1, maximum = 10485760)]
    pub content_length: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResponse {
    /// Refer to the image by this key once it is uploaded.
    pub key: String,
    /// Send the file here with `method` and exactly these `headers`.
    pub url: String,
    pub method: String,
    pub headers: BTreeMap<String, String>,
    /// The URL stops working at this time.
    pub expires_at: DateTime<Utc>,
}

/// Ask to upload an image: a presigned `PUT` for one object.
#[utoipa::path(post, path = "/uploads", tag = "uploads", security(("bearer" = [])), request_body = UploadRequest,
    responses(
        (status = 201, description = "Upload the file to `url`, then refer to `key`", body = UploadResponse),
        (status = 403, description = "`ADMIN_ONLY` (item images)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`TOO_MANY_PENDING_UPLOADS` (100 not used yet)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`, `UPLOAD_TOO_LARGE`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_upload(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<UploadRequest>,
) -> ApiResult<(StatusCode, Json<UploadResponse>)> {
    let mut conn = state.db().await?;
    let started = upload::start(
        &mut conn,
        state.object_store.as_ref(),
        &state.config.uploads,
        user.id,
        user.role,
        body.purpose,
        body.content_type,
        body.content_length,
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadResponse {
            key: started.key,
            url: started.request.url,
            method: started.request.method,
            headers: started.request.headers.into_iter().collect(),
            expires_at: started.expires_at,
        }),
    ))
}

/// The image every `image_urls` size points at while an image has no served versions: being
/// made (`PROCESSING`), unreadable (`FAILED`) or withheld by moderation (`WITHHELD`). A light grey
/// square, WebP; the same bytes forever.
#[utoipa::path(get, path = "/images/placeholder", tag = "uploads",
    responses(
        (status = 200, description = "The placeholder", content_type = "image/webp", body = Vec<u8>,
            headers(("Cache-Control" = String, description = "Kept for a day"))),
    ))]
pub async fn placeholder() -> impl axum::response::IntoResponse {
    use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
    (
        [
            (CONTENT_TYPE, "image/webp"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        petory_external_api::image::placeholder(),
    )
}
