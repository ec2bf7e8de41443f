//! A user's pets, their growth log and their diary. Others see a pet only through public
//! content (its public diary entries among it).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{CommunityError, ensure_can_write};
use crate::identity::UserId;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::{pet_weights, pets, users};

mod diary;

pub use diary::{
    DiaryChanges, DiaryCursor, DiaryEntry, DiaryEntryId, DiaryEntryView, MAX_DIARY_CHARS,
    MAX_DIARY_IMAGES, NewDiaryEntry, Released, delete_diary_entry, diary, edit_diary_entry,
    public_diary, write_diary_entry,
};

crate::id_type! {
    /// A pet (`pets.id`).
    pub struct PetId;
}

crate::text_enum! {
    pub enum Species {
        Dog = "DOG",
        Cat = "CAT",
        Other = "OTHER",
    }
}

crate::text_enum! {
    pub enum Sex {
        Male = "MALE",
        Female = "FEMALE",
        Unknown = "UNKNOWN",
    }
}

/// How many pets one user keeps at most.
pub const MAX_PETS: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = pets)]
pub struct Pet {
    pub id: PetId,
    pub owner_id: UserId,
    pub name: String,
    pub species: Species,
    pub breed: String,
    pub birthday: Option<NaiveDate>,
    pub adopted_on: Option<NaiveDate>,
    pub sex: Sex,
    pub neutered: bool,
    pub weight_grams: Option<i32>,
    pub photo_key: Option<String>,
    pub memo: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new pet, or (as [`PetChanges`]) what changes; `None` in a change keeps the value, and
/// `Some(None)` clears an optional one.
#[derive(Debug, Clone)]
pub struct NewPet {
    pub name: String,
    pub species: Species,
    pub breed: String,
    pub birthday: Option<NaiveDate>,
    pub adopted_on: Option<NaiveDate>,
    pub sex: Sex,
    pub neutered: bool,
    pub weight_grams: Option<i32>,
    pub photo_key: Option<String>,
    pub memo: String,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = pets)]
pub struct PetChanges {
    pub name: Option<String>,
    pub species: Option<Species>,
    pub breed: Option<String>,
    pub birthday: Option<Option<NaiveDate>>,
    pub adopted_on: Option<Option<NaiveDate>>,
    pub sex: Option<Sex>,
    pub neutered: Option<bool>,
    pub weight_grams: Option<Option<i32>>,
    pub photo_key: Option<Option<String>>,
    pub memo: Option<String>,
}

/// One day's weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = pet_weights)]
pub struct Weight {
    pub measured_on: NaiveDate,
    pub grams: i32,
}

fn invalid(field: &'static str, code: &'static str, message: &str) -> CommunityError {
    CommunityError::Invalid {
        field,
        code,
        message: message.to_owned(),
    }
}

/// Birthdays and adoptions are in the past, and a pet is adopted after it was born.
fn check_dates(
    birthday: Option<NaiveDate>,
    adopted_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), CommunityError> {
    if birthday.is_some_and(|day| day > today) {
        return Err(invalid("birthday", "future", "must not be in the future"));
    }
    if adopted_on.is_some_and(|day| day > today) {
        return Err(invalid("adopted_on", "future", "must not be in the future"));
    }
    if let (Some(born), Some(adopted)) = (birthday, adopted_on)
        && adopted < born
    {
        return Err(invalid(
            "adopted_on",
            "before_birthday",
            "must not be before the birthday",
        ));
    }
    Ok(())
}

/// My pets, oldest first.
pub async fn list(conn: &mut AsyncPgConnection, owner: UserId) -> Result<Vec<Pet>, CommunityError> {
    Ok(pets::table
        .filter(pets::owner_id.eq(owner))
        .order(pets::id)
        .select(Pet::as_select())
        .load(conn)
        .await?)
}

