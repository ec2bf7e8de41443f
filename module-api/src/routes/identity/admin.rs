//! Administration of accounts.

use axum::extract::State;
use petory_core::identity::admin::{self, UserFilter};
use petory_core::identity::{AccountStatus, Role, UserId};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::UserResponse;
use crate::app::AppState;
use crate::auth::AdminUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    #[param(inline)]
    pub status: Option<AccountStatus>,
    /// Part of the email or name.
    #[param(max_length = 100)]
    pub q: Option<String>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Users, newest first.
#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = inline(Page<UserResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<UserListQuery>,
) -> ApiResult<Json<Page<UserResponse>>> {
    let status = query.status;
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = UserFilter {
        status,
        query: query.q,
        before: page.before_id()?,
    };
    let mut conn = state.db().await?;
    let accounts = admin::list_users(&mut conn, filter, page.fetch_limit()).await?;
    drop(conn);
    let mut users = Vec::with_capacity(accounts.len());
    for account in accounts {
        users.push(UserResponse::of(&state, account).await?);
    }
    Ok(Json(Page::by_id(users, page.limit(), |user| user.id)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct SuspensionRequest {
    /// When the suspension ends (must be in the future).
    pub until: crate::extract::Instant,
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Suspend a user until a time, ending their sessions at once.
#[utoipa::path(post, path = "/admin/users/{id}/suspension", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = SuspensionRequest,
    responses(
        (status = 200, description = "Suspended", body = UserResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (e.g. `until` in the past)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn suspend_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<UserId>,
    ValidJson(body): ValidJson<SuspensionRequest>,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    let account = admin::suspend(
        &mut conn,
        state.sessions(),
        id,
        body.until.0,
        &body.reason,
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
}

/// Lift a user's suspension now.
#[utoipa::path(delete, path = "/admin/users/{id}/suspension", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Active again", body = UserResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lift_suspension(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<UserId>,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    let account = admin::lift_suspension(&mut conn, id, state.clock.now()).await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RoleRequest {
    pub role: Role,
}

/// Change a user's role; their sessions end so no token keeps the old role.
#[utoipa::path(patch, path = "/admin/users/{id}/role", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = RoleRequest,
    responses(
        (status = 200, description = "Changed", body = UserResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`USER_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`LAST_ADMIN` (promote another administrator first)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`INVALID_BODY` (unknown role)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn set_role(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<UserId>,
    ValidJson(body): ValidJson<RoleRequest>,
) -> ApiResult<Json<UserResponse>> {
    let mut conn = state.db().await?;
    let account = admin::set_role(
        &mut conn,
        state.sessions(),
        id,
        body.role,
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok(Json(UserResponse::of(&state, account).await?))
}
