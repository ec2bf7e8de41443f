//! My pet calendar: events (single or recurring, in their own time zone) and their occurrences
//! in a range, FullCalendar-ready.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use petory_core::calendar::{
    self, CalendarEventId, EditScope, EventDetail, EventDraft, Occurrence, OccurrenceEdit, Override,
};
use petory_core::community::pet::PetId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Reminder {
    /// Minutes before the start, 0 to 40,320 (4 weeks).
    #[schema(minimum = 0, maximum = 40320)]
    pub minutes_before: i32,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CalendarEventRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub memo: String,
    /// One of my pets.
    pub pet_id: Option<i64>,
    #[serde(default)]
    pub all_day: bool,
    /// Local to `time_zone`: `YYYY-MM-DDTHH:MM[:SS]`, or `YYYY-MM-DD` when `all_day`.
    #[schema(min_length = 10, max_length = 19)]
    pub start: String,
    /// As `start`; for all-day events the day after the last (exclusive).
    #[schema(min_length = 10, max_length = 19)]
    pub end: String,
    /// An IANA zone, e.g. `Asia/Seoul`.
    #[schema(min_length = 1, max_length = 64)]
    pub time_zone: String,
    /// `#RRGGBB`.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", min_length = 7, max_length = 7)]
    pub color: Option<String>,
    /// An RFC 5545 recurrence rule, e.g. `FREQ=WEEKLY;BYDAY=MO,TH` (daily at most often).
    #[schema(min_length = 1, max_length = 500)]
    pub rrule: Option<String>,
    /// Local starts (as `start`) of cancelled occurrences.
    #[serde(default)]
    #[schema(value_type = Vec<LocalTimeText>, max_items = 366)]
    pub exdates: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 5)]
    pub reminders: Vec<Reminder>,
}

/// How request schemas describe a local date or date and time (the field itself is a `String`).
pub struct LocalTimeText;

impl utoipa::PartialSchema for LocalTimeText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(10))
            .max_length(Some(19))
            .into()
    }
}

impl utoipa::ToSchema for LocalTimeText {}

const LOCAL_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"];

/// A local time of the request: a date (midnight) for all-day events, a date and time otherwise.
fn parse_local(field: &'static str, text: &str, all_day: bool) -> Result<NaiveDateTime, ApiError> {
    let parsed = if all_day {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(|date| date.and_time(chrono::NaiveTime::MIN))
    } else {
        LOCAL_FORMATS
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    };
    parsed.ok_or_else(|| {
        let expected = if all_day {
            "a date, YYYY-MM-DD"
        } else {
            "a local date and time, YYYY-MM-DDTHH:MM[:SS]"
        };
        ApiError::invalid_field(field, "INVALID_LOCAL_TIME", format!("expected {expected}"))
    })
}

