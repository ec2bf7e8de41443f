//! Where the visible places are, kept in memory by each API instance, so that a nearest-first
//! page is found without a PostgreSQL query plan per request.
//!
//! PostgreSQL's nearest-first walk costs about a millisecond a page, most of it planning (a
//! generic plan cannot know how many places a radius holds); this R*-tree (`rstar`) over the
//! places' points on `earthdistance`'s sphere answers the same walk in microseconds, and the
//! page's places are then read by id. Each index follows the database by itself: a trigger
//! stamps `places.nearby_changed_at` whenever a place's position, category, pet sizes or
//! visibility changes (whoever writes it: admins, imports, moderation, another instance), and a
//! search first reads the changes since the previous look when that look is older than the
//! configured age (1 s by default), and the whole index is loaded again every ten minutes. The
//! page's rows are read from PostgreSQL, visible, matching and where the index has them, so an
//! index that is a moment behind can leave a place out or find it a moment late, never show one
//! that is hidden, deleted, moved away or of another category.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::IntoSql as _;
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::{Around, PetSize, PlaceCategory, PlaceId};
use crate::db::DbError;
use crate::schema::places;

/// The sphere `earthdistance` measures on (its `earth()`), in metres.
const EARTH_RADIUS_M: f64 = 6_378_168.0;

/// How far before the previous look each look for changes reaches back: a place written by a
/// transaction that was still open at the previous look (committed after it, stamped before
/// it) is found by the next one, if that transaction took less than this.
const OVERLAP: TimeDelta = TimeDelta::seconds(60);

/// How often the index is loaded whole again: what no change stamp tells (a transaction open
/// longer than [`OVERLAP`], rows removed or restored without the trigger) lasts no longer.
const RELOAD_EVERY: Duration = Duration::from_secs(600);

/// A place's point on the sphere (`ll_to_earth`): metres from the earth's centre.
pub fn point(lat: f64, lng: f64) -> [f64; 3] {
    let (lat, lng) = (lat.to_radians(), lng.to_radians());
    [
        EARTH_RADIUS_M * lat.cos() * lng.cos(),
        EARTH_RADIUS_M * lat.cos() * lng.sin(),
        EARTH_RADIUS_M * lat.sin(),
    ]
}

/// The straight line through the earth between two points this far apart on its surface
/// (`gc_to_sec`).
pub fn chord_of(distance_m: f64) -> f64 {
    let distance_m = distance_m.clamp(0.0, std::f64::consts::PI * EARTH_RADIUS_M);
    2.0 * EARTH_RADIUS_M * (distance_m / (2.0 * EARTH_RADIUS_M)).sin()
}

/// The straight line through the earth from a point (a search's centre) to a place.
pub fn chord_between(from: [f64; 3], lat: f64, lng: f64) -> f64 {
    from.iter()
        .zip(point(lat, lng))
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
}

/// The distance on the surface between two points this far apart in a straight line
/// (`sec_to_gc`).
pub fn distance_of(chord_m: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord_m / (2.0 * EARTH_RADIUS_M)).min(1.0).asin()
}

/// What a nearest-first search keeps of a place besides its point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Listed {
    id: PlaceId,
    category: PlaceCategory,
    sizes: u8,
}

fn size_bit(size: PetSize) -> u8 {
    match size {
        PetSize::Small => 1,
        PetSize::Medium => 2,
        PetSize::Large => 4,
    }
}

fn size_bits(sizes: &[PetSize]) -> u8 {
    sizes.iter().fold(0, |bits, size| bits | size_bit(*size))
}

type Spot = GeomWithData<[f64; 3], Listed>;

/// A place as the index reads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = places)]
struct Located {
    id: PlaceId,
    category: PlaceCategory,
    pet_sizes: Vec<PetSize>,
    lat: f64,
    lng: f64,
}

impl Located {
    fn spot(&self) -> Spot {
        Spot::new(
            point(self.lat, self.lng),
            Listed {
                id: self.id,
                category: self.category,
                sizes: size_bits(&self.pet_sizes),
            },
        )
    }
}