/// One of my pets (others' are not found).
pub async fn get(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: PetId,
) -> Result<Pet, CommunityError> {
    pets::table
        .find(id)
        .filter(pets::owner_id.eq(owner))
        .select(Pet::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(CommunityError::PetNotFound)
}

pub async fn create(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    owner: UserId,
    new: NewPet,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Pet, CommunityError> {
    ensure_can_write(conn, owner).await?;
    check_dates(new.birthday, new.adopted_on, today)?;
    let photo: Vec<String> = new.photo_key.iter().cloned().collect();
    let photo = upload::verify(conn, store, owner, Purpose::Pet, &photo, &[]).await?;
    conn.transaction(async |conn| {
        // The owner's row serialises concurrent additions, so the cap holds under races.
        users::table
            .find(owner)
            .select(users::id)
            .for_update()
            .first::<UserId>(conn)
            .await?;
        let count: i64 = pets::table
            .filter(pets::owner_id.eq(owner))
            .count()
            .get_result(conn)
            .await?;
        if count >= MAX_PETS {
            return Err(CommunityError::TooManyPets { max: MAX_PETS });
        }
        photo.attach(conn, now).await?;
        Ok(diesel::insert_into(pets::table)
            .values((
                pets::owner_id.eq(owner),
                pets::name.eq(new.name.trim()),
                pets::species.eq(new.species),
                pets::breed.eq(new.breed.trim()),
                pets::birthday.eq(new.birthday),
                pets::adopted_on.eq(new.adopted_on),
                pets::sex.eq(new.sex),
                pets::neutered.eq(new.neutered),
                pets::weight_grams.eq(new.weight_grams),
                pets::photo_key.eq(&new.photo_key),
                pets::memo.eq(&new.memo),
                pets::created_at.eq(now),
                pets::updated_at.eq(now),
            ))
            .returning(Pet::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    owner: UserId,
    id: PetId,
    mut changes: PetChanges,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Pet, CommunityError> {
    ensure_can_write(conn, owner).await?;
    let before = get(conn, owner, id).await?;
    check_dates(
        changes.birthday.unwrap_or(before.birthday),
        changes.adopted_on.unwrap_or(before.adopted_on),
        today,
    )?;
    let photo: Vec<String> = changes.photo_key.clone().flatten().into_iter().collect();
    let kept: Vec<String> = before.photo_key.iter().cloned().collect();
    let photo = upload::verify(conn, store, owner, Purpose::Pet, &photo, &kept).await?;
    changes.name = changes.name.map(|name| name.trim().to_owned());
    changes.breed = changes.breed.map(|breed| breed.trim().to_owned());
    conn.transaction(async |conn| {
        photo.attach(conn, now).await?;
        diesel::update(pets::table.find(id).filter(pets::owner_id.eq(owner)))
            .set((&changes, pets::updated_at.eq(now)))
            .returning(Pet::as_returning())
            .get_result(conn)
            .await
            .optional()?
            .ok_or(CommunityError::PetNotFound)
    })
    .await
}

/// Removes my pet with its growth log and diary; the diary's photos are discarded.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: PetId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    ensure_can_write(conn, owner).await?;
    conn.transaction(async |conn| {
        pets::table
            .find(id)
            .filter(pets::owner_id.eq(owner))
            .select(pets::id)
            .for_update()
            .first::<PetId>(conn)
            .await
            .optional()?
            .ok_or(CommunityError::PetNotFound)?;
        diary::discard_all(conn, owner, id, now).await?;
        diesel::delete(pets::table.find(id)).execute(conn).await?;
        Ok(())
    })
    .await
}

/// Records a pet's weight on a day (a second on the same day replaces the first). The latest
/// measurement becomes the pet's weight. Returns the entry and whether it is new.
pub async fn record_weight(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: PetId,
    entry: Weight,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(Weight, bool), CommunityError> {
    ensure_can_write(conn, owner).await?;
    if entry.measured_on > today {
        return Err(invalid(
            "measured_on",
            "future",
            "must not be in the future",
        ));
    }
    conn.transaction(async |conn| {
        let pet = pets::table
            .find(id)
            .filter(pets::owner_id.eq(owner))
            .select(pets::id)
            .for_update()
            .first::<PetId>(conn)
            .await
            .optional()?
            .ok_or(CommunityError::PetNotFound)?;
        let existed = diesel::select(diesel::dsl::exists(
            pet_weights::table.find((pet, entry.measured_on)),
        ))
        .get_result::<bool>(conn)
        .await?;
        diesel::insert_into(pet_weights::table)
            .values((
                pet_weights::pet_id.eq(pet),
                pet_weights::measured_on.eq(entry.measured_on),
                pet_weights::grams.eq(entry.grams),
                pet_weights::created_at.eq(now),
            ))
            .on_conflict((pet_weights::pet_id, pet_weights::measured_on))
            .do_update()
            .set(pet_weights::grams.eq(entry.grams))
            .execute(conn)
            .await?;
        sync_weight(conn, pet, now).await?;
        Ok((entry, !existed))
    })
    .await
}

/// The pet's weight is its latest measurement (unchanged when it has none).
async fn sync_weight(
    conn: &mut AsyncPgConnection,
    pet: PetId,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    let latest: Option<i32> = pet_weights::table
        .filter(pet_weights::pet_id.eq(pet))
        .order(pet_weights::measured_on.desc())
        .select(pet_weights::grams)
        .first(conn)
        .await
        .optional()?;
    if let Some(grams) = latest {
        diesel::update(pets::table.find(pet))
            .set((pets::weight_grams.eq(grams), pets::updated_at.eq(now)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The growth log between two days (inclusive), oldest first, for a chart.
pub async fn weights(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: PetId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<Weight>, CommunityError> {
    let pet = get(conn, owner, id).await?;
    let mut query = pet_weights::table
        .filter(pet_weights::pet_id.eq(pet.id))
        .into_boxed();
    if let Some(from) = from {
        query = query.filter(pet_weights::measured_on.ge(from));
    }
    if let Some(to) = to {
        query = query.filter(pet_weights::measured_on.le(to));
    }
    Ok(query
        .order(pet_weights::measured_on)
        .select(Weight::as_select())
        .load(conn)
        .await?)
}

pub async fn delete_weight(
    conn: &mut AsyncPgConnection,
    owner: UserId,
    id: PetId,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    ensure_can_write(conn, owner).await?;
    let pet = get(conn, owner, id).await?;
    conn.transaction(async |conn| {
        let deleted = diesel::delete(pet_weights::table.find((pet.id, day)))
            .execute(conn)
            .await?;
        if deleted == 0 {
            return Err(CommunityError::WeightNotFound);
        }
        sync_weight(conn, pet.id, now).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn pets_are_born_before_they_are_adopted_and_neither_in_the_future() {
        let today = day("2026-11-29");
        assert!(check_dates(Some(day("2020-01-01")), Some(day("2020-03-01")), today).is_ok());
        assert!(check_dates(None, None, today).is_ok());
        assert!(check_dates(Some(day("2026-11-30")), None, today).is_err());
        assert!(check_dates(None, Some(day("2026-11-30")), today).is_err());
        assert!(check_dates(Some(day("2020-03-01")), Some(day("2020-01-01")), today).is_err());
    }
}
