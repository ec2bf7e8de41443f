//! The daily Q&A: one question per calendar day (366 of them, admin-managed), one answer per
//! user per business day, and "memories" — my answers to the same question in earlier years.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use crate::db::{self, DbError, DbPool};
use crate::identity::UserId;
use crate::notification::{Notice, NotificationKind};
use crate::schema::{daily_answers, daily_questions};

crate::id_type! {
    /// A question of the day (`daily_questions.id`).
    pub struct QuestionId;
}

crate::id_type! {
    /// A user's answer (`daily_answers.id`).
    pub struct AnswerId;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = daily_questions)]
pub struct Question {
    pub id: QuestionId,
    pub month: i16,
    pub day: i16,
    pub content: String,
    pub content_en: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = daily_answers)]
pub struct Answer {
    pub id: AnswerId,
    pub question_id: QuestionId,
    pub user_id: UserId,
    pub answered_on: NaiveDate,
    pub content: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum QnaError {
    #[error("no such question")]
    QuestionNotFound,
    #[error("no such answer of yours")]
    AnswerNotFound,
    #[error("a question for {month}/{day} exists already")]
    DayTaken { month: i16, day: i16 },
    #[error("{month}/{day} is not a calendar day")]
    NotACalendarDay { month: i16, day: i16 },
    #[error("the question has answers; edit it instead")]
    QuestionAnswered,
    #[error("only today's question can be answered")]
    NotTodaysQuestion,
    #[error("you have answered today's question already")]
    AlreadyAnswered,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for QnaError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// Whether (month, day) is a day of some year (February 29 included).
pub fn is_calendar_day(month: i16, day: i16) -> bool {
    u32::try_from(month)
        .ok()
        .zip(u32::try_from(day).ok())
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(2024, month, day))
        .is_some()
}

fn month_day(date: NaiveDate) -> (i16, i16) {
    // Both fit: months 1–12, days 1–31.
    (date.month() as i16, date.day() as i16)
}

/// The question of a business date.
pub async fn for_date(conn: &mut AsyncPgConnection, date: NaiveDate) -> Result<Question, QnaError> {
    let (month, day) = month_day(date);
    daily_questions::table
        .filter(daily_questions::month.eq(month))
        .filter(daily_questions::day.eq(day))
        .select(Question::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(QnaError::QuestionNotFound)
}

pub async fn get(conn: &mut AsyncPgConnection, id: QuestionId) -> Result<Question, QnaError> {
    daily_questions::table
        .find(id)
        .select(Question::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(QnaError::QuestionNotFound)
}

/// Questions in calendar order, optionally of one month.
pub async fn list(
    conn: &mut AsyncPgConnection,
    month: Option<i16>,
) -> Result<Vec<Question>, QnaError> {
    let mut query = daily_questions::table
        .select(Question::as_select())
        .into_boxed();
    if let Some(month) = month {
        query = query.filter(daily_questions::month.eq(month));
    }
    Ok(query
        .order((daily_questions::month, daily_questions::day))
        .load(conn)
        .await?)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionFields {
    pub month: i16,
    pub day: i16,
    pub content: String,
    pub content_en: Option<String>,
}

fn day_taken(error: &diesel::result::Error, month: i16, day: i16) -> Option<QnaError> {
    db::violates(
        error,
        diesel::result::DatabaseErrorKind::UniqueViolation,
        "daily_questions_month_day_key",
    )
    .then_some(QnaError::DayTaken { month, day })
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    fields: QuestionFields,
    now: DateTime<Utc>,
) -> Result<Question, QnaError> {
    let QuestionFields {
        month,
        day,
        content,
        content_en,
    } = fields;
    if !is_calendar_day(month, day) {
        return Err(QnaError::NotACalendarDay { month, day });
    }
    diesel::insert_into(daily_questions::table)
        .values((
            daily_questions::month.eq(month),
            daily_questions::day.eq(day),
            daily_questions::content.eq(content),
            daily_questions::content_en.eq(content_en),
            daily_questions::created_at.eq(now),
            daily_questions::updated_at.eq(now),
        ))
        .returning(Question::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| day_taken(&error, month, day).unwrap_or_else(|| error.into()))
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    id: QuestionId,
    fields: QuestionFields,
    now: DateTime<Utc>,
) -> Result<Question, QnaError> {
    let QuestionFields {
        month,
        day,
        content,
        content_en,
    } = fields;
    if !is_calendar_day(month, day) {
        return Err(QnaError::NotACalendarDay { month, day });
    }
    diesel::update(daily_questions::table.find(id))
        .set((
            daily_questions::month.eq(month),
            daily_questions::day.eq(day),
            daily_questions::content.eq(content),
            daily_questions::content_en.eq(content_en),
            daily_questions::updated_at.eq(now),
        ))
        .returning(Question::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(|error| day_taken(&error, month, day).unwrap_or_else(|| error.into()))?
        .ok_or(QnaError::QuestionNotFound)
}

/// Deletes a question nobody answered (answered ones are kept for their memories).
pub async fn delete(conn: &mut AsyncPgConnection, id: QuestionId) -> Result<(), QnaError> {
    let deleted = diesel::delete(daily_questions::table.find(id))
        .execute(conn)
        .await
        .map_err(|error| {
            if db::violates(
                &error,
                diesel::result::DatabaseErrorKind::ForeignKeyViolation,
                "daily_answers_question_id_fkey",
            ) {
                QnaError::QuestionAnswered
            } else {
                error.into()
            }
        })?;
    if deleted == 0 {
        return Err(QnaError::QuestionNotFound);
    }
    Ok(())
}

/// Answers today's question, once per business day.
pub async fn answer(
    conn: &mut AsyncPgConnection,
    user: UserId,
    question_id: QuestionId,
    content: &str,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Answer, QnaError> {
    let question = get(conn, question_id).await?;
    if (question.month, question.day) != month_day(today) {
        return Err(QnaError::NotTodaysQuestion);
    }
    diesel::insert_into(daily_answers::table)
        .values((
            daily_answers::question_id.eq(question_id),
            daily_answers::user_id.eq(user),
            daily_answers::answered_on.eq(today),
            daily_answers::content.eq(content),
            daily_answers::created_at.eq(now),
            daily_answers::updated_at.eq(now),
        ))
        .returning(Answer::as_returning())
        .get_result(conn)
        .await
        .map_err(|error| {
            if db::violates(
                &error,
                diesel::result::DatabaseErrorKind::UniqueViolation,
                "daily_answers_user_id_answered_on_key",
            ) {
                QnaError::AlreadyAnswered
            } else {
                error.into()
            }
        })
}

pub async fn edit_answer(
    conn: &mut AsyncPgConnection,
    user: UserId,
    question_id: QuestionId,
    answer_id: AnswerId,
    content: &str,
    now: DateTime<Utc>,
) -> Result<Answer, QnaError> {
    diesel::update(
        daily_answers::table
            .find(answer_id)
            .filter(daily_answers::question_id.eq(question_id))
            .filter(daily_answers::user_id.eq(user)),
    )
    .set((
        daily_answers::content.eq(content),
        daily_answers::updated_at.eq(now),
    ))
    .returning(Answer::as_returning())
    .get_result(conn)
    .await
    .optional()?
    .ok_or(QnaError::AnswerNotFound)
}

pub async fn delete_answer(
    conn: &mut AsyncPgConnection,
    user: UserId,
    question_id: QuestionId,
    answer_id: AnswerId,
) -> Result<(), QnaError> {
    let deleted = diesel::delete(
        daily_answers::table
            .find(answer_id)
            .filter(daily_answers::question_id.eq(question_id))
            .filter(daily_answers::user_id.eq(user)),
    )
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(QnaError::AnswerNotFound);
    }
    Ok(())
}

/// My answers to one question over the years, newest first ("memories").
pub async fn my_answers_to(
    conn: &mut AsyncPgConnection,
    user: UserId,
    question_id: QuestionId,
) -> Result<Vec<Answer>, QnaError> {
    get(conn, question_id).await?;
    Ok(daily_answers::table
        .filter(daily_answers::user_id.eq(user))
        .filter(daily_answers::question_id.eq(question_id))
        .order(daily_answers::answered_on.desc())
        .select(Answer::as_select())
        .load(conn)
        .await?)
}

/// My answer of a business day, if any.
pub async fn my_answer_on(
    conn: &mut AsyncPgConnection,
    user: UserId,
    date: NaiveDate,
) -> Result<Option<Answer>, QnaError> {
    Ok(daily_answers::table
        .filter(daily_answers::user_id.eq(user))
        .filter(daily_answers::answered_on.eq(date))
        .select(Answer::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// My answers of a year with their questions, in date order.
pub async fn my_answers_in(
    conn: &mut AsyncPgConnection,
    user: UserId,
    year: i32,
) -> Result<Vec<(Answer, Question)>, QnaError> {
    let (Some(start), Some(end)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year + 1, 1, 1),
    ) else {
        return Ok(Vec::new());
    };
    Ok(daily_answers::table
        .inner_join(daily_questions::table)
        .filter(daily_answers::user_id.eq(user))
        .filter(daily_answers::answered_on.ge(start))
        .filter(daily_answers::answered_on.lt(end))
        .order(daily_answers::answered_on)
        .select((Answer::as_select(), Question::as_select()))
        .load(conn)
        .await?)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifyCounts {
    pub inserted: i64,
    pub ranges: i64,
    /// Pushes queued for the members' devices (sent by `send-pushes`).
    pub pushes: i64,
}

/// The midnight job: one `DAILY_QUESTION` notification per active user who has not opted out,
/// for `date`, and a push to each device of those who want it by push. Set-based `INSERT … SELECT` over bounded user-id ranges, `concurrency` ranges at
/// a time, each committed on its own; `(user_id, dedupe_key)` is unique, so a re-run (or a run
/// resumed after a crash) inserts only what is missing.
pub async fn notify_question_of_the_day(
    pool: &DbPool,
    date: NaiveDate,
    now: DateTime<Utc>,
    range: i64,
    concurrency: usize,
) -> Result<NotifyCounts, QnaError> {
    use futures_util::StreamExt as _;

    #[derive(QueryableByName)]
    struct Bounds {
        #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
        low: Option<i64>,
        #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
        high: Option<i64>,
    }

    let question = {
        let mut conn = pool.get().await.map_err(DbError::from)?;
        for_date(&mut conn, date).await?
    };
    let bounds: Bounds = {
        let mut conn = pool.get().await.map_err(DbError::from)?;
        diesel::sql_query("SELECT min(id) AS low, max(id) AS high FROM users")
            .get_result(&mut conn)
            .await?
    };
    let (Some(low), Some(high)) = (bounds.low, bounds.high) else {
        return Ok(NotifyCounts::default());
    };
    let range = range.max(1);
    let starts: Vec<i64> = (0..=(high - low) / range)
        .map(|i| low + i * range)
        .collect();
    // Kept small: this row is written once per user every night. The question is the title.
    let dedupe_key = format!("dq:{date}");
    let data = Notice::DailyQuestion {
        question_id: question.id.into(),
    }
    .data();
    let results: Vec<Result<(usize, usize), QnaError>> = futures_util::stream::iter(starts.iter().copied())
        .map(|start| {
            let (dedupe_key, data, question) = (&dedupe_key, &data, &question);
            async move {
                let mut conn = pool.get().await.map_err(DbError::from)?;
                let inserted = diesel::sql_query(
                    "INSERT INTO notifications (user_id, kind, title, body, data, dedupe_key, created_at)
                     SELECT u.id, $3, $4, '', $5, $6, $7
                       FROM users u
                      WHERE u.id >= $1 AND u.id < $2
                        AND u.status = 'ACTIVE'
                        AND NOT EXISTS (SELECT 1 FROM notification_settings s
                                         WHERE s.user_id = u.id AND s.kind = $3 AND NOT s.in_app)
                     ON CONFLICT (user_id, dedupe_key) DO NOTHING",
                )
                .bind::<BigInt, _>(start)
                .bind::<BigInt, _>(start + range)
                .bind::<Text, _>(NotificationKind::DailyQuestion.as_str())
                .bind::<Text, _>(&question.content)
                .bind::<Jsonb, _>(data)
                .bind::<Text, _>(dedupe_key)
                .bind::<Timestamptz, _>(now)
                .execute(&mut conn)
                .await?;
                // The same range's devices, after the rows their pushes link to.
                let pushes = crate::notification::push::delivery::queue_range(
                    &mut conn,
                    NotificationKind::DailyQuestion,
                    &question.content,
                    "",
                    data,
                    dedupe_key,
                    start..start + range,
                    now,
                )
                .await?;
                Ok((inserted, pushes))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut counts = NotifyCounts {
        ranges: starts.len() as i64,
        ..NotifyCounts::default()
    };
    for result in results {
        let (inserted, pushes) = result?;
        counts.inserted += inserted as i64;
        counts.pushes += pushes as i64;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_days_include_the_leap_day_only() {
        assert!(is_calendar_day(2, 29));
        assert!(is_calendar_day(12, 31));
        assert!(!is_calendar_day(2, 30));
        assert!(!is_calendar_day(4, 31));
        assert!(!is_calendar_day(13, 1));
        assert!(!is_calendar_day(0, 1));
    }
}