/// The filters a nearest-first search applies in the index.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Filter {
    pub category: Option<PlaceCategory>,
    pub pet_size: Option<PetSize>,
}

impl Filter {
    /// Whether a place (as the database has it now) passes.
    pub(super) fn admits(&self, place: &super::Place) -> bool {
        self.passes(place.category, size_bits(&place.pet_sizes))
    }

    fn passes(&self, category: PlaceCategory, sizes: u8) -> bool {
        self.category.is_none_or(|wanted| wanted == category)
            && self.pet_size.is_none_or(|size| sizes & size_bit(size) != 0)
    }
}

/// A place found near a position: its straight-line distance orders the list and continues it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Near {
    pub id: PlaceId,
    pub chord_m: f64,
}

/// The visible places' points, and each one by id (to move or remove it).
#[derive(Default)]
struct Spots {
    tree: RTree<Spot>,
    by_id: HashMap<PlaceId, Spot>,
}

impl Spots {
    fn of(located: &[Located]) -> Self {
        let spots: Vec<Spot> = located.iter().map(Located::spot).collect();
        let by_id = spots.iter().map(|spot| (spot.data.id, *spot)).collect();
        Self {
            tree: RTree::bulk_load(spots),
            by_id,
        }
    }

    /// Follows one place's change: `None` when it is no longer visible.
    fn apply(&mut self, id: PlaceId, now: Option<Spot>) {
        if self.by_id.get(&id) == now.as_ref() {
            return;
        }
        if let Some(before) = self.by_id.remove(&id) {
            self.tree.remove(&before);
        }
        if let Some(spot) = now {
            self.tree.insert(spot);
            self.by_id.insert(id, spot);
        }
    }

    /// Up to `count` places within the radius that pass the filter, after `after` in the
    /// order of (straight-line distance, id).
    fn nearest(
        &self,
        around: &Around,
        filter: Filter,
        after: Option<Near>,
        count: usize,
    ) -> Vec<Near> {
        if count == 0 {
            return Vec::new();
        }
        let reach = chord_of(around.radius_m);
        let mut found: Vec<Near> = Vec::with_capacity(count + 1);
        let centre = point(around.lat, around.lng);
        for (spot, squared) in self.tree.nearest_neighbor_iter_with_distance_2(&centre) {
            let chord_m = squared.sqrt();
            if chord_m > reach {
                break;
            }
            // The walk orders by distance alone: with `count` found, only ties of the last may
            // still come before it by id.
            if found.len() >= count && found.last().is_some_and(|last| chord_m > last.chord_m) {
                break;
            }
            let near = Near {
                id: spot.data.id,
                chord_m,
            };
            if filter.passes(spot.data.category, spot.data.sizes)
                && after.is_none_or(|after| later(&near, &after))
            {
                found.push(near);
            }
        }
        found.sort_by(|a, b| a.chord_m.total_cmp(&b.chord_m).then(a.id.cmp(&b.id)));
        found.truncate(count);
        found
    }
}

/// Whether `near` comes after `after` in the order of (straight-line distance, id).
fn later(near: &Near, after: &Near) -> bool {
    near.chord_m
        .total_cmp(&after.chord_m)
        .then(near.id.cmp(&after.id))
        .is_gt()
}

/// When the index last looked at the database (and loaded it whole), and from when the next
/// look reads changes.
#[derive(Default)]
struct Looked {
    at: Option<Instant>,
    loaded_at: Option<Instant>,
    changes_since: Option<DateTime<Utc>>,
}

/// An API instance's index of where the visible places are.
pub struct NearbyIndex {
    spots: RwLock<Spots>,
    looked: tokio::sync::Mutex<Looked>,
    /// Whether the index was ever loaded: until then searches ask PostgreSQL.
    loaded: AtomicBool,
    max_age: Duration,
}

impl NearbyIndex {
    /// An empty index that loads every visible place at its first use and then follows the
    /// changes, looking again when its last look is older than `max_age` (zero: at every search).
    pub fn new(max_age: Duration) -> Self {
        Self {
            spots: RwLock::default(),
            looked: tokio::sync::Mutex::default(),
            loaded: AtomicBool::new(false),
            max_age,
        }
    }

