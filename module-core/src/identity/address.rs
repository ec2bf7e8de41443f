//! Delivery addresses: each user has any number, exactly one of them the default.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::AddressId;
use super::{IdentityError, UserId};
use crate::schema::user_addresses;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = user_addresses)]
pub struct Address {
    pub id: AddressId,
    pub label: String,
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    pub label: String,
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: String,
    pub is_default: bool,
}

/// A partial change; `None` leaves the field alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = user_addresses)]
pub struct AddressChanges {
    pub label: Option<String>,
    pub recipient: Option<String>,
    pub phone: Option<String>,
    pub zip_code: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<Address>, IdentityError> {
    Ok(user_addresses::table
        .filter(user_addresses::user_id.eq(user))
        .order((user_addresses::is_default.desc(), user_addresses::id.desc()))
        .select(Address::as_select())
        .load(conn)
        .await?)
}

async fn owned(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: AddressId,
) -> Result<Address, IdentityError> {
    user_addresses::table
        .filter(user_addresses::id.eq(id))
        .filter(user_addresses::user_id.eq(user))
        .select(Address::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(IdentityError::AddressNotFound)
}

pub async fn get(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: AddressId,
) -> Result<Address, IdentityError> {
    owned(conn, user, id).await
}

/// Delivery addresses one account may keep.
pub const MAX_PER_USER: i64 = 10;

/// Adds an address (at most [`MAX_PER_USER`]). The first one, or one marked default, becomes
/// the default.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: UserId,
    new: NewAddress,
    now: DateTime<Utc>,
) -> Result<Address, IdentityError> {
    conn.transaction(async move |conn| -> Result<_, IdentityError> {
        lock_owner(conn, user).await?;
        let count: i64 = user_addresses::table
            .filter(user_addresses::user_id.eq(user))
            .count()
            .get_result(conn)
            .await?;
        if count >= MAX_PER_USER {
            return Err(IdentityError::TooManyAddresses);
        }
        let has_default: bool = diesel::select(diesel::dsl::exists(
            user_addresses::table
                .filter(user_addresses::user_id.eq(user))
                .filter(user_addresses::is_default),
        ))
        .get_result(conn)
        .await?;
        let is_default = new.is_default || !has_default;
        if is_default {
            clear_default(conn, user, now).await?;
        }
        Ok(diesel::insert_into(user_addresses::table)
            .values((
                user_addresses::user_id.eq(user),
                user_addresses::label.eq(new.label),
                user_addresses::recipient.eq(new.recipient),
                user_addresses::phone.eq(new.phone),
                user_addresses::zip_code.eq(new.zip_code),
                user_addresses::address1.eq(new.address1),
                user_addresses::address2.eq(new.address2),
                user_addresses::is_default.eq(is_default),
                user_addresses::created_at.eq(now),
                user_addresses::updated_at.eq(now),
            ))
            .returning(Address::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Changes fields; `make_default` moves the default here (a default cannot be unset, only moved).
pub async fn update(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: AddressId,
    changes: AddressChanges,
    make_default: bool,
    now: DateTime<Utc>,
) -> Result<Address, IdentityError> {
    conn.transaction(async move |conn| -> Result<_, IdentityError> {
        lock_owner(conn, user).await?;
        owned(conn, user, id).await?;
        if make_default {
            clear_default(conn, user, now).await?;
            diesel::update(user_addresses::table.find(id))
                .set(user_addresses::is_default.eq(true))
                .execute(conn)
                .await?;
        }
        if changes != AddressChanges::default() {
            diesel::update(user_addresses::table.find(id))
                .set(&changes)
                .execute(conn)
                .await?;
        }
        diesel::update(user_addresses::table.find(id))
            .set(user_addresses::updated_at.eq(now))
            .execute(conn)
            .await?;
        owned(conn, user, id).await
    })
    .await
}

/// Deletes an address; if it was the default, the newest remaining one takes over.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    user: UserId,
    id: AddressId,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    conn.transaction(async move |conn| -> Result<_, IdentityError> {
        lock_owner(conn, user).await?;
        let address = owned(conn, user, id).await?;
        diesel::delete(user_addresses::table.find(id))
            .execute(conn)
            .await?;
        if address.is_default {
            let next: Option<AddressId> = user_addresses::table
                .filter(user_addresses::user_id.eq(user))
                .order(user_addresses::id.desc())
                .select(user_addresses::id)
                .first(conn)
                .await
                .optional()?;
            if let Some(next) = next {
                diesel::update(user_addresses::table.find(next))
                    .set((
                        user_addresses::is_default.eq(true),
                        user_addresses::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
            }
        }
        Ok(())
    })
    .await
}

/// Serialises address changes of one user, so "exactly one default" holds under concurrency.
async fn lock_owner(conn: &mut AsyncPgConnection, user: UserId) -> Result<(), IdentityError> {
    use crate::schema::users;
    users::table
        .find(user)
        .select(users::id)
        .for_update()
        .first::<i64>(conn)
        .await
        .optional()?
        .ok_or(IdentityError::UserNotFound)?;
    Ok(())
}

async fn clear_default(
    conn: &mut AsyncPgConnection,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    diesel::update(
        user_addresses::table
            .filter(user_addresses::user_id.eq(user))
            .filter(user_addresses::is_default),
    )
    .set((
        user_addresses::is_default.eq(false),
        user_addresses::updated_at.eq(now),
    ))
    .execute(conn)
    .await?;
    Ok(())
}
