//! My pets' upcoming D-days.

use crate::error::ProblemCode;
use axum::extract::State;
use chrono::NaiveDate;
use petory_core::calendar::dday::{self, DDay, DDayKind};
use petory_core::community::pet;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Query};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DDayQuery {
    /// How many days ahead, 0 to 366 (default 30).
    #[param(minimum = 0, maximum = 366)]
    pub within_days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DDayResponse {
    pub pet_id: i64,
    pub pet_name: String,
    /// `BIRTHDAY` (turning `number` years), `ADOPTION` (`number` years home) or
    /// `DAYS_TOGETHER` (`number` days home, every 100).
    pub kind: DDayKind,
    pub date: NaiveDate,
    /// 0 on the day itself.
    pub days_until: i64,
    pub number: i64,
}

impl From<DDay> for DDayResponse {
    fn from(dday: DDay) -> Self {
        Self {
            pet_id: dday.pet_id.into(),
            pet_name: dday.pet_name,
            kind: dday.kind,
            date: dday.date,
            days_until: dday.days_until,
            number: dday.number,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DDaysResponse {
    /// Today (business time zone).
    pub date: NaiveDate,
    /// Soonest first.
    pub items: Vec<DDayResponse>,
}

/// My pets' upcoming D-days: birthdays, adoption anniversaries and every 100 days together.
#[utoipa::path(get, path = "/users/me/d-days", tag = "calendar", security(("bearer" = [])), params(DDayQuery),
    responses(
        (status = 200, description = "Upcoming D-days", body = DDaysResponse),
        (status = 400, description = "`INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_d_days(
    State(state): State<AppState>,
    user: AuthUser,
    Query(query): Query<DDayQuery>,
) -> ApiResult<Json<DDaysResponse>> {
    let within_days = query.within_days.unwrap_or(30);
    if !(0..=366).contains(&within_days) {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "within_days must be 0 to 366",
        ));
    }
    let today = state.calendar.day_of(state.clock.now());
    let mut conn = state.db().await?;
    let pets = pet::list(&mut conn, user.id).await?;
    drop(conn);
    Ok(Json(DDaysResponse {
        date: today,
        items: dday::upcoming(&pets, today, within_days)
            .into_iter()
            .map(Into::into)
            .collect(),
    }))
}