fn format_local(at: NaiveDateTime, all_day: bool) -> String {
    if all_day {
        at.date().to_string()
    } else {
        at.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

impl CalendarEventRequest {
    fn into_draft(self) -> Result<EventDraft, ApiError> {
        let all_day = self.all_day;
        Ok(EventDraft {
            pet_id: self.pet_id.map(PetId),
            title: self.title.trim().to_owned(),
            memo: self.memo,
            all_day,
            starts_local: parse_local("start", &self.start, all_day)?,
            ends_local: parse_local("end", &self.end, all_day)?,
            time_zone: self.time_zone,
            color: self
                .color
                .map_or_else(|| "#3788D8".to_owned(), |color| color.to_ascii_uppercase()),
            rrule: self.rrule.map(|rule| rule.trim().to_owned()),
            exdates: self
                .exdates
                .iter()
                .map(|text| parse_local("exdates", text, all_day))
                .collect::<Result<_, _>>()?,
            reminders: self.reminders.iter().map(|r| r.minutes_before).collect(),
        })
    }
}

/// An occurrence of a series edited on its own.
#[derive(Debug, Serialize, ToSchema)]
pub struct EditedOccurrence {
    /// The date the series puts it on (what the occurrence is named by).
    pub occurrence_date: NaiveDate,
    pub title: String,
    pub memo: String,
    /// Local to the series' `time_zone`, as the series' `start`.
    pub start: String,
    pub end: String,
    pub color: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarEventResponse {
    pub id: i64,
    pub title: String,
    pub memo: String,
    pub pet_id: Option<i64>,
    pub all_day: bool,
    pub start: String,
    pub end: String,
    pub time_zone: String,
    pub color: String,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
    /// Occurrences edited on their own, by date.
    pub edited_occurrences: Vec<EditedOccurrence>,
    pub reminders: Vec<Reminder>,
    /// The UID of an imported event.
    pub ical_uid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<EventDetail> for CalendarEventResponse {
    fn from(EventDetail { event, overrides }: EventDetail) -> Self {
        let draft = event.draft;
        let all_day = draft.all_day;
        Self {
            id: event.id.into(),
            title: draft.title,
            memo: draft.memo,
            pet_id: draft.pet_id.map(Into::into),
            all_day,
            start: format_local(draft.starts_local, all_day),
            end: format_local(draft.ends_local, all_day),
            time_zone: draft.time_zone,
            color: draft.color,
            rrule: draft.rrule,
            exdates: draft
                .exdates
                .into_iter()
                .map(|at| format_local(at, all_day))
                .collect(),
            edited_occurrences: overrides
                .into_iter()
                .map(|edited: Override| EditedOccurrence {
                    occurrence_date: edited.occurrence_date,
                    title: edited.title,
                    memo: edited.memo,
                    start: format_local(edited.starts_local, all_day),
                    end: format_local(edited.ends_local, all_day),
                    color: edited.color,
                })
                .collect(),
            reminders: draft
                .reminders
                .into_iter()
                .map(|minutes_before| Reminder { minutes_before })
                .collect(),
            ical_uid: event.ical_uid,
            created_at: event.created_at,
            updated_at: event.updated_at,
        }
    }
}

const EVENT_ERRORS: &str = "`VALIDATION_FAILED`: `BLANK` (title), `INVALID_LOCAL_TIME`, `UNKNOWN_TIME_ZONE`, `NONEXISTENT_TIME` (a time the clocks skip), `END_BEFORE_START`, `TOO_LONG`, `INVALID_RRULE` (with the parser's reason), `INVALID_REMINDERS`, `NOT_RECURRING` (exdates of a single event); `PET_NOT_FOUND`";

/// Add an event to my calendar.
#[utoipa::path(post, path = "/users/me/events", tag = "calendar", security(("bearer" = [])), request_body = CalendarEventRequest,
    responses(
        (status = 201, description = "Added", body = CalendarEventResponse),
        (status = 404, description = "`PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`TOO_MANY_EVENTS` (1,000)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = EVENT_ERRORS, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_event(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<CalendarEventRequest>,
) -> ApiResult<(StatusCode, Json<CalendarEventResponse>)> {
    let draft = body.into_draft()?;
    let mut conn = state.db().await?;
    let event = calendar::event::create(&mut conn, user.id, draft, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// One of my events (a whole series).
#[utoipa::path(get, path = "/users/me/events/{id}", tag = "calendar", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The event", body = CalendarEventResponse),
        (status = 404, description = "`EVENT_NOT_FOUND` (also others' events)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_event(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<CalendarEventId>,
) -> ApiResult<Json<CalendarEventResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(
        calendar::event::get(&mut conn, user.id, id).await?.into(),
    ))
}

/// Rewrite one of my events (every occurrence of a series).
#[utoipa::path(put, path = "/users/me/events/{id}", tag = "calendar", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CalendarEventRequest,
    responses(
        (status = 200, description = "Rewritten", body = CalendarEventResponse),
        (status = 404, description = "`EVENT_NOT_FOUND`, `PET_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = EVENT_ERRORS, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_event(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<CalendarEventId>,
    ValidJson(body): ValidJson<CalendarEventRequest>,
) -> ApiResult<Json<CalendarEventResponse>> {
    let draft = body.into_draft()?;
    let mut conn = state.db().await?;
    let event = calendar::event::update(&mut conn, user.id, id, draft, state.clock.now()).await?;
    Ok(Json(event.into()))
}

/// Delete one of my events (a whole series).
#[utoipa::path(delete, path = "/users/me/events/{id}", tag = "calendar", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`EVENT_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_event(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<CalendarEventId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    calendar::event::delete(&mut conn, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel one occurrence of a series (the date it starts on, local to the event): it becomes an
/// exception date (`EXDATE`). Cancelling it again changes nothing.
#[utoipa::path(delete, path = "/users/me/events/{id}/occurrences/{date}", tag = "calendar", security(("bearer" = [])),
    params(("id" = i64, Path), ("date" = NaiveDate, Path, description = "The occurrence's local date, `YYYY-MM-DD`")),
    responses(
        (status = 200, description = "The series, with the occurrence cancelled", body = CalendarEventResponse),
        (status = 404, description = "`EVENT_NOT_FOUND`, `OCCURRENCE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`EVENT_NOT_RECURRING` (delete a single event instead)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel_occurrence(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, date)): Path<(CalendarEventId, NaiveDate)>,
) -> ApiResult<Json<CalendarEventResponse>> {
    let mut conn = state.db().await?;
    let event =
        calendar::series::cancel_occurrence(&mut conn, user.id, id, date, state.clock.now())
            .await?;
    Ok(Json(event.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct OccurrencePatch {
    /// `THIS` (default): only this occurrence, an exception of the series. `FOLLOWING`: it and
    /// every later one: the series ends before it and a new series (the response) goes on.
    #[serde(default)]
    pub apply_to: Option<EditScope>,
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(max_length = 2000)]
    pub memo: Option<String>,
    /// Local to the series' zone, as the series' `start`; without `end` the length is kept.
    #[schema(min_length = 10, max_length = 19)]
    pub start: Option<String>,
    #[schema(min_length = 10, max_length = 19)]
    pub end: Option<String>,
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", min_length = 7, max_length = 7)]
    pub color: Option<String>,
}

/// Edit one occurrence of a series (the date it starts on, local to the event): alone, as an
/// exception (`RECURRENCE-ID`), or with every following one (the series is split there).
#[utoipa::path(patch, path = "/users/me/events/{id}/occurrences/{date}", tag = "calendar", security(("bearer" = [])),
    params(("id" = i64, Path), ("date" = NaiveDate, Path, description = "The occurrence's local date, `YYYY-MM-DD`")),
    request_body = OccurrencePatch,
    responses(
        (status = 200, description = "The series that holds the occurrence now (for `FOLLOWING`, the new series)", body = CalendarEventResponse),
        (status = 404, description = "`EVENT_NOT_FOUND`, `OCCURRENCE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`EVENT_NOT_RECURRING` (edit a single event with `PUT`), `TOO_MANY_EDITED_OCCURRENCES` (366), `TOO_MANY_EVENTS`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = EVENT_ERRORS, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit_occurrence(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, date)): Path<(CalendarEventId, NaiveDate)>,
    ValidJson(body): ValidJson<OccurrencePatch>,
) -> ApiResult<Json<CalendarEventResponse>> {
    let mut conn = state.db().await?;
    let all_day = calendar::event::get(&mut conn, user.id, id)
        .await?
        .event
        .draft
        .all_day;
    let local = |field, text: &Option<String>| {
        text.as_deref()
            .map(|text| parse_local(field, text, all_day))
            .transpose()
    };
    let edit = OccurrenceEdit {
        title: body.title.map(|title| title.trim().to_owned()),
        memo: body.memo,
        starts_local: local("start", &body.start)?,
        ends_local: local("end", &body.end)?,
        color: body.color.map(|color| color.to_ascii_uppercase()),
    };
    let scope = body.apply_to.unwrap_or(EditScope::This);
    let series = calendar::series::edit_occurrence(
        &mut conn,
        user.id,
        id,
        date,
        edit,
        scope,
        state.clock.now(),
    )
    .await?;
    Ok(Json(series.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// The range's start: an RFC 3339 instant, or a date (its midnight in the business zone).
    #[param(max_length = 40)]
    pub from: String,
    /// The range's end (exclusive), as `from`; at most 366 days after it.
    #[param(max_length = 40)]
    pub to: String,
}

/// An occurrence, as FullCalendar reads events.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceResponse {
    /// `{series_id}:{occurrence_date}`, unique in any range.
    pub id: String,
    pub title: String,
    /// RFC 3339 with the event zone's offset, or a date for all-day events.
    pub start: String,
    /// As `start` (for all-day events the day after, exclusive).
    pub end: String,
    #[serde(rename = "allDay")]
    pub all_day: bool,
    pub color: String,
    /// The event (series) it is an occurrence of.
    pub series_id: i64,
    /// The local date it starts on.
    pub occurrence_date: NaiveDate,
    pub recurring: bool,
}

impl From<Occurrence> for OccurrenceResponse {
    fn from(occurrence: Occurrence) -> Self {
        let (start, end) = if occurrence.all_day {
            (
                occurrence.start.date_naive().to_string(),
                occurrence.end.date_naive().to_string(),
            )
        } else {
            (occurrence.start.to_rfc3339(), occurrence.end.to_rfc3339())
        };
        Self {
            id: format!("{}:{}", occurrence.event_id, occurrence.date),
            title: occurrence.title,
            start,
            end,
            all_day: occurrence.all_day,
            color: occurrence.color,
            series_id: occurrence.event_id.into(),
            occurrence_date: occurrence.date,
            recurring: occurrence.recurring,
        }
    }
}

fn parse_instant(state: &AppState, name: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|day| state.calendar.start_of(day))
        })
        .ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::InvalidQuery,
                format!("{name} must be an RFC 3339 instant or a date (YYYY-MM-DD)"),
            )
        })
}

/// Every occurrence of my events in a range (at most 366 days), recurrences expanded in each
/// event's own time zone; a JSON array FullCalendar reads as an event source.
#[utoipa::path(get, path = "/users/me/events", tag = "calendar", security(("bearer" = [])), params(RangeQuery),
    responses(
        (status = 200, description = "The occurrences, in start order", body = Vec<OccurrenceResponse>),
        (status = 400, description = "`INVALID_QUERY`, `RANGE_TOO_LONG` (over 366 days), `OUT_OF_YEARS` (outside 1900 to 2200)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_occurrences(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<RangeQuery>,
) -> ApiResult<Json<Vec<OccurrenceResponse>>> {
    let window = calendar::Window::new(
        parse_instant(&state, "from", &query.from)?,
        parse_instant(&state, "to", &query.to)?,
    )?;
    let events = calendar::event::details(&mut *state.db().await?, user.id).await?;
    let occurrences = window.occurrences(events).await?;
    Ok(Json(occurrences.into_iter().map(Into::into).collect()))
}
