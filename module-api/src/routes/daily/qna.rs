//! The question of the day, my answers and memories, and the admin's question list.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use petory_core::daily::qna::{self, Answer, Question, QuestionFields};
use petory_core::daily::qna::{AnswerId, QuestionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::AppState;
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::Page;

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionResponse {
    pub id: i64,
    pub month: i16,
    pub day: i16,
    /// The question (Korean).
    pub content: String,
    /// Its English translation, where there is one.
    pub content_en: Option<String>,
}

impl From<Question> for QuestionResponse {
    fn from(q: Question) -> Self {
        Self {
            id: q.id.into(),
            month: q.month,
            day: q.day,
            content: q.content,
            content_en: q.content_en,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerResponse {
    pub id: i64,
    pub question_id: i64,
    /// The business date it was written on.
    pub answered_on: NaiveDate,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Answer> for AnswerResponse {
    fn from(a: Answer) -> Self {
        Self {
            id: a.id.into(),
            question_id: a.question_id.into(),
            answered_on: a.answered_on,
            content: a.content,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TodayResponse {
    /// Today's business date.
    pub date: NaiveDate,
    pub question: QuestionResponse,
    /// My answer of today, when signed in and answered.
    pub my_answer: Option<AnswerResponse>,
}

/// Today's question (business time zone). Guests may read it; signed-in users also get their
/// answer of today.
#[utoipa::path(get, path = "/daily-questions/today", tag = "daily", security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Today's question", body = TodayResponse),
        (status = 404, description = "`QUESTION_NOT_FOUND` (none for today)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn today(
    State(state): State<AppState>,
    user: Option<AuthUser>,
) -> ApiResult<Json<TodayResponse>> {
    let date = state.calendar.day_of(state.clock.now());
    let mut conn = state.db().await?;
    let question = qna::for_date(&mut conn, date).await?;
    let my_answer = match user {
        Some(user) => qna::my_answer_on(&mut conn, user.id, date).await?,
        None => None,
    };
    Ok(Json(TodayResponse {
        date,
        question: question.into(),
        my_answer: my_answer.map(Into::into),
    }))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AnswerRequest {
    #[schema(min_length = 1, max_length = 2000)]
    pub content: String,
}

/// Answer today's question (once a day).
#[utoipa::path(post, path = "/daily-questions/{id}/answers", tag = "daily", security(("bearer" = [])), params(("id" = i64, Path)), request_body = AnswerRequest,
    responses(
        (status = 201, description = "Answered", body = AnswerResponse),
        (status = 404, description = "`QUESTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`ALREADY_ANSWERED` (one answer a day), `NOT_TODAYS_QUESTION`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_answer(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<QuestionId>,
    ValidJson(body): ValidJson<AnswerRequest>,
) -> ApiResult<(StatusCode, Json<AnswerResponse>)> {
    let now = state.clock.now();
    let mut conn = state.db().await?;
    let answer = qna::answer(
        &mut conn,
        user.id,
        id,
        &body.content,
        state.calendar.day_of(now),
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(answer.into())))
}

/// Edit my answer.
#[utoipa::path(patch, path = "/daily-questions/{id}/answers/{answer_id}", tag = "daily", security(("bearer" = [])),
    params(("id" = i64, Path), ("answer_id" = i64, Path)), request_body = AnswerRequest,
    responses(
        (status = 200, description = "Edited", body = AnswerResponse),
        (status = 404, description = "`ANSWER_NOT_FOUND` (also for others' answers)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_answer(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, answer_id)): Path<(QuestionId, AnswerId)>,
    ValidJson(body): ValidJson<AnswerRequest>,
) -> ApiResult<Json<AnswerResponse>> {
    let mut conn = state.db().await?;
    let answer = qna::edit_answer(
        &mut conn,
        user.id,
        id,
        answer_id,
        &body.content,
        state.clock.now(),
    )
    .await?;
    Ok(Json(answer.into()))
}

/// Delete my answer.
#[utoipa::path(delete, path = "/daily-questions/{id}/answers/{answer_id}", tag = "daily", security(("bearer" = [])),
    params(("id" = i64, Path), ("answer_id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`ANSWER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_answer(
    State(state): State<AppState>,
    user: AuthUser,
    Path((id, answer_id)): Path<(QuestionId, AnswerId)>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    qna::delete_answer(&mut conn, user.id, id, answer_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Memories: my answers to this question over the years, newest first.
#[utoipa::path(get, path = "/daily-questions/{id}/answers/mine", tag = "daily", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "My answers to it (one page: one a year)", body = inline(Page<AnswerResponse>)),
        (status = 404, description = "`QUESTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_answers_to_question(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<QuestionId>,
) -> ApiResult<Json<Page<AnswerResponse>>> {
    let mut conn = state.db().await?;
    let answers = qna::my_answers_to(&mut conn, user.id, id).await?;
    Ok(Json(Page::all(answers).map(Into::into)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Calendar year, 1 to 9999 (default: this business year).
    #[param(minimum = 1, maximum = 9999)]
    pub year: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnsweredQuestion {
    pub question: QuestionResponse,
    pub answer: AnswerResponse,
}

/// My answers of a year, in date order, with their questions.
#[utoipa::path(get, path = "/users/me/answers", tag = "daily", security(("bearer" = [])), params(YearQuery),
    responses(
        (status = 200, description = "My answers (one page: a year at most)", body = inline(Page<AnsweredQuestion>)),
    ))]
pub async fn my_answers(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<YearQuery>,
) -> ApiResult<Json<Page<AnsweredQuestion>>> {
    let year = query
        .year
        .unwrap_or_else(|| state.calendar.day_of(state.clock.now()).year());
    if !crate::extract::YEARS.contains(&year) {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "year must be 1 to 9999",
        ));
    }
    let mut conn = state.db().await?;
    let answers = qna::my_answers_in(&mut conn, user.id, year).await?;
    Ok(Json(Page::all(answers).map(|(answer, question)| {
        AnsweredQuestion {
            question: question.into(),
            answer: answer.into(),
        }
    })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// Only this month's questions (1–12).
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<i16>,
}

/// Every question in calendar order (admin).
#[utoipa::path(get, path = "/admin/daily-questions", tag = "admin", security(("bearer" = [])), params(MonthQuery),
    responses(
        (status = 200, description = "Questions (one page: 366 at most)", body = inline(Page<QuestionResponse>)),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_questions(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<MonthQuery>,
) -> ApiResult<Json<Page<QuestionResponse>>> {
    if query.month.is_some_and(|month| !(1..=12).contains(&month)) {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "month must be 1 to 12",
        ));
    }
    let mut conn = state.db().await?;
    let questions = qna::list(&mut conn, query.month).await?;
    Ok(Json(Page::all(questions).map(Into::into)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct QuestionRequest {
    #[schema(minimum = 1, maximum = 12)]
    pub month: i16,
    #[schema(minimum = 1, maximum = 31)]
    pub day: i16,
    #[schema(min_length = 1, max_length = 200)]
    pub content: String,
    #[schema(min_length = 1, max_length = 200)]
    pub content_en: Option<String>,
}

impl From<QuestionRequest> for QuestionFields {
    fn from(body: QuestionRequest) -> Self {
        Self {
            month: body.month,
            day: body.day,
            content: body.content,
            content_en: body.content_en,
        }
    }
}

/// Add the question of a calendar day that has none (admin).
#[utoipa::path(post, path = "/admin/daily-questions", tag = "admin", security(("bearer" = [])), request_body = QuestionRequest,
    responses(
        (status = 201, description = "Created", body = QuestionResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`QUESTION_DAY_TAKEN`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. February 30)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_question(
    State(state): State<AppState>,
    _admin: AdminUser,
    ValidJson(body): ValidJson<QuestionRequest>,
) -> ApiResult<(StatusCode, Json<QuestionResponse>)> {
    let mut conn = state.db().await?;
    let question = qna::create(&mut conn, body.into(), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(question.into())))
}

/// Replace a question (admin).
#[utoipa::path(put, path = "/admin/daily-questions/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = QuestionRequest,
    responses(
        (status = 200, description = "Replaced", body = QuestionResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`QUESTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`QUESTION_DAY_TAKEN`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_question(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<QuestionId>,
    ValidJson(body): ValidJson<QuestionRequest>,
) -> ApiResult<Json<QuestionResponse>> {
    let mut conn = state.db().await?;
    let question = qna::update(&mut conn, id, body.into(), state.clock.now()).await?;
    Ok(Json(question.into()))
}

/// Delete a question nobody has answered (admin).
#[utoipa::path(delete, path = "/admin/daily-questions/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`QUESTION_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`QUESTION_ANSWERED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_question(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<QuestionId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    qna::delete(&mut conn, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
