//! Community: pets, the owner board, the trade board and its chat (moderation: `routes::moderation`).

pub mod activity;
mod authored;
pub mod board;
pub mod chat;
pub mod chat_socket;
pub mod diary;
pub mod pet;
pub mod profile;
pub mod saved;
pub mod trade;
pub mod wish;

use crate::error::ProblemCode;
use petory_core::community::Viewer;
use petory_core::community::search::Search;

use crate::auth::AuthUser;
use crate::error::ApiError;

/// Who reads: a member (hidden content of their own shows) or a guest.
pub(crate) fn viewer_of(user: Option<&AuthUser>) -> Viewer {
    user.map_or(Viewer::GUEST, AuthUser::viewer)
}

/// The `q` of a list, or 400 `INVALID_QUERY` when it has nothing to look for.
pub(crate) fn search_of(q: Option<&str>) -> Result<Option<Search>, ApiError> {
    q.map(|q| {
        Search::parse(q).ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::InvalidQuery,
                "q needs a letter or a digit to look for",
            )
        })
    })
    .transpose()
}
