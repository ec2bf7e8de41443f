//! A pet's growth diary: dated entries with words and up to 5 photos, beside its weights. Only
//! the owner writes and reads the whole diary; entries they make public show to anyone on their
//! profile ([`public_diary`]). Photos are uploads for pets, attached as posts attach theirs.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{PetId, invalid};
use crate::community::{CommunityError, ensure_can_publish, ensure_can_write};
use crate::identity::{AccountStatus, UserId};
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::{pet_diary_entries, pets, users};

crate::id_type! {
    /// An entry of a pet's diary (`pet_diary_entries.id`).
    pub struct DiaryEntryId;
}

/// How many photos one entry holds at most.
pub const MAX_DIARY_IMAGES: usize = 5;
/// How many characters an entry's text holds at most.
pub const MAX_DIARY_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = pet_diary_entries)]
pub struct DiaryEntry {
    pub id: DiaryEntryId,
    pub pet_id: PetId,
    pub day: NaiveDate,
    pub text: String,
    pub image_keys: Vec<String>,
    pub public: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An entry with the name of its pet, as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiaryEntryView {
    pub entry: DiaryEntry,
    pub pet_name: String,
}

#[derive(Debug, Clone)]
pub struct NewDiaryEntry {
    pub day: NaiveDate,
    pub text: String,
    pub image_keys: Vec<String>,
    pub public: bool,
}

/// What an edit changes: only the fields present.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = pet_diary_entries)]
pub struct DiaryChanges {
    pub day: Option<NaiveDate>,
    pub text: Option<String>,
    pub image_keys: Option<Vec<String>>,
    pub public: Option<bool>,
}

/// An edited or removed entry: the photos it let go of, discarded (see
/// [`upload::remove_discarded`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released<T> {
    pub value: T,
    pub discarded: Vec<String>,
}

/// Where the next page starts: after this entry, newest day first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiaryCursor {
    pub day: NaiveDate,
    pub id: DiaryEntryId,
}

impl DiaryCursor {
    pub fn of(entry: &DiaryEntry) -> Self {
        Self {
            day: entry.day,
            id: entry.id,
        }
    }

    /// `YYYY-MM-DD_<id>`.
    pub fn encode(self) -> String {
        format!("{}_{}", self.day, self.id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let (day, id) = text.split_once('_')?;
        let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
        Some(Self {
            day: day.parse().ok()?,
            id: DiaryEntryId(id),
        })
    }
}

/// A day not in the future, some words, at most 5 photos, none twice.
fn check(
    day: Option<NaiveDate>,
    text: Option<&str>,
    image_keys: Option<&[String]>,
    today: NaiveDate,
) -> Result<(), CommunityError> {
    if day.is_some_and(|day| day > today) {
        return Err(invalid("day", "future", "must not be in the future"));
    }
    if let Some(text) = text {
        if text.trim().is_empty() {
            return Err(invalid("text", "blank", "must not be blank"));
        }
        if text.chars().count() > MAX_DIARY_CHARS {
            return Err(invalid("text", "length", "must be at most 2000 characters"));
        }
    }
    if let Some(keys) = image_keys {
        if keys.len() > MAX_DIARY_IMAGES {
            return Err(invalid(
                "image_keys",
                "length",
                "must hold at most 5 photos",
            ));
        }
        if keys
            .iter()
            .enumerate()
            .any(|(at, key)| keys[..at].contains(key))
        {
            return Err(invalid(
                "image_keys",
                "duplicate",
                "must not name a photo twice",
            ));
        }
    }
    Ok(())
}

/// The name of `owner`'s pet `pet` (others' are not found).
async fn own_pet_name(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: PetId,
) -> Result<String, CommunityError> {
    pets::table
        .find(pet)
        .filter(pets::owner_id.eq(owner))
        .select(pets::name)
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::PetNotFound)
}

/// The owner's entry `id` of their pet `pet`, locked when `lock` (others' are not found).
async fn own_entry(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: PetId,
    id: DiaryEntryId,
    lock: bool,
) -> Result<DiaryEntry, CommunityError> {
    let query = pet_diary_entries::table
        .find(id)
        .filter(pet_diary_entries::pet_id.eq(pet))
        .filter(
            pet_diary_entries::pet_id.eq_any(
                pets::table
                    .filter(pets::owner_id.eq(owner))
                    .select(pets::id),
            ),
        )
        .select(DiaryEntry::as_select());
    let found = if lock {
        query.for_update().first(conn).await
    } else {
        query.first(conn).await
    };
    found.optional()?.ok_or(CommunityError::DiaryEntryNotFound)
}

