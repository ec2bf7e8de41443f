//! Pet-friendly places: what admins keep (and import), what members find near them and like.
//!
//! Positions are searched through `earthdistance` (see the places migrations): a GiST index on
//! each place's `ll_to_earth(lat, lng)` walks a radius nearest first. An API instance answers
//! the plain nearest-first pages from its in-memory index of the same points instead
//! ([`nearby`]), and reads the page's places by id.

pub mod import;
pub mod nearby;
pub mod ranking;
pub mod review;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike as _, NaiveTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Double, Int2, Nullable, Text, Time};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use self::nearby::{Near, NearbyIndex};
use crate::community::Viewer;
use crate::community::search::{Matching, Search};
use crate::db::DbError;
use crate::identity::{self, Suspended, UserId};
use crate::platform::upload::{self, Purpose, UploadError};
use crate::ports::ObjectStore;
use crate::schema::{place_hours, place_likes, places};
use ranking::PlaceRanking;

crate::id_type! {
    /// A place (`places.id`).
    pub struct PlaceId;
}

crate::text_enum! {
    pub enum PlaceCategory {
        Restaurant = "RESTAURANT",
        Cafe = "CAFE",
        Stay = "STAY",
        Park = "PARK",
        Hospital = "HOSPITAL",
        PetShop = "PET_SHOP",
        Etc = "ETC",
    }
}

crate::text_enum! {
    /// The pet sizes a place welcomes.
    pub enum PetSize {
        Small = "SMALL",
        Medium = "MEDIUM",
        Large = "LARGE",
    }
}

