//! My calendar in iCalendar: a secret feed address that calendar apps subscribe to, and the
//! import of `.ics` files.

use crate::error::ProblemCode;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use petory_core::calendar::{feed, ical, import};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path};

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedResponse {
    /// The secret address of my calendar (`…/api/v1/calendar/{token}.ics`): Google Calendar
    /// ("From URL") and Apple Calendar ("New Calendar Subscription") subscribe to it.
    pub url: String,
}

/// Make (or remake) the secret address of my calendar feed: a new address stops the old one.
#[utoipa::path(post, path = "/users/me/calendar-feed", tag = "calendar", security(("bearer" = [])),
    responses((status = 201, description = "The new address", body = FeedResponse)))]
pub async fn create_calendar_feed(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, Json<FeedResponse>)> {
    let mut conn = state.db().await?;
    let token = feed::rotate_feed(&mut conn, user.id, state.clock.now()).await?;
    let url = format!(
        "{}/api/v1/calendar/{token}.ics",
        state.config.public_url.trim_end_matches('/')
    );
    Ok((StatusCode::CREATED, Json(FeedResponse { url })))
}

/// Stop my calendar feed: its address finds nothing any more.
#[utoipa::path(delete, path = "/users/me/calendar-feed", tag = "calendar", security(("bearer" = [])),
    responses((status = 204, description = "Stopped (also when there was none)")))]
pub async fn delete_calendar_feed(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    feed::stop_feed(&mut conn, user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

const ICALENDAR: &str = "text/calendar; charset=utf-8";

/// A calendar feed (RFC 5545): every event of its owner, with VTIMEZONE, RRULE, EXDATE, edited
/// occurrences (RECURRENCE-ID) and reminders (VALARM). The address is the secret; no token.
#[utoipa::path(get, path = "/calendar/{file}", tag = "calendar",
    params(("file" = String, Path, max_length = 60, description = "`{token}.ics`, as `POST /users/me/calendar-feed` gave it")),
    responses(
        (status = 200, description = "The calendar; `ETag` and `If-None-Match` spare unchanged downloads", content_type = "text/calendar", body = String),
        (status = 304, description = "Unchanged since the `ETag` sent"),
        (status = 404, description = "`FEED_NOT_FOUND` (never made, replaced or stopped)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn calendar_feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let not_found = || {
        ApiError::not_found(
            ProblemCode::FeedNotFound,
            "no calendar feed at this address",
        )
    };
    let token = file.strip_suffix(".ics").ok_or_else(not_found)?;
    let mut conn = state.db().await?;
    let (name, events) = feed::feed(&mut conn, token).await?.ok_or_else(not_found)?;
    drop(conn);
    let text = ical::feed(&events, &format!("{name}의 펫 캘린더"));
    let etag = format!(
        "\"{}\"",
        hex::encode(&Sha256::digest(text.as_bytes())[..16])
    );
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|sent| sent.split(',').any(|tag| tag.trim() == etag));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok(([(header::CONTENT_TYPE, ICALENDAR.to_owned())], cache, text).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedCalendarEvent {
    pub uid: Option<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// Events new to my calendar.
    pub created: usize,
    /// Events imported before (same UID), rewritten from the file.
    pub updated: usize,
    /// Events of the file left out, with the reason.
    pub skipped: Vec<SkippedCalendarEvent>,
}

/// Import an `.ics` file (`Content-Type: text/calendar`, at most 512 KiB, 40,000 lines and 1,000
/// events, components nested at most 8 deep) into my calendar. Events are matched by UID:
/// importing the same file again changes nothing new.
#[utoipa::path(post, path = "/users/me/events/import", tag = "calendar", security(("bearer" = [])),
    request_body(content = String, content_type = "text/calendar", description = "An iCalendar file (RFC 5545)"),
    responses(
        (status = 200, description = "Imported", body = ImportResponse),
        (status = 409, description = "`TOO_MANY_EVENTS` (the calendar would pass 1,000)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`PAYLOAD_TOO_LARGE` (over 512 KiB)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE` (not `text/calendar`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`INVALID_ICALENDAR` (not an iCalendar file, not UTF-8, a NUL character, over 1,000 events), `ICALENDAR_TOO_COMPLEX` (components nested over 8 deep, over 40,000 lines)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_events(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportResponse>> {
    let is_calendar = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/calendar"));
    if !is_calendar {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemCode::UnsupportedMediaType,
            "expected a body with `Content-Type: text/calendar`",
        ));
    }
    if body.len() > ical::MAX_IMPORT_BYTES {
        return Err(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let invalid = |detail: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::InvalidIcalendar,
            detail,
        )
    };
    let text = std::str::from_utf8(&body).map_err(|_| invalid("the file is not UTF-8".into()))?;
    if text.contains('\0') {
        return Err(invalid("the file has a NUL character".into()));
    }
    let (events, skipped) = ical::parse_blocking(text.to_owned(), state.calendar.zone())
        .await
        .map_err(|error| match error {
            ical::ImportError::TooComplex => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::IcalendarTooComplex,
                error.to_string(),
            ),
            _ => invalid(error.to_string()),
        })?;
    let mut conn = state.db().await?;
    let counts = import::import(&mut conn, user.id, events, state.clock.now()).await?;
    Ok(Json(ImportResponse {
        created: counts.created,
        updated: counts.updated,
        skipped: skipped
            .into_iter()
            .map(|skipped| SkippedCalendarEvent {
                uid: skipped.uid,
                reason: skipped.reason,
            })
            .collect(),
    }))
}