    /// Brings the index up to date unless it looked less than its `max_age` ago (and loads it
    /// whole every [`RELOAD_EVERY`]); whether it can answer. A search never waits for another's
    /// look in progress: it reads the index as it is (as old as that look's start at most), or,
    /// while the first load is under way, is told to ask PostgreSQL.
    pub async fn refresh(&self, conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
        let Ok(mut looked) = self.looked.try_lock() else {
            // Not `.load(..)`: diesel's `RunQueryDsl::load` is in scope.
            return Ok(AtomicBool::load(&self.loaded, Ordering::Acquire));
        };
        if looked.at.is_some_and(|at| at.elapsed() < self.max_age) {
            return Ok(true);
        }
        let started = Instant::now();
        let db_now: DateTime<Utc> = diesel::select(diesel::dsl::now.into_sql::<Timestamptz>())
            .get_result(conn)
            .await?;
        let visible = places::deleted_at
            .is_null()
            .and(places::hidden_at.is_null());
        let reload = looked
            .loaded_at
            .is_none_or(|at| at.elapsed() >= RELOAD_EVERY);
        match looked.changes_since.filter(|_| !reload) {
            None => {
                let located: Vec<Located> = places::table
                    .filter(visible)
                    .select(Located::as_select())
                    .load(conn)
                    .await?;
                let spots = Spots::of(&located);
                drop(located);
                *self.spots.write().unwrap_or_else(PoisonError::into_inner) = spots;
                looked.loaded_at = Some(started);
                self.loaded.store(true, Ordering::Release);
            }
            Some(since) => {
                let changed: Vec<(Located, bool)> = places::table
                    .filter(places::nearby_changed_at.gt(since))
                    .select((Located::as_select(), visible))
                    .load(conn)
                    .await?;
                if !changed.is_empty() {
                    let mut spots = self.spots.write().unwrap_or_else(PoisonError::into_inner);
                    for (located, visible) in &changed {
                        spots.apply(located.id, visible.then(|| located.spot()));
                    }
                }
            }
        }
        looked.changes_since = Some(db_now - OVERLAP);
        looked.at = Some(started);
        Ok(true)
    }

    /// Up to `count` visible places within `around` that pass `filter`, nearest first (ties by
    /// id), after `after`; as of the last [`refresh`](Self::refresh).
    pub fn nearest(
        &self,
        around: &Around,
        filter: Filter,
        after: Option<Near>,
        count: usize,
    ) -> Vec<Near> {
        self.spots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .nearest(around, filter, after, count)
    }

    /// How many places the index holds.
    pub fn len(&self) -> usize {
        self.spots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .len()
    }

