//! What I did on the owner board: my comments, each with its post.

use axum::extract::State;
use petory_core::community::Viewer;
use petory_core::community::activity::{self, MyComment};
use petory_core::community::board::CommentView;
use serde::Serialize;
use utoipa::ToSchema;

use super::board::CommentResponse;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct MyCommentResponse {
    #[serde(flatten)]
    pub comment: CommentResponse,
    /// The title of the post it belongs to (`post_id`).
    pub post_title: String,
}

/// My comments, newest first, each with the post it belongs to (deleted ones and those on
/// deleted posts left out).
#[utoipa::path(get, path = "/users/me/comments", tag = "community", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of my comments", body = inline(Page<MyCommentResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn my_comments(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<MyCommentResponse>>> {
    let mut conn = state.db().await?;
    let rows =
        activity::my_comments(&mut conn, user.id, page.before_id()?, page.fetch_limit()).await?;
    let me = Viewer::user(user.id);
    Ok(Json(
        Page::by_id(rows, page.limit(), |row| row.comment.id).map(|row: MyComment| {
            let view = CommentView {
                comment: row.comment,
                author_name: row.author_name,
                author_blocked: false,
            }
            .redacted_for(me);
            MyCommentResponse {
                comment: view.into(),
                post_title: row.post_title,
            }
        }),
    ))
}
