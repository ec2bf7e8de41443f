//! Wishes (찜): a member keeps listings they want. The listing counts them (`wish_count`, moved
//! in the wish's transaction under the listing's lock); its seller is told once per member who
//! wishes for it, never who; wishers are told when the price drops.

use chrono::{DateTime, Utc};
use diesel::dsl::not;
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};

use super::{Listing, ListingId, ListingStatus, ListingView, seller_name};
use crate::community::{CommunityError, Viewer, block, ensure_can_publish};
use crate::notification::{self, NewNotification, Notice};
use crate::platform::messages;
use crate::schema::{listing_wishes, listings, user_blocks};
use crate::types::UserId;

/// Whether I wish for the listing, and how many do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WishState {
    pub wished: bool,
    pub wish_count: i32,
}

/// A listing in my wish list, and when I wished for it; `wish_id` orders the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WishedListing {
    pub wish_id: i64,
    pub wished_at: DateTime<Utc>,
    pub listing: ListingView,
}

/// The live listing, locked: its seller, title, status and whether it is hidden.
async fn lock_listing(
    conn: &mut AsyncPgConnection,
    id: ListingId,
) -> Result<Listing, CommunityError> {
    listings::table
        .find(id)
        .filter(listings::deleted_at.is_null())
        .for_update()
        .select(Listing::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::ListingNotFound)
}

/// Wishes for a listing I may read (again: no change). Not my own, not a sold one.
pub async fn wish(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: ListingId,
    now: DateTime<Utc>,
) -> Result<WishState, CommunityError> {
    ensure_can_publish(conn, me).await?;
    conn.transaction(async |conn| {
        let listing = lock_listing(conn, id).await?;
        if !Viewer::user(me).may_read(listing.seller_id, listing.hidden_at) {
            return Err(CommunityError::ListingNotFound);
        }
        if listing.seller_id == me {
            return Err(CommunityError::WishForOwnListing);
        }
        let added = diesel::insert_into(listing_wishes::table)
            .values((
                listing_wishes::user_id.eq(me),
                listing_wishes::listing_id.eq(id),
                listing_wishes::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if added == 0 {
            return Ok(WishState {
                wished: true,
                wish_count: listing.wish_count,
            });
        }
        if listing.status == ListingStatus::Sold {
            return Err(CommunityError::WishForSoldListing);
        }
        let wish_count: i32 = diesel::update(listings::table.find(id))
            .set(listings::wish_count.eq(listings::wish_count + 1))
            .returning(listings::wish_count)
            .get_result(conn)
            .await?;
        if !block::between(conn, me, listing.seller_id).await? {
            let words = messages::listing_wished(&listing.title, wish_count);
            let told = NewNotification {
                user_id: listing.seller_id,
                notice: Notice::ListingWished {
                    listing_id: id.into(),
                    wish_count,
                },
                title: words.title,
                body: words.body,
                once_per: Some(format!("listing-wished:{id}:{me}")),
            };
            notification::request(conn, &told, now).await?;
        }
        Ok(WishState {
            wished: true,
            wish_count,
        })
    })
    .await
}

/// Takes a wish back, whatever became of the listing since (none: no change).
pub async fn unwish(
    conn: &mut AsyncPgConnection,
    me: UserId,
    id: ListingId,
) -> Result<WishState, CommunityError> {
    conn.transaction(async |conn| {
        let wish_count: Option<i32> = listings::table
            .find(id)
            .for_update()
            .select(listings::wish_count)
            .first(conn)
            .await
            .optional()?;
        let Some(wish_count) = wish_count else {
            return Err(CommunityError::ListingNotFound);
        };
        let removed = diesel::delete(
            listing_wishes::table
                .filter(listing_wishes::user_id.eq(me))
                .filter(listing_wishes::listing_id.eq(id)),
        )
        .execute(conn)
        .await?;
        let wish_count = if removed == 0 {
            wish_count
        } else {
            diesel::update(listings::table.find(id))
                .set(listings::wish_count.eq(listings::wish_count - 1))
                .returning(listings::wish_count)
                .get_result(conn)
                .await?
        };
        Ok(WishState {
            wished: false,
            wish_count,
        })
    })
    .await
}

/// My wishes, the latest first, below the wish id `before`: listings not deleted; hidden ones
/// (and those of members I block) drop out until shown again.
pub async fn wishes(
    conn: &mut AsyncPgConnection,
    me: UserId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<WishedListing>, CommunityError> {
    let mut query = listing_wishes::table
        .inner_join(listings::table)
        .filter(listing_wishes::user_id.eq(me))
        .filter(listings::deleted_at.is_null())
        .filter(listings::hidden_at.is_null())
        .filter(not(listings::seller_id.eq_any(block::hidden_authors(me))))
        .select((
            listing_wishes::id,
            listing_wishes::created_at,
            Listing::as_select(),
            seller_name(),
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(listing_wishes::id.lt(before));
    }
    let rows: Vec<(i64, DateTime<Utc>, Listing, String)> = query
        .order(listing_wishes::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(wish_id, wished_at, listing, seller_name)| WishedListing {
            wish_id,
            wished_at,
            listing: ListingView {
                listing,
                seller_name,
            },
        })
        .collect())
}

/// Tells everyone who wishes for the listing that its price dropped, in the change's own
/// transaction: one notification each, none across a block with the seller.
pub(super) async fn tell_price_dropped(
    conn: &mut AsyncPgConnection,
    listing: &Listing,
    new_price: i64,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let seller = listing.seller_id;
    let wishers: Vec<UserId> = listing_wishes::table
        .filter(listing_wishes::listing_id.eq(listing.id))
        .filter(diesel::dsl::not(diesel::dsl::exists(
            user_blocks::table.filter(
                user_blocks::blocker_id
                    .eq(listing_wishes::user_id)
                    .and(user_blocks::blocked_id.eq(seller))
                    .or(user_blocks::blocker_id
                        .eq(seller)
                        .and(user_blocks::blocked_id.eq(listing_wishes::user_id))),
            ),
        )))
        .select(listing_wishes::user_id)
        .load(conn)
        .await?;
    let words = messages::wished_price_dropped(&listing.title, listing.price, new_price);
    let notifications: Vec<NewNotification> = wishers
        .into_iter()
        .map(|wisher| NewNotification {
            user_id: wisher,
            notice: Notice::WishedPriceDropped {
                listing_id: listing.id.into(),
                old_price: listing.price,
                new_price,
            },
            title: words.title.clone(),
            body: words.body.clone(),
            once_per: None,
        })
        .collect();
    notification::request_many(conn, &notifications, now).await?;
    Ok(())
}
