//! The owner board and the trade board write alike: their create, edit and delete handlers
//! share this part, which calls the one core path ([`petory_core::community::authored`]) and
//! answers with the item as its writer reads it.

use std::future::Future;

use axum::http::StatusCode;
use petory_core::community::authored::{self, Authored};
use petory_core::identity::UserId;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::Json;

/// A response made from a core view (its image URLs linked, counters added).
pub(crate) trait Rendered<View>: Sized {
    fn of(state: &AppState, view: View) -> impl Future<Output = ApiResult<Self>> + Send;
}

pub(crate) async fn create<K, R>(
    state: &AppState,
    kind: &K,
    author: UserId,
    draft: K::Draft,
) -> ApiResult<(StatusCode, Json<R>)>
where
    K: Authored,
    R: Rendered<K::View>,
{
    let mut conn = state.db().await?;
    let store = state.object_store.as_ref();
    let created =
        authored::create(kind, &mut conn, store, author, draft, state.clock.now()).await?;
    drop(conn);
    Ok((StatusCode::CREATED, Json(R::of(state, created).await?)))
}

pub(crate) async fn update<K, R>(
    state: &AppState,
    kind: &K,
    author: UserId,
    id: K::Id,
    changes: K::Changes,
) -> ApiResult<Json<R>>
where
    K: Authored,
    R: Rendered<K::View>,
{
    let mut conn = state.db().await?;
    let store = state.object_store.as_ref();
    let now = state.clock.now();
    let updated = authored::update(kind, &mut conn, store, author, id, changes, now).await?;
    drop(conn);
    Ok(Json(R::of(state, updated).await?))
}

pub(crate) async fn delete<K: Authored>(
    state: &AppState,
    kind: &K,
    author: UserId,
    id: K::Id,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    authored::delete(kind, &mut conn, author, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