/// Writes an entry in the diary of the owner's pet. A public entry is published: it needs a
/// proven email address, as a post does.
#[allow(clippy::too_many_arguments)]
pub async fn write_diary_entry(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    owner: UserId,
    pet: PetId,
    new: NewDiaryEntry,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DiaryEntryView, CommunityError> {
    if new.public {
        ensure_can_publish(conn, owner).await?;
    } else {
        ensure_can_write(conn, owner).await?;
    }
    check(Some(new.day), Some(&new.text), Some(&new.image_keys), today)?;
    let pet_name = own_pet_name(conn, owner, pet).await?;
    let images = upload::verify(conn, store, owner, Purpose::Pet, &new.image_keys, &[]).await?;
    let entry = conn
        .transaction(async |conn| {
            // The pet's row, shared: the entry is not written for a pet being removed.
            pets::table
                .find(pet)
                .filter(pets::owner_id.eq(owner))
                .select(pets::id)
                .for_share()
                .first::<PetId>(conn)
                .await
                .optional()?
                .ok_or(CommunityError::PetNotFound)?;
            images.attach(conn, now).await?;
            Ok::<_, CommunityError>(
                diesel::insert_into(pet_diary_entries::table)
                    .values((
                        pet_diary_entries::pet_id.eq(pet),
                        pet_diary_entries::day.eq(new.day),
                        pet_diary_entries::text.eq(&new.text),
                        pet_diary_entries::image_keys.eq(&new.image_keys),
                        pet_diary_entries::public.eq(new.public),
                        pet_diary_entries::created_at.eq(now),
                        pet_diary_entries::updated_at.eq(now),
                    ))
                    .returning(DiaryEntry::as_returning())
                    .get_result(conn)
                    .await?,
            )
        })
        .await?;
    Ok(DiaryEntryView { entry, pet_name })
}

/// The diary of the owner's pet, newest day first (of one day, the latest written first).
pub async fn diary(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: PetId,
    after: Option<DiaryCursor>,
    limit: i64,
) -> Result<Vec<DiaryEntryView>, CommunityError> {
    let pet_name = own_pet_name(conn, owner, pet).await?;
    let mut query = pet_diary_entries::table
        .filter(pet_diary_entries::pet_id.eq(pet))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(
            pet_diary_entries::day
                .lt(after.day)
                .or(pet_diary_entries::day
                    .eq(after.day)
                    .and(pet_diary_entries::id.lt(after.id))),
        );
    }
    let entries: Vec<DiaryEntry> = query
        .order((pet_diary_entries::day.desc(), pet_diary_entries::id.desc()))
        .limit(limit)
        .select(DiaryEntry::as_select())
        .load(conn)
        .await?;
    Ok(entries
        .into_iter()
        .map(|entry| DiaryEntryView {
            entry,
            pet_name: pet_name.clone(),
        })
        .collect())
}

/// The public entries of member `user`'s pets (of one pet, if given), newest day first, for
/// anyone; a withdrawn member (or no such member) has none to show.
pub async fn public_diary(
    conn: &mut AsyncPgConnection,
    user: UserId,
    pet: Option<PetId>,
    after: Option<DiaryCursor>,
    limit: i64,
) -> Result<Vec<DiaryEntryView>, CommunityError> {
    let known: i64 = users::table
        .find(user)
        .filter(users::status.ne(AccountStatus::Withdrawn))
        .count()
        .get_result(conn)
        .await?;
    if known == 0 {
        return Err(CommunityError::UserNotFound);
    }
    let mut query = pet_diary_entries::table
        .inner_join(pets::table)
        .filter(pets::owner_id.eq(user))
        .filter(pet_diary_entries::public)
        .into_boxed();
    if let Some(pet) = pet {
        query = query.filter(pet_diary_entries::pet_id.eq(pet));
    }
    if let Some(after) = after {
        query = query.filter(
            pet_diary_entries::day
                .lt(after.day)
                .or(pet_diary_entries::day
                    .eq(after.day)
                    .and(pet_diary_entries::id.lt(after.id))),
        );
    }
    let rows: Vec<(DiaryEntry, String)> = query
        .order((pet_diary_entries::day.desc(), pet_diary_entries::id.desc()))
        .limit(limit)
        .select((DiaryEntry::as_select(), pets::name))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(entry, pet_name)| DiaryEntryView { entry, pet_name })
        .collect())
}