/// Refuses a suspended user's likes and reviews, and those of a user whose email address is
/// unproven.
pub(crate) async fn ensure_can_publish(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<(), PlaceError> {
    identity::ensure_can_publish(conn, user).await
}

/// The widest radius a search may ask for.
pub const MAX_RADIUS_M: f64 = 20_000.0;

#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("no such place")]
    NotFound,
    #[error("no such review of yours")]
    ReviewNotFound,
    #[error("you reviewed this place already; edit that review instead")]
    AlreadyReviewed,
    #[error(transparent)]
    Suspended(#[from] Suspended),
    #[error(transparent)]
    EmailNotVerified(#[from] identity::EmailNotVerified),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error("the place directory refused our key: {0}")]
    DirectoryRefused(String),
    #[error(transparent)]
    Upload(#[from] UploadError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for PlaceError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(error.into())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = places)]
pub struct Place {
    pub id: PlaceId,
    pub kakao_id: Option<String>,
    pub name: String,
    pub category: PlaceCategory,
    pub address: String,
    pub road_address: String,
    pub lat: f64,
    pub lng: f64,
    pub phone: String,
    pub pet_sizes: Vec<PetSize>,
    pub indoor_allowed: bool,
    pub leash_required: bool,
    pub extra_fee: i32,
    pub homepage: String,
    pub image_keys: Vec<String>,
    pub like_count: i32,
    pub review_count: i32,
    pub star_sum: i32,
    pub hidden_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Place {
    /// The mean of the stars, `None` before the first review.
    pub fn average_stars(&self) -> Option<f64> {
        (self.review_count > 0).then(|| f64::from(self.star_sum) / f64::from(self.review_count))
    }
}

/// One opening of a weekday (ISO: 1 is Monday); `closes` before `opens` runs past midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = place_hours)]
pub struct Hours {
    pub weekday: i16,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

/// A place with its hours, as one reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceView {
    pub place: Place,
    pub hours: Vec<Hours>,
    pub liked_by_me: bool,
}

/// What an admin writes of a place (all of it, on create and on update).
#[derive(Debug, Clone)]
pub struct PlaceDraft {
    pub name: String,
    pub category: PlaceCategory,
    pub address: String,
    pub road_address: String,
    pub lat: f64,
    pub lng: f64,
    pub phone: String,
    pub pet_sizes: Vec<PetSize>,
    pub indoor_allowed: bool,
    pub leash_required: bool,
    pub extra_fee: i32,
    pub homepage: String,
    pub image_keys: Vec<String>,
    pub hours: Vec<Hours>,
}

/// The columns a [`PlaceDraft`] writes, on create and on update alike.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = places)]
struct PlaceRow<'a> {
    name: &'a str,
    category: PlaceCategory,
    address: &'a str,
    road_address: &'a str,
    lat: f64,
    lng: f64,
    phone: &'a str,
    pet_sizes: &'a [PetSize],
    indoor_allowed: bool,
    leash_required: bool,
    extra_fee: i32,
    homepage: &'a str,
    image_keys: &'a [String],
}

impl PlaceDraft {
    fn row(&self) -> PlaceRow<'_> {
        PlaceRow {
            name: self.name.trim(),
            category: self.category,
            address: self.address.trim(),
            road_address: self.road_address.trim(),
            lat: self.lat,
            lng: self.lng,
            phone: self.phone.trim(),
            pet_sizes: &self.pet_sizes,
            indoor_allowed: self.indoor_allowed,
            leash_required: self.leash_required,
            extra_fee: self.extra_fee,
            homepage: self.homepage.trim(),
            image_keys: &self.image_keys,
        }
    }

    fn check(&self) -> Result<(), PlaceError> {
        if let Some(hours) = self
            .hours
            .iter()
            .find(|hours| !(1..=7).contains(&hours.weekday) || hours.opens == hours.closes)
        {
            return Err(PlaceError::Invalid {
                field: "hours",
                code: "hours",
                message: format!(
                    "weekday {} from {} to {}: weekdays are 1 (Monday) to 7, and a place closes at another time than it opens",
                    hours.weekday, hours.opens, hours.closes
                ),
            });
        }
        Ok(())
    }
}

/// Loads a place that readers may see (hidden ones: admins only).
async fn visible(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: PlaceId,
) -> Result<Place, PlaceError> {
    places::table
        .find(id)
        .filter(places::deleted_at.is_null())
        .select(Place::as_select())
        .first::<Place>(conn)
        .await
        .optional()?
        .filter(|place| place.hidden_at.is_none() || viewer.admin)
        .ok_or(PlaceError::NotFound)
}

/// A place with its hours and the reader's like.
pub async fn get(
    conn: &mut AsyncPgConnection,
    viewer: Viewer,
    id: PlaceId,
) -> Result<PlaceView, PlaceError> {
    let place = visible(conn, viewer, id).await?;
    let hours = place_hours::table
        .filter(place_hours::place_id.eq(id))
        .order((place_hours::weekday, place_hours::opens))
        .select(Hours::as_select())
        .load(conn)
        .await?;
    let liked_by_me = match viewer.user {
        Some(me) => {
            diesel::select(diesel::dsl::exists(place_likes::table.find((id, me))))
                .get_result(conn)
                .await?
        }
        None => false,
    };
    Ok(PlaceView {
        place,
        hours,
        liked_by_me,
    })
}

/// Adds a place (admins).
pub async fn create(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    admin: UserId,
    draft: PlaceDraft,
    now: DateTime<Utc>,
) -> Result<PlaceView, PlaceError> {
    draft.check()?;
    let images = upload::verify(conn, store, admin, Purpose::Place, &draft.image_keys, &[]).await?;
    let id = conn
        .transaction(async |conn| -> Result<PlaceId, PlaceError> {
            images.attach(conn, now).await?;
            let id: PlaceId = diesel::insert_into(places::table)
                .values((
                    draft.row(),
                    places::created_at.eq(now),
                    places::updated_at.eq(now),
                ))
                .returning(places::id)
                .get_result(conn)
                .await?;
            replace_hours(conn, id, &draft.hours).await?;
            Ok(id)
        })
        .await?;
    get(
        conn,
        Viewer {
            user: None,
            admin: true,
        },
        id,
    )
    .await
}

/// Rewrites a place (admins).
pub async fn update(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    admin: UserId,
    id: PlaceId,
    draft: PlaceDraft,
    now: DateTime<Utc>,
) -> Result<PlaceView, PlaceError> {
    draft.check()?;
    let admin_view = Viewer {
        user: None,
        admin: true,
    };
    let before = visible(conn, admin_view, id).await?;
    let images = upload::verify(
        conn,
        store,
        admin,
        Purpose::Place,
        &draft.image_keys,
        &before.image_keys,
    )
    .await?;
    conn.transaction(async |conn| -> Result<(), PlaceError> {
        images.attach(conn, now).await?;
        diesel::update(places::table.find(id))
            .set((draft.row(), places::updated_at.eq(now)))
            .execute(conn)
            .await?;
        replace_hours(conn, id, &draft.hours).await
    })
    .await?;
    get(conn, admin_view, id).await
}

async fn replace_hours(
    conn: &mut AsyncPgConnection,
    id: PlaceId,
    hours: &[Hours],
) -> Result<(), PlaceError> {
    diesel::delete(place_hours::table.filter(place_hours::place_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = hours
        .iter()
        .map(|hours| {
            (
                place_hours::place_id.eq(id),
                place_hours::weekday.eq(hours.weekday),
                place_hours::opens.eq(hours.opens),
                place_hours::closes.eq(hours.closes),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(place_hours::table)
            .values(rows)
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Takes a place down (admins); its likes stay for the record.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: PlaceId,
    now: DateTime<Utc>,
) -> Result<(), PlaceError> {
    let deleted = diesel::update(places::table.find(id).filter(places::deleted_at.is_null()))
        .set(places::deleted_at.eq(now))
        .execute(conn)
        .await?;
    if deleted == 0 {
        return Err(PlaceError::NotFound);
    }
    Ok(())
}

/// Places as admins list them, newest first: hidden ones too (only those with `hidden`, none
/// with `Some(false)`), never those taken down; `search` over the name and address.
pub async fn admin_list(
    conn: &mut AsyncPgConnection,
    hidden: Option<bool>,
    search: Option<&Search>,
    before: Option<PlaceId>,
    limit: i64,
) -> Result<Vec<Place>, PlaceError> {
    let mut query = places::table
        .filter(places::deleted_at.is_null())
        .into_boxed();
    query = match hidden {
        Some(true) => query.filter(places::hidden_at.is_not_null()),
        Some(false) => query.filter(places::hidden_at.is_null()),
        None => query,
    };
    if let Some(search) = search {
        query = query
            .filter(search.condition("places.name || ' ' || places.address", Matching::Indexed));
    }
    if let Some(before) = before {
        query = query.filter(places::id.lt(before));
    }
    Ok(query
        .order(places::id.desc())
        .limit(limit)
        .select(Place::as_select())
        .load(conn)
        .await?)
}

/// Where a search looks from, and how far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Around {
    pub lat: f64,
    pub lng: f64,
    pub radius_m: f64,
}

/// What a list of places asks for.
#[derive(Debug, Clone, Default)]
pub struct PlaceQuery {
    /// Nearest first within the radius when given; newest first otherwise.
    pub around: Option<Around>,
    pub search: Option<Search>,
    pub category: Option<PlaceCategory>,
    pub pet_size: Option<PetSize>,
    /// Only places open at this local time (weekday and time of day).
    pub open_at: Option<(i16, NaiveTime)>,
    pub after: Option<PlaceCursor>,
}

/// Where the next page starts: after this place (at this `chord_m`, for nearest-first lists).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceCursor {
    pub chord_m: Option<f64>,
    pub id: PlaceId,
}

/// A place in a list, with its distance from the search's position.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct PlaceItem {
    #[diesel(embed)]
    pub place: Place,
    #[diesel(sql_type = Nullable<Double>)]
    pub distance_m: Option<f64>,
    /// The straight-line distance through the earth, which nearest-first lists are ordered
    /// (and continued) by: it orders as `distance_m` does, and the index can walk it.
    #[diesel(sql_type = Nullable<Double>)]
    pub chord_m: Option<f64>,
    #[diesel(sql_type = Bool)]
    pub liked_by_me: bool,
}

crate::prepared_query! {
    /// Places around a position, nearest first (`nearby.sql`).
    struct NearbyPlaces = include_str!("nearby.sql");
    lat: Double = f64,
    lng: Double = f64,
    radius: Double = f64,
    category: Nullable<Text> = Option<PlaceCategory>,
    pet_size: Nullable<Text> = Option<PetSize>,
    patterns: Nullable<Array<Text>> = Option<Vec<String>>,
    weekday: Nullable<Int2> = Option<i16>,
    time: Nullable<Time> = Option<NaiveTime>,
    after_chord: Nullable<Double> = Option<f64>,
    after_id: Nullable<BigInt> = Option<PlaceId>,
    me: Nullable<BigInt> = Option<UserId>,
    limit: BigInt = i64,
}

crate::prepared_query! {
    /// Places newest first (`newest.sql`).
    struct NewestPlaces = include_str!("newest.sql");
    category: Nullable<Text> = Option<PlaceCategory>,
    pet_size: Nullable<Text> = Option<PetSize>,
    patterns: Nullable<Array<Text>> = Option<Vec<String>>,
    words: Nullable<Text> = Option<String>,
    weekday: Nullable<Int2> = Option<i16>,
    time: Nullable<Time> = Option<NaiveTime>,
    before: Nullable<BigInt> = Option<PlaceId>,
    me: Nullable<BigInt> = Option<UserId>,
    limit: BigInt = i64,
}

/// A page of places: within a radius nearest first, or all newest first; filtered. A
/// nearest-first page without words or opening hours comes from the in-memory `index` when the
/// instance keeps one (and has loaded it); the others are one query each.
pub async fn search(
    conn: &mut AsyncPgConnection,
    index: Option<&NearbyIndex>,
    viewer: Viewer,
    query: &PlaceQuery,
    limit: i64,
) -> Result<Vec<PlaceItem>, PlaceError> {
    if let (Some(index), Some(around), None, None) =
        (index, query.around, &query.search, query.open_at)
        && index.refresh(conn).await?
    {
        return nearest_indexed(conn, index, viewer, around, query, limit).await;
    }
    let (weekday, time) = query.open_at.unzip();
    let patterns = query
        .search
        .as_ref()
        .map(|search| search.patterns().collect::<Vec<_>>());
    let me = viewer.user;
    Ok(match query.around {
        Some(around) => {
            NearbyPlaces {
                lat: around.lat,
                lng: around.lng,
                radius: around.radius_m,
                category: query.category,
                pet_size: query.pet_size,
                patterns,
                weekday,
                time,
                after_chord: query.after.and_then(|after| after.chord_m),
                after_id: query.after.map(|after| after.id),
                me,
                limit,
            }
            .load(conn)
            .await?
        }
        None => {
            NewestPlaces {
                category: query.category,
                pet_size: query.pet_size,
                patterns,
                words: query.search.as_ref().map(|search| search.text().to_owned()),
                weekday,
                time,
                before: query.after.map(|after| after.id),
                me,
                limit,
            }
            .load(conn)
            .await?
        }
    })
}

/// A nearest-first page through the in-memory index: the places it finds are read by id, and
/// kept if they are (still) visible, pass the filters and are where the index has them; more
/// are found if some were not.
async fn nearest_indexed(
    conn: &mut AsyncPgConnection,
    index: &NearbyIndex,
    viewer: Viewer,
    around: Around,
    query: &PlaceQuery,
    limit: i64,
) -> Result<Vec<PlaceItem>, PlaceError> {
    let filter = nearby::Filter {
        category: query.category,
        pet_size: query.pet_size,
    };
    let count = usize::try_from(limit).unwrap_or(0);
    let centre = nearby::point(around.lat, around.lng);
    let mut after = query.after.and_then(|after| {
        Some(Near {
            id: after.id,
            chord_m: after.chord_m?,
        })
    });
    let mut items: Vec<PlaceItem> = Vec::with_capacity(count);
    while items.len() < count {
        let wanted = count - items.len();
        let found = index.nearest(&around, filter, after, wanted);
        let Some(last) = found.last() else { break };
        after = Some(*last);
        let ids: Vec<PlaceId> = found.iter().map(|near| near.id).collect();
        let mut rows: HashMap<PlaceId, Place> = places::table
            .filter(places::id.eq_any(&ids))
            .filter(places::deleted_at.is_null())
            .filter(places::hidden_at.is_null())
            .select(Place::as_select())
            .load::<Place>(conn)
            .await?
            .into_iter()
            .map(|place| (place.id, place))
            .collect();
        items.extend(found.iter().filter_map(|near| {
            // A place moved since the index last looked is left out until it is found where
            // it is now (the next look): its distance and order would be the old ones.
            let place = rows.remove(&near.id).filter(|place| {
                filter.admits(place)
                    && (nearby::chord_between(centre, place.lat, place.lng) - near.chord_m).abs()
                        < 0.001
            })?;
            Some(PlaceItem {
                place,
                distance_m: Some(nearby::distance_of(near.chord_m)),
                chord_m: Some(near.chord_m),
                liked_by_me: false,
            })
        }));
        if found.len() < wanted {
            break;
        }
    }
    if let Some(me) = viewer.user
        && !items.is_empty()
    {
        let ids: Vec<PlaceId> = items.iter().map(|item| item.place.id).collect();
        let liked: HashSet<PlaceId> = place_likes::table
            .filter(place_likes::user_id.eq(me))
            .filter(place_likes::place_id.eq_any(&ids))
            .select(place_likes::place_id)
            .load::<PlaceId>(conn)
            .await?
            .into_iter()
            .collect();
        for item in &mut items {
            item.liked_by_me = liked.contains(&item.place.id);
        }
    }
    Ok(items)
}

/// The ISO weekday (1 = Monday) and time of day of an instant in a zone.
pub fn local_weekday_and_time(at: DateTime<chrono_tz::Tz>) -> (i16, NaiveTime) {
    let weekday = i16::try_from(at.weekday().number_from_monday()).unwrap_or(1);
    (weekday, at.time())
}

/// Likes a place (again is harmless); the count moves with the like row, under the place's
/// lock, and the ranking follows once committed. Returns the place's like count.
pub async fn like(
    conn: &mut AsyncPgConnection,
    ranking: &dyn PlaceRanking,
    user: UserId,
    id: PlaceId,
    now: DateTime<Utc>,
) -> Result<i32, PlaceError> {
    ensure_can_publish(conn, user).await?;
    let (count, category, added) = conn
        .transaction(async |conn| -> Result<_, PlaceError> {
            let category = lock_visible(conn, id).await?;
            let added = diesel::insert_into(place_likes::table)
                .values((
                    place_likes::place_id.eq(id),
                    place_likes::user_id.eq(user),
                    place_likes::created_at.eq(now),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await?;
            let count = move_count(conn, id, i32::try_from(added).unwrap_or(0)).await?;
            Ok((count, category, added))
        })
        .await?;
    follow(ranking, id, category, i64::try_from(added).unwrap_or(0)).await;
    Ok(count)
}

/// Takes a like back (none is harmless). Returns the place's like count.
pub async fn unlike(
    conn: &mut AsyncPgConnection,
    ranking: &dyn PlaceRanking,
    user: UserId,
    id: PlaceId,
) -> Result<i32, PlaceError> {
    ensure_can_publish(conn, user).await?;
    let (count, category, removed) = conn
        .transaction(async |conn| -> Result<_, PlaceError> {
            let category = lock_visible(conn, id).await?;
            let removed = diesel::delete(place_likes::table.find((id, user)))
                .execute(conn)
                .await?;
            let count = move_count(conn, id, -i32::try_from(removed).unwrap_or(0)).await?;
            Ok((count, category, removed))
        })
        .await?;
    follow(ranking, id, category, -i64::try_from(removed).unwrap_or(0)).await;
    Ok(count)
}

/// Moves the ranking by a committed like or unlike. A failure only leaves the ranking behind
/// until the next rebuild (`rebuild-place-ranking`).
async fn follow(ranking: &dyn PlaceRanking, id: PlaceId, category: PlaceCategory, delta: i64) {
    if delta != 0
        && let Err(error) = ranking.record(id, category, delta).await
    {
        tracing::warn!(%error, place = %id, "ranking not moved; the next rebuild mends it");
    }
}

/// Locks a place that takes likes and reviews (not hidden, not deleted): its category.
async fn lock_visible(
    conn: &mut AsyncPgConnection,
    id: PlaceId,
) -> Result<PlaceCategory, PlaceError> {
    places::table
        .find(id)
        .filter(places::deleted_at.is_null())
        .filter(places::hidden_at.is_null())
        .select(places::category)
        .for_update()
        .first::<PlaceCategory>(conn)
        .await
        .optional()?
        .ok_or(PlaceError::NotFound)
}

async fn move_count(conn: &mut AsyncPgConnection, id: PlaceId, by: i32) -> Result<i32, PlaceError> {
    Ok(diesel::update(places::table.find(id))
        .set(places::like_count.eq(places::like_count + by))
        .returning(places::like_count)
        .get_result(conn)
        .await?)
}

/// Where a list of liked places goes on from: the last like of the previous page (likes made
/// in the same microsecond are told apart by their place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeCursor {
    pub liked_at: DateTime<Utc>,
    pub place: PlaceId,
}

/// The places I like, the latest like first, after `after` in that order.
pub async fn liked_by(
    conn: &mut AsyncPgConnection,
    user: UserId,
    after: Option<LikeCursor>,
    limit: i64,
) -> Result<Vec<(Place, DateTime<Utc>)>, PlaceError> {
    let mut query = place_likes::table
        .inner_join(places::table)
        .filter(place_likes::user_id.eq(user))
        .filter(places::deleted_at.is_null())
        .filter(places::hidden_at.is_null())
        .select((Place::as_select(), place_likes::created_at))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(
            place_likes::created_at
                .lt(after.liked_at)
                .or(place_likes::created_at
                    .eq(after.liked_at)
                    .and(place_likes::place_id.lt(after.place))),
        );
    }
    Ok(query
        .order((place_likes::created_at.desc(), place_likes::place_id.desc()))
        .limit(limit)
        .load(conn)
        .await?)
}
