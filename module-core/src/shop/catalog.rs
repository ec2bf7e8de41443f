//! Categories and items: browsing with search, sorting and keyset paging, and admin upkeep.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::ShopError;
use super::{CategoryId, ItemId};
use crate::db::{contains_pattern, violates};
use crate::identity::UserId;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;
use crate::schema::{categories, items};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = categories)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub sort_order: i32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = items)]
pub struct Item {
    pub id: ItemId,
    pub category_id: CategoryId,
    pub name: String,
    pub brand: String,
    pub description: String,
    pub price: i64,
    pub discount_rate: i16,
    pub sale_price: i64,
    pub stock: i32,
    pub image_keys: Vec<String>,
    pub review_count: i32,
    pub rating_centi: i32,
    pub sales_count: i64,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn list_categories(conn: &mut AsyncPgConnection) -> Result<Vec<Category>, ShopError> {
    Ok(categories::table
        .order((categories::sort_order, categories::id))
        .select(Category::as_select())
        .load(conn)
        .await?)
}

fn name_taken(error: diesel::result::Error) -> ShopError {
    if violates(
        &error,
        DatabaseErrorKind::UniqueViolation,
        "categories_name_key",
    ) {
        ShopError::CategoryNameTaken
    } else {
        error.into()
    }
}

pub async fn create_category(
    conn: &mut AsyncPgConnection,
    name: &str,
    sort_order: i32,
    now: DateTime<Utc>,
) -> Result<Category, ShopError> {
    diesel::insert_into(categories::table)
        .values((
            categories::name.eq(name.trim()),
            categories::sort_order.eq(sort_order),
            categories::created_at.eq(now),
        ))
        .returning(Category::as_returning())
        .get_result(conn)
        .await
        .map_err(name_taken)
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub struct CategoryChanges {
    pub name: Option<String>,
    pub sort_order: Option<i32>,
}

pub async fn update_category(
    conn: &mut AsyncPgConnection,
    id: CategoryId,
    changes: CategoryChanges,
) -> Result<Category, ShopError> {
    if changes.name.is_none() && changes.sort_order.is_none() {
        return categories::table
            .find(id)
            .select(Category::as_select())
            .first(conn)
            .await
            .optional()?
            .ok_or(ShopError::CategoryNotFound);
    }
    diesel::update(categories::table.find(id))
        .set(&changes)
        .returning(Category::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(name_taken)?
        .ok_or(ShopError::CategoryNotFound)
}

/// Deletes an empty category; one that still holds items (even retired ones) is refused.
pub async fn delete_category(
    conn: &mut AsyncPgConnection,
    id: CategoryId,
) -> Result<(), ShopError> {
    let deleted = diesel::delete(categories::table.find(id))
        .execute(conn)
        .await
        .map_err(|error| {
            if violates(
                &error,
                DatabaseErrorKind::ForeignKeyViolation,
                "items_category_id_fkey",
            ) {
                ShopError::CategoryNotEmpty
            } else {
                error.into()
            }
        })?;
    if deleted == 0 {
        Err(ShopError::CategoryNotFound)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct NewItem {
    pub category_id: CategoryId,
    pub name: String,
    pub brand: String,
    pub description: String,
    pub price: i64,
    pub discount_rate: i16,
    pub stock: i32,
    pub image_keys: Vec<String>,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = items)]
pub struct ItemChanges {
    pub category_id: Option<CategoryId>,
    pub name: Option<String>,
    pub brand: Option<String>,
    pub description: Option<String>,
    pub price: Option<i64>,
    pub discount_rate: Option<i16>,
    pub stock: Option<i32>,
    pub image_keys: Option<Vec<String>>,
    pub is_active: Option<bool>,
}

fn unknown_category(error: diesel::result::Error) -> ShopError {
    if violates(
        &error,
        DatabaseErrorKind::ForeignKeyViolation,
        "items_category_id_fkey",
    ) {
        ShopError::CategoryNotFound
    } else {
        error.into()
    }
}

/// Puts an item on sale; its images must be `admin`'s item uploads.
pub async fn create_item(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    admin: UserId,
    new: NewItem,
    now: DateTime<Utc>,
) -> Result<Item, ShopError> {
    let images = upload::verify(conn, store, admin, Purpose::Item, &new.image_keys, &[]).await?;
    conn.transaction(async |conn| {
        let item = insert_item(conn, new, now).await?;
        images.attach(conn, now).await?;
        Ok(item)
    })
    .await
}

async fn insert_item(
    conn: &mut AsyncPgConnection,
    new: NewItem,
    now: DateTime<Utc>,
) -> Result<Item, ShopError> {
    diesel::insert_into(items::table)
        .values((
            items::category_id.eq(new.category_id),
            items::name.eq(new.name.trim()),
            items::brand.eq(new.brand.trim()),
            items::description.eq(new.description),
            items::price.eq(new.price),
            items::discount_rate.eq(new.discount_rate),
            items::stock.eq(new.stock),
            items::image_keys.eq(new.image_keys),
            items::created_at.eq(now),
            items::updated_at.eq(now),
        ))
        .returning(Item::as_returning())
        .get_result(conn)
        .await
        .map_err(unknown_category)
}

/// Changes an item; new images must be `admin`'s item uploads (those it has stay).
pub async fn update_item(
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    admin: UserId,
    id: ItemId,
    changes: ItemChanges,
    now: DateTime<Utc>,
) -> Result<Item, ShopError> {
    let Some(keys) = &changes.image_keys else {
        return apply_changes(conn, id, changes, now).await;
    };
    let current: Vec<String> = items::table
        .find(id)
        .select(items::image_keys)
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::ItemNotFound)?;
    let images = upload::verify(conn, store, admin, Purpose::Item, keys, &current).await?;
    conn.transaction(async |conn| {
        let item = apply_changes(conn, id, changes, now).await?;
        images.attach(conn, now).await?;
        Ok(item)
    })
    .await
}

async fn apply_changes(
    conn: &mut AsyncPgConnection,
    id: ItemId,
    changes: ItemChanges,
    now: DateTime<Utc>,
) -> Result<Item, ShopError> {
    diesel::update(items::table.find(id))
        .set((&changes, items::updated_at.eq(now)))
        .returning(Item::as_returning())
        .get_result(conn)
        .await
        .optional()
        .map_err(unknown_category)?
        .ok_or(ShopError::ItemNotFound)
}

/// Takes an item off sale; it stays for the orders and reviews that refer to it.
pub async fn retire_item(
    conn: &mut AsyncPgConnection,
    id: ItemId,
    now: DateTime<Utc>,
) -> Result<(), ShopError> {
    apply_changes(
        conn,
        id,
        ItemChanges {
            is_active: Some(false),
            ..ItemChanges::default()
        },
        now,
    )
    .await
    .map(|_| ())
}

/// An item on sale (retired ones only when `include_retired`, for admins).
pub async fn get_item(
    conn: &mut AsyncPgConnection,
    id: ItemId,
    include_retired: bool,
) -> Result<Item, ShopError> {
    let mut query = items::table
        .filter(items::id.eq(id))
        .select(Item::as_select())
        .into_boxed();
    if !include_retired {
        query = query.filter(items::is_active);
    }
    query
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::ItemNotFound)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ItemSort {
    /// Best sellers first.
    Sales,
    PriceAsc,
    PriceDesc,
    /// Best rated first.
    Rating,
    #[default]
    Newest,
}

impl ItemSort {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "sales" => Some(Self::Sales),
            "price_asc" => Some(Self::PriceAsc),
            "price_desc" => Some(Self::PriceDesc),
            "rating" => Some(Self::Rating),
            "newest" => Some(Self::Newest),
            _ => None,
        }
    }

    /// The sort key of an item; with the id it makes the keyset cursor.
    fn key(self, item: &Item) -> i64 {
        match self {
            Self::Sales => item.sales_count,
            Self::PriceAsc | Self::PriceDesc => item.sale_price,
            Self::Rating => i64::from(item.rating_centi),
            Self::Newest => item.id.0,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// `Some(true)`: on sale only (the public catalog); `Some(false)`: retired only; `None`:
    /// both (an admin's view).
    pub on_sale: Option<bool>,
    pub category_id: Option<CategoryId>,
    /// Part of the name or brand, case-insensitive.
    pub query: Option<String>,
    pub sort: ItemSort,
    pub cursor: Option<String>,
}

/// A cursor is `key:id` of the last item of the previous page.
pub fn cursor_of(sort: ItemSort, item: &Item) -> String {
    format!("{}:{}", sort.key(item), item.id)
}

fn parse_cursor(cursor: &str) -> Result<(i64, i64), ShopError> {
    let (key, id) = cursor.split_once(':').ok_or(ShopError::InvalidCursor)?;
    Ok((
        key.parse().map_err(|_| ShopError::InvalidCursor)?,
        id.parse().map_err(|_| ShopError::InvalidCursor)?,
    ))
}

/// Items, in the requested order, `limit` at most.
pub async fn list_items(
    conn: &mut AsyncPgConnection,
    filter: &ItemFilter,
    limit: i64,
) -> Result<Vec<Item>, ShopError> {
    let mut query = items::table.select(Item::as_select()).into_boxed();
    if let Some(on_sale) = filter.on_sale {
        query = query.filter(items::is_active.eq(on_sale));
    }
    if let Some(category) = filter.category_id {
        query = query.filter(items::category_id.eq(category));
    }
    if let Some(text) = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    {
        let pattern = contains_pattern(text);
        query = query.filter(
            items::name
                .ilike(pattern.clone())
                .or(items::brand.ilike(pattern)),
        );
    }
    let after = filter.cursor.as_deref().map(parse_cursor).transpose()?;
    query = match filter.sort {
        ItemSort::Newest => {
            if let Some((_, id)) = after {
                query = query.filter(items::id.lt(id));
            }
            query.order(items::id.desc())
        }
        ItemSort::Sales => {
            if let Some((key, id)) = after {
                query = query.filter(
                    items::sales_count
                        .lt(key)
                        .or(items::sales_count.eq(key).and(items::id.lt(id))),
                );
            }
            query.order((items::sales_count.desc(), items::id.desc()))
        }
        ItemSort::PriceAsc => {
            if let Some((key, id)) = after {
                query = query.filter(
                    items::sale_price
                        .gt(key)
                        .or(items::sale_price.eq(key).and(items::id.gt(id))),
                );
            }
            query.order((items::sale_price.asc(), items::id.asc()))
        }
        ItemSort::PriceDesc => {
            if let Some((key, id)) = after {
                query = query.filter(
                    items::sale_price
                        .lt(key)
                        .or(items::sale_price.eq(key).and(items::id.lt(id))),
                );
            }
            query.order((items::sale_price.desc(), items::id.desc()))
        }
        ItemSort::Rating => {
            if let Some((key, id)) = after {
                let key = i32::try_from(key).map_err(|_| ShopError::InvalidCursor)?;
                query = query.filter(
                    items::rating_centi
                        .lt(key)
                        .or(items::rating_centi.eq(key).and(items::id.lt(id))),
                );
            }
            query.order((items::rating_centi.desc(), items::id.desc()))
        }
    };
    Ok(query.limit(limit).load(conn).await?)
}