/// The owner changes an entry; photos it holds stay without new checks, photos it no longer
/// holds are discarded. Making it public publishes it (a proven email address, as a post).
#[allow(clippy::too_many_arguments)]
pub async fn edit_diary_entry(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    owner: UserId,
    pet: PetId,
    id: DiaryEntryId,
    changes: DiaryChanges,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Released<DiaryEntryView>, CommunityError> {
    if changes.public == Some(true) {
        ensure_can_publish(conn, owner).await?;
    } else {
        ensure_can_write(conn, owner).await?;
    }
    check(
        changes.day,
        changes.text.as_deref(),
        changes.image_keys.as_deref(),
        today,
    )?;
    let before = own_entry(conn, owner, pet, id, false).await?;
    let new_images = changes.image_keys.as_deref().unwrap_or_default();
    let images = upload::verify(
        conn,
        store,
        owner,
        Purpose::Pet,
        new_images,
        &before.image_keys,
    )
    .await?;
    conn.transaction(async |conn| {
        let held = own_entry(conn, owner, pet, id, true).await?;
        images.attach(conn, now).await?;
        let discarded: Vec<String> = match &changes.image_keys {
            Some(kept) => held
                .image_keys
                .into_iter()
                .filter(|key| !kept.contains(key))
                .collect(),
            None => Vec::new(),
        };
        upload::discard(conn, owner, &discarded, now).await?;
        let entry = diesel::update(pet_diary_entries::table.find(id))
            .set((&changes, pet_diary_entries::updated_at.eq(now)))
            .returning(DiaryEntry::as_returning())
            .get_result(conn)
            .await?;
        let pet_name = own_pet_name(conn, owner, pet).await?;
        Ok(Released {
            value: DiaryEntryView { entry, pet_name },
            discarded,
        })
    })
    .await
}

/// The owner removes an entry; its photos are discarded. Returns them.
pub async fn delete_diary_entry(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: PetId,
    id: DiaryEntryId,
    now: DateTime<Utc>,
) -> Result<Released<()>, CommunityError> {
    ensure_can_write(conn, owner).await?;
    conn.transaction(async |conn| {
        let held = own_entry(conn, owner, pet, id, true).await?;
        diesel::delete(pet_diary_entries::table.find(id))
            .execute(conn)
            .await?;
        upload::discard(conn, owner, &held.image_keys, now).await?;
        Ok(Released {
            value: (),
            discarded: held.image_keys,
        })
    })
    .await
}

/// The photos of every entry of the pet, discarded as the pet goes (in its transaction).
pub(super) async fn discard_all(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    pet: PetId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let keys: Vec<Vec<String>> = pet_diary_entries::table
        .filter(pet_diary_entries::pet_id.eq(pet))
        .select(pet_diary_entries::image_keys)
        .load(conn)
        .await?;
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    upload::discard(conn, owner, &keys, now).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn entries_are_of_past_days_with_words_and_at_most_five_distinct_photos() {
        let today = day("2026-12-07");
        let keys = |n: usize| (0..n).map(|i| format!("pet/1/{i}.png")).collect::<Vec<_>>();
        assert!(check(Some(today), Some("walked"), Some(&keys(5)), today).is_ok());
        assert!(check(Some(day("2026-12-08")), None, None, today).is_err());
        assert!(check(None, Some(" \n "), None, today).is_err());
        assert!(check(None, Some(&"가".repeat(2000)), None, today).is_ok());
        assert!(check(None, Some(&"가".repeat(2001)), None, today).is_err());
        assert!(check(None, None, Some(&keys(6)), today).is_err());
        let twice = vec!["pet/1/a.png".to_owned(), "pet/1/a.png".to_owned()];
        assert!(check(None, None, Some(&twice), today).is_err());
    }

    #[test]
    fn a_cursor_reads_back_what_it_wrote() {
        let cursor = DiaryCursor {
            day: day("2026-12-07"),
            id: DiaryEntryId(42),
        };
        assert_eq!(DiaryCursor::parse(&cursor.encode()), Some(cursor));
        assert_eq!(DiaryCursor::parse("2026-12-07_0"), None);
        assert_eq!(DiaryCursor::parse("2026-13-07_1"), None);
        assert_eq!(DiaryCursor::parse("42"), None);
    }
}