    /// Whether the index holds no place.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(id: i64, lat: f64, lng: f64, category: PlaceCategory, sizes: &[PetSize]) -> Located {
        Located {
            id: PlaceId(id),
            category,
            pet_sizes: sizes.to_vec(),
            lat,
            lng,
        }
    }

    const CITY_HALL: (f64, f64) = (37.5663, 126.9779);

    fn around(radius_m: f64) -> Around {
        Around {
            lat: CITY_HALL.0,
            lng: CITY_HALL.1,
            radius_m,
        }
    }

    fn ids(found: &[Near]) -> Vec<i64> {
        found.iter().map(|near| near.id.0).collect()
    }

    /// Places `step` degrees of latitude apart going north from City Hall, ids 1, 2, ...
    fn northwards(count: i64, step: f64) -> Vec<Located> {
        (1..=count)
            .map(|id| {
                #[allow(clippy::cast_precision_loss)]
                let lat = CITY_HALL.0 + step * id as f64;
                located(id, lat, CITY_HALL.1, PlaceCategory::Cafe, &[PetSize::Small])
            })
            .collect()
    }

    #[test]
    fn distances_match_earthdistance() {
        // `SELECT earth_distance(ll_to_earth(37.5663, 126.9779), ll_to_earth(35.1796, 129.0756))`
        // (Seoul City Hall to Busan City Hall) on PostgreSQL 15: 325,464.18 m.
        let seoul = point(37.5663, 126.9779);
        let busan = point(35.1796, 129.0756);
        let chord = seoul
            .iter()
            .zip(busan)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(
            (distance_of(chord) - 325_464.18).abs() < 0.01,
            "{}",
            distance_of(chord)
        );
        assert!((distance_of(chord_of(3000.0)) - 3000.0).abs() < 1e-6);
    }

    #[test]
    fn nearest_first_within_the_radius_then_after_the_cursor() {
        // 0.01° of latitude is about 1.1 km: places 1 and 2 are within 3 km, 3 is not.
        let spots = Spots::of(&northwards(5, 0.01));
        let found = spots.nearest(&around(3000.0), Filter::default(), None, 10);
        assert_eq!(ids(&found), [1, 2]);
        assert!(found[0].chord_m < found[1].chord_m);
        let next = spots.nearest(&around(3000.0), Filter::default(), Some(found[0]), 10);
        assert_eq!(ids(&next), [2]);
        assert_eq!(
            ids(&spots.nearest(&around(10_000.0), Filter::default(), None, 3)),
            [1, 2, 3]
        );
    }

    #[test]
    fn places_at_one_spot_page_by_id_without_loss_or_repeats() {
        let mut places: Vec<Located> = (1..=7)
            .map(|id| located(id, 37.57, 126.98, PlaceCategory::Cafe, &[]))
            .collect();
        places.push(located(8, 37.5663, 126.9779, PlaceCategory::Cafe, &[]));
        let spots = Spots::of(&places);
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = spots.nearest(&around(3000.0), Filter::default(), after, 3);
            if page.is_empty() {
                break;
            }
            seen.extend(ids(&page));
            after = page.last().copied();
        }
        assert_eq!(seen, [8, 1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn filters_by_category_and_pet_size() {
        let spots = Spots::of(&[
            located(1, 37.567, 126.978, PlaceCategory::Cafe, &[PetSize::Small]),
            located(2, 37.568, 126.978, PlaceCategory::Park, &[PetSize::Large]),
            located(
                3,
                37.569,
                126.978,
                PlaceCategory::Cafe,
                &[PetSize::Medium, PetSize::Large],
            ),
        ]);
        let cafes = Filter {
            category: Some(PlaceCategory::Cafe),
            pet_size: None,
        };
        assert_eq!(
            ids(&spots.nearest(&around(3000.0), cafes, None, 10)),
            [1, 3]
        );
        let large = Filter {
            category: None,
            pet_size: Some(PetSize::Large),
        };
        assert_eq!(
            ids(&spots.nearest(&around(3000.0), large, None, 10)),
            [2, 3]
        );
        let large_cafes = Filter {
            category: Some(PlaceCategory::Cafe),
            pet_size: Some(PetSize::Large),
        };
        assert_eq!(
            ids(&spots.nearest(&around(3000.0), large_cafes, None, 10)),
            [3]
        );
    }

    #[test]
    fn changes_move_add_and_remove_places() {
        let mut spots = Spots::of(&northwards(3, 0.01));
        // 3 moves next to City Hall, 1 is hidden, 9 is added 1.5 km north (2 is 2.2 km).
        let moved = located(
            3,
            CITY_HALL.0,
            CITY_HALL.1,
            PlaceCategory::Cafe,
            &[PetSize::Small],
        );
        spots.apply(PlaceId(3), Some(moved.spot()));
        spots.apply(PlaceId(1), None);
        let added = located(9, 37.58, 126.9779, PlaceCategory::Cafe, &[]);
        spots.apply(PlaceId(9), Some(added.spot()));
        // Applying the same change again (the next look's overlap) changes nothing.
        spots.apply(PlaceId(3), Some(moved.spot()));
        spots.apply(PlaceId(1), None);
        assert_eq!(
            ids(&spots.nearest(&around(3000.0), Filter::default(), None, 10)),
            [3, 9, 2]
        );
        assert_eq!(spots.by_id.len(), 3);
        assert_eq!(spots.tree.size(), 3);
    }
}
