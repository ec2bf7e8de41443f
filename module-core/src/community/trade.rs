//! The trade board: used pet goods for sale, reserved and sold by their seller.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::not;
use diesel::pg::Pg;
use diesel::prelude::*;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::authored::Authored;
use super::block;
use super::search::{Matching, NewestRows, Search, newest_matches};
use super::{CommunityError, Viewer, ensure_can_write};
use crate::db::id_or;
use crate::identity::UserId;
use crate::identity::rules::public_name;
use crate::platform::upload::Purpose;
use crate::schema::{listings, users};

pub mod wish;

crate::id_type! {
    /// A listing of the trade board (`listings.id`).
    pub struct ListingId;
}

crate::text_enum! {
    pub enum ListingCategory {
        Food = "FOOD",
        Goods = "GOODS",
        Toy = "TOY",
        Fashion = "FASHION",
        Etc = "ETC",
    }
}

crate::text_enum! {
    pub enum ListingStatus {
        ForSale = "FOR_SALE",
        Reserved = "RESERVED",
        Sold = "SOLD",
    }
}

impl ListingStatus {
    /// Whether a seller may move a listing from `self` to `to`: a reservation can be made and
    /// given up, a sale closes it (from sale or reservation) for good.
    pub fn can_become(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::ForSale, Self::Reserved | Self::Sold)
                | (Self::Reserved, Self::ForSale | Self::Sold)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = listings)]
pub struct Listing {
    pub id: ListingId,
    pub seller_id: UserId,
    pub category: ListingCategory,
    pub title: String,
    pub content: String,
    pub price: i64,
    pub region: String,
    pub image_keys: Vec<String>,
    pub status: ListingStatus,
    pub chat_count: i32,
    /// Members who wish for it (찜).
    pub wish_count: i32,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListingView {
    pub listing: Listing,
    pub seller_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub status: Option<ListingStatus>,
    pub category: Option<ListingCategory>,
    pub region: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// One seller's listings (their shop, or mine).
    pub seller: Option<UserId>,
    /// Who reads: the listings of members they block are left out.
    pub reader: Option<UserId>,
    pub search: Option<Search>,
    pub before: Option<ListingId>,
}

type ListingRows<'a> = listings::BoxedQuery<'a, Pg>;

/// Visible listings as the filter (but its cursor) says; the search only when `matching` is
/// given. No join: the probe window is found on listings alone.
fn visible_listings<'a>(filter: &ListingFilter, matching: Option<Matching>) -> ListingRows<'a> {
    let mut query = listings::table
        .filter(listings::deleted_at.is_null())
        .filter(listings::hidden_at.is_null())
        .into_boxed();
    if let Some(reader) = filter.reader {
        query = query.filter(not(
            listings::seller_id.eq_any(block::hidden_authors(reader))
        ));
    }
    if let Some(status) = filter.status {
        query = query.filter(listings::status.eq(status));
    }
    if let Some(seller) = filter.seller {
        query = query.filter(listings::seller_id.eq(seller));
    }
    if let Some(category) = filter.category {
        query = query.filter(listings::category.eq(category));
    }
    if let Some(region) = &filter.region {
        query = query.filter(listings::region.eq(region.clone()));
    }
    if let Some(min) = filter.min_price {
        query = query.filter(listings::price.ge(min));
    }
    if let Some(max) = filter.max_price {
        query = query.filter(listings::price.le(max));
    }
    if let (Some(search), Some(matching)) = (&filter.search, matching) {
        let text = "listings.title || ' ' || listings.content";
        query = query.filter(search.condition(text, matching));
    }
    query
}

/// Visible listings, newest first, `limit` at most; a search goes through
/// [`newest_matches`].
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ListingFilter,
    limit: i64,
) -> Result<Vec<ListingView>, CommunityError> {
    let before = filter.before;
    if filter.search.is_none() {
        let all = visible_listings(filter, None);
        return listings_page(conn, all, before, limit).await;
    }
    newest_matches(&mut ListingSearch { conn, filter }, before, limit).await
}

