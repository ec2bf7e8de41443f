//! Community: pets, the owner board, the trade board, chat and blocks (their moderation is
//! `moderation`).

pub mod activity;
pub mod authored;
pub mod block;
pub mod board;
pub mod chat;
pub mod pet;
pub mod profile;
pub mod search;
pub mod trade;
pub mod views;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use crate::db::DbError;
use crate::identity::{self, Suspended, UserId};
use crate::platform::upload::UploadError;

#[derive(Debug, thiserror::Error)]
pub enum CommunityError {
    #[error("too many messages at once; slow down")]
    ChatRateLimited,
    #[error(transparent)]
    Suspended(#[from] Suspended),
    #[error(transparent)]
    EmailNotVerified(#[from] identity::EmailNotVerified),
    #[error("no such post")]
    PostNotFound,
    #[error("no such comment")]
    CommentNotFound,
    #[error("no such listing")]
    ListingNotFound,
    #[error("only the seller changes a listing")]
    NotTheSeller,
    #[error("a listing cannot go from {from} to {to}")]
    InvalidListingTransition {
        from: trade::ListingStatus,
        to: trade::ListingStatus,
    },
    #[error("no such pet of yours")]
    PetNotFound,
    #[error("a user keeps at most {max} pets")]
    TooManyPets { max: i64 },
    #[error("no weight of this pet on that day")]
    WeightNotFound,
    #[error("no such entry in your pet's diary")]
    DiaryEntryNotFound,
    #[error("no such chat room of yours")]
    RoomNotFound,
    #[error("no such message in this room")]
    MessageNotFound,
    #[error("a message is taken back within 5 minutes of sending it")]
    UnsendTooLate,
    #[error("a seller does not chat with themself about their own listing")]
    OwnListing,
    #[error("the listing is sold and takes no new chats")]
    ListingSold,
    #[error("a seller does not wish for their own listing")]
    WishForOwnListing,
    #[error("the listing is sold; it takes no new wishes")]
    WishForSoldListing,
    #[error("one of you blocks the other")]
    Blocked,
    #[error("the post's author and you block one another: no comment crosses")]
    CommentBlocked,
    #[error("the other member left the room; it takes no more messages")]
    PartyLeft,
    #[error("this client_id was used for another message")]
    ClientIdReused,
    #[error("no such user")]
    UserNotFound,
    #[error("one does not block oneself")]
    CannotBlockSelf,
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Views(#[from] crate::ports::ViewCounterError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for CommunityError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

/// Who is reading: hidden content is shown to its author and to admins only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Viewer {
    pub user: Option<UserId>,
    pub admin: bool,
}

impl Viewer {
    pub const GUEST: Self = Self {
        user: None,
        admin: false,
    };

    pub fn user(user: UserId) -> Self {
        Self {
            user: Some(user),
            admin: false,
        }
    }

    /// Whether this reader may read content of `author` hidden since `hidden_at` (if at all):
    /// hidden content shows to its author and to admins only (to admins alone when it has no
    /// author, as a place).
    pub fn may_read(
        self,
        author: impl Into<Option<UserId>>,
        hidden_at: Option<DateTime<Utc>>,
    ) -> bool {
        let author = author.into();
        hidden_at.is_none() || self.admin || (author.is_some() && self.user == author)
    }
}

/// Refuses a suspended user's writes.
pub async fn ensure_can_write(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<(), CommunityError> {
    identity::ensure_can_write(conn, user).await
}

/// Refuses what others see or react to (a post, a comment, a like, a report, a chat room)
/// to a suspended user and to one whose email address is unproven.
pub async fn ensure_can_publish(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<(), CommunityError> {
    identity::ensure_can_publish(conn, user).await
}
