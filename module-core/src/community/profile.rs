//! A member's public profile: what anyone, guests included, may see of them — their nickname,
//! bio and join date, their pets (name, species, photo), and counts of what they share. Nothing
//! private: not the name they signed up with, not their email, not their pets' details.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::CommunityError;
use super::pet::{PetId, Species};
use super::trade::ListingStatus;
use crate::identity::AccountStatus;
use crate::identity::rules::public_name;
use crate::schema::{listings, pets, posts, users};
use crate::types::UserId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub user_id: UserId,
    pub nickname: String,
    pub bio: String,
    /// Their picture's key to show (its square once made), if they set one.
    pub avatar_key: Option<String>,
    pub joined_at: DateTime<Utc>,
    pub pets: Vec<ProfilePet>,
    /// Live posts everyone sees.
    pub post_count: i64,
    /// Live listings everyone sees, sold ones included.
    pub listing_count: i64,
    /// Of those, the sold ones.
    pub sold_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ProfilePet {
    pub id: PetId,
    pub name: String,
    pub species: Species,
    pub photo_key: Option<String>,
}

/// Member `id`'s profile; a withdrawn member (or no such member) has none.
pub async fn profile(conn: &mut AsyncPgConnection, id: UserId) -> Result<Profile, CommunityError> {
    type Shown = (String, String, DateTime<Utc>, Option<String>);
    let (nickname, bio, joined_at, avatar_key): Shown = users::table
        .find(id)
        .filter(users::status.ne(AccountStatus::Withdrawn))
        .select((
            public_name(users::nickname, users::name),
            users::bio,
            users::created_at,
            users::avatar_key,
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::UserNotFound)?;
    let pets = pets::table
        .filter(pets::owner_id.eq(id))
        .order(pets::id)
        .select((pets::id, pets::name, pets::species, pets::photo_key))
        .load(conn)
        .await?;
    let post_count = posts::table
        .filter(posts::author_id.eq(id))
        .filter(posts::deleted_at.is_null())
        .filter(posts::hidden_at.is_null())
        .count()
        .get_result(conn)
        .await?;
    let shown = || {
        listings::table
            .filter(listings::seller_id.eq(id))
            .filter(listings::deleted_at.is_null())
            .filter(listings::hidden_at.is_null())
    };
    let listing_count = shown().count().get_result(conn).await?;
    let sold_count = shown()
        .filter(listings::status.eq(ListingStatus::Sold))
        .count()
        .get_result(conn)
        .await?;
    Ok(Profile {
        user_id: id,
        nickname,
        bio,
        avatar_key,
        joined_at,
        pets,
        post_count,
        listing_count,
        sold_count,
    })
}