/// The listings a search reads, newest first.
struct ListingSearch<'a> {
    conn: &'a mut AsyncPgConnection,
    filter: &'a ListingFilter,
}

impl NewestRows for ListingSearch<'_> {
    type Id = ListingId;
    type Row = ListingView;
    type Error = CommunityError;

    async fn read(
        &mut self,
        matching: Matching,
        before: Option<ListingId>,
        within: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ListingView>, CommunityError> {
        let mut query = visible_listings(self.filter, Some(matching));
        if let Some(within) = within {
            let mut newest = visible_listings(self.filter, None);
            if let Some(before) = before {
                newest = newest.filter(listings::id.lt(before));
            }
            let floor = newest
                .order(listings::id.desc())
                .offset(within - 1)
                .select(listings::id)
                .single_value();
            query = query.filter(listings::id.ge(id_or(floor, 0_i64)));
        }
        listings_page(self.conn, query, before, limit).await
    }
}

/// The seller's name, looked up per row (every listing has one: a cascading foreign key).
#[diesel::dsl::auto_type(no_type_alias)]
fn seller_name() -> _ {
    users::table
        .filter(users::id.eq(listings::seller_id))
        .select(public_name(users::nickname, users::name))
        .single_value()
        .assume_not_null()
}

/// Listings of `query` below `before`, newest first.
async fn listings_page(
    conn: &mut AsyncPgConnection,
    mut query: ListingRows<'_>,
    before: Option<ListingId>,
    limit: i64,
) -> Result<Vec<ListingView>, CommunityError> {
    if let Some(before) = before {
        query = query.filter(listings::id.lt(before));
    }
    let rows: Vec<(Listing, String)> = query
        .order(listings::id.desc())
        .limit(limit)
        .select((Listing::as_select(), seller_name()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(listing, seller_name)| ListingView {
            listing,
            seller_name,
        })
        .collect())
}

/// A listing its reader may see (hidden ones: only the seller and admins).
pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: ListingId,
) -> Result<ListingView, CommunityError> {
    let (listing, seller_name): (Listing, String) = listings::table
        .inner_join(users::table)
        .filter(listings::id.eq(id))
        .filter(listings::deleted_at.is_null())
        .select((
            Listing::as_select(),
            public_name(users::nickname, users::name),
        ))
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::ListingNotFound)?;
    if !viewer.may_read(listing.seller_id, listing.hidden_at)
        || block::hides(conn, viewer.user, listing.seller_id).await?
    {
        return Err(CommunityError::ListingNotFound);
    }
    Ok(ListingView {
        listing,
        seller_name,
    })
}

#[derive(Debug, Clone)]
pub struct NewListing {
    pub category: ListingCategory,
    pub title: String,
    pub content: String,
    pub price: i64,
    pub region: String,
    pub image_keys: Vec<String>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = listings)]
pub struct ListingChanges {
    pub category: Option<ListingCategory>,
    pub title: Option<String>,
    pub content: Option<String>,
    pub price: Option<i64>,
    pub region: Option<String>,
    pub image_keys: Option<Vec<String>>,
}

/// Listings as authored content: the shared path ([`super::authored`]) writes, changes and
/// deletes them; someone else's listing is `NotTheSeller` (not found while it is hidden).
pub struct Listings;

#[async_trait]
impl Authored for Listings {
    type Id = ListingId;
    type Draft = NewListing;
    type Changes = ListingChanges;
    type View = ListingView;

    const IMAGES: Purpose = Purpose::Trade;

    fn draft_images(draft: &NewListing) -> &[String] {
        &draft.image_keys
    }

    fn changed_images(changes: &ListingChanges) -> Option<&[String]> {
        changes.image_keys.as_deref()
    }

