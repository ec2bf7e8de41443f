//! Importing places from an outside directory (Kakao Local), idempotent by the directory's id:
//! a place imported again is brought up to date, never duplicated.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{PlaceCategory, PlaceError};
use crate::ports::{DirectoryError, DirectoryPlace, DirectoryQuery, PlaceDirectory};
use crate::schema::places;

/// Kakao Local serves at most this many pages of a search.
pub const MAX_PAGES: u32 = 45;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub pages: u32,
    pub created: usize,
    pub updated: usize,
}

/// Petory's category for a directory place: by its group code, else by words of its path.
pub fn category_of(place: &DirectoryPlace) -> PlaceCategory {
    match place.category_group_code.as_str() {
        "FD6" => PlaceCategory::Restaurant,
        "CE7" => PlaceCategory::Cafe,
        "AD5" => PlaceCategory::Stay,
        "HP8" => PlaceCategory::Hospital,
        _ => {
            let path = place.category_name.as_str();
            if path.contains("동물병원") || path.contains("병원") {
                PlaceCategory::Hospital
            } else if path.contains("애견") || path.contains("반려") || path.contains("펫") {
                PlaceCategory::PetShop
            } else if path.contains("공원") {
                PlaceCategory::Park
            } else {
                PlaceCategory::Etc
            }
        }
    }
}

/// Imports every page of a directory search (page 1 on, until the directory's last page).
pub async fn import(
    db: &crate::db::DbPool,
    directory: &dyn PlaceDirectory,
    mut query: DirectoryQuery,
    now: DateTime<Utc>,
) -> Result<ImportCounts, PlaceError> {
    // Kakao refuses a keyword of only spaces (400): it is the client's to fix, not an outage.
    query.query = query.query.trim().to_owned();
    if query.query.is_empty() {
        return Err(PlaceError::Invalid {
            field: "query",
            code: "BLANK",
            message: "the keyword is blank".to_owned(),
        });
    }
    let mut counts = ImportCounts::default();
    for page in 1..=MAX_PAGES {
        query.page = page;
        let found = directory
            .search(&query)
            .await
            .map_err(|error| match error {
                DirectoryError::Refused(detail) => PlaceError::DirectoryRefused(detail),
                DirectoryError::Unavailable(detail) => PlaceError::Unavailable(detail),
            })?;
        counts.pages = page;
        // A connection only while storing a page: none is held while Kakao answers.
        let mut conn = db.get().await.map_err(crate::db::DbError::from)?;
        for place in &found.places {
            if upsert(&mut conn, place, now).await? {
                counts.created += 1;
            } else {
                counts.updated += 1;
            }
        }
        drop(conn);
        if found.is_end || found.places.is_empty() {
            break;
        }
    }
    Ok(counts)
}

/// Stores one directory place: whether it is new.
async fn upsert(
    conn: &mut AsyncPgConnection,
    place: &DirectoryPlace,
    now: DateTime<Utc>,
) -> Result<bool, PlaceError> {
    let cut = |text: &str, max: usize| text.chars().take(max).collect::<String>();
    let existed: bool = diesel::select(diesel::dsl::exists(
        places::table.filter(places::kakao_id.eq(&place.id)),
    ))
    .get_result(conn)
    .await?;
    diesel::insert_into(places::table)
        .values((
            places::kakao_id.eq(&place.id),
            places::name.eq(cut(&place.name, 100)),
            places::category.eq(category_of(place)),
            places::address.eq(cut(&place.address, 200)),
            places::road_address.eq(cut(&place.road_address, 200)),
            places::lat.eq(place.lat),
            places::lng.eq(place.lng),
            places::phone.eq(cut(&place.phone, 30)),
            places::homepage.eq(cut(&place.url, 300)),
            places::created_at.eq(now),
            places::updated_at.eq(now),
        ))
        .on_conflict(places::kakao_id)
        .do_update()
        .set((
            places::name.eq(excluded(places::name)),
            places::address.eq(excluded(places::address)),
            places::road_address.eq(excluded(places::road_address)),
            places::lat.eq(excluded(places::lat)),
            places::lng.eq(excluded(places::lng)),
            places::phone.eq(excluded(places::phone)),
            places::homepage.eq(excluded(places::homepage)),
            places::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(!existed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(code: &str, path: &str) -> DirectoryPlace {
        DirectoryPlace {
            id: "1".into(),
            name: "x".into(),
            category_name: path.into(),
            category_group_code: code.into(),
            phone: String::new(),
            address: "a".into(),
            road_address: String::new(),
            lat: 37.0,
            lng: 127.0,
            url: String::new(),
        }
    }

    #[test]
    fn directory_categories_map_to_ours() {
        assert_eq!(
            category_of(&place("CE7", "음식점 > 카페")),
            PlaceCategory::Cafe
        );
        assert_eq!(
            category_of(&place("FD6", "음식점")),
            PlaceCategory::Restaurant
        );
        assert_eq!(
            category_of(&place("", "가정,생활 > 반려동물 > 애견용품")),
            PlaceCategory::PetShop
        );
        assert_eq!(category_of(&place("", "여행 > 공원")), PlaceCategory::Park);
        assert_eq!(
            category_of(&place("", "의료 > 동물병원")),
            PlaceCategory::Hospital
        );
        assert_eq!(category_of(&place("", "문화,예술")), PlaceCategory::Etc);
    }
}