    async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        seller: UserId,
        new: &NewListing,
        now: DateTime<Utc>,
    ) -> Result<ListingId, CommunityError> {
        Ok(diesel::insert_into(listings::table)
            .values((
                listings::seller_id.eq(seller),
                listings::category.eq(new.category),
                listings::title.eq(new.title.trim()),
                listings::content.eq(&new.content),
                listings::price.eq(new.price),
                listings::region.eq(new.region.trim()),
                listings::image_keys.eq(&new.image_keys),
                listings::created_at.eq(now),
                listings::updated_at.eq(now),
            ))
            .returning(listings::id)
            .get_result(conn)
            .await?)
    }

    async fn lock_own(
        &self,
        conn: &mut AsyncPgConnection,
        seller: UserId,
        id: ListingId,
    ) -> Result<Vec<String>, CommunityError> {
        Ok(own_listing(conn, seller, id).await?.image_keys)
    }

    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        id: ListingId,
        mut changes: ListingChanges,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        changes.title = changes.title.map(|title| title.trim().to_owned());
        changes.region = changes.region.map(|region| region.trim().to_owned());
        let before: Listing = listings::table
            .find(id)
            .select(Listing::as_select())
            .first(conn)
            .await?;
        let updated: Listing = diesel::update(listings::table.find(id))
            .set((&changes, listings::updated_at.eq(now)))
            .returning(Listing::as_returning())
            .get_result(conn)
            .await?;
        if updated.price < before.price && updated.status != ListingStatus::Sold {
            wish::tell_price_dropped(conn, &before, updated.price, now).await?;
        }
        Ok(())
    }

    async fn mark_deleted(
        &self,
        conn: &mut AsyncPgConnection,
        id: ListingId,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError> {
        diesel::update(listings::table.find(id))
            .set((listings::deleted_at.eq(now), listings::updated_at.eq(now)))
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn view(
        &self,
        conn: &mut AsyncPgConnection,
        viewer: Viewer,
        id: ListingId,
    ) -> Result<ListingView, CommunityError> {
        get(conn, viewer, id).await
    }
}

/// The seller's live listing, locked; someone else's is 403, a missing one 404.
async fn own_listing(
    conn: &mut AsyncPgConnection,
    seller: UserId,
    id: ListingId,
) -> Result<Listing, CommunityError> {
    let listing: Listing = listings::table
        .find(id)
        .filter(listings::deleted_at.is_null())
        .for_update()
        .select(Listing::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::ListingNotFound)?;
    if listing.seller_id != seller {
        return Err(if listing.hidden_at.is_some() {
            CommunityError::ListingNotFound
        } else {
            CommunityError::NotTheSeller
        });
    }
    Ok(listing)
}

/// Moves a listing along `FOR_SALE → RESERVED → SOLD` (or back from a reservation); asking for
/// the status it has changes nothing; `SOLD` is final.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    seller: UserId,
    id: ListingId,
    to: ListingStatus,
    now: DateTime<Utc>,
) -> Result<ListingView, CommunityError> {
    ensure_can_write(conn, seller).await?;
    conn.transaction(async |conn| {
        let listing = own_listing(conn, seller, id).await?;
        if listing.status == to {
            return Ok(());
        }
        if !listing.status.can_become(to) {
            return Err(CommunityError::InvalidListingTransition {
                from: listing.status,
                to,
            });
        }
        diesel::update(listings::table.find(id))
            .set((listings::status.eq(to), listings::updated_at.eq(now)))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await?;
    get(conn, Viewer::user(seller), id).await
}

#[cfg(test)]
mod tests {
    use super::ListingStatus::*;

    #[test]
    fn a_sale_is_final_and_a_reservation_can_be_given_up() {
        assert!(ForSale.can_become(Reserved));
        assert!(Reserved.can_become(ForSale));
        assert!(Reserved.can_become(Sold));
        assert!(ForSale.can_become(Sold));
        assert!(!Sold.can_become(ForSale));
        assert!(!Sold.can_become(Reserved));
    }
}
