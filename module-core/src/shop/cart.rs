//! The cart: lines of items, one-off or on a subscription cycle, with totals computed here.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;
use diesel::sql_types::{BigInt, Int4, Nullable, SmallInt, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::{ItemId, ShopError};
use crate::db::violates;
use crate::identity::UserId;
use crate::schema::{cart_items, items};

pub const MAX_QUANTITY: i32 = 99;
/// Lines one cart may hold (an order takes at most as many).
pub const MAX_LINES: i64 = 50;
pub const SUBSCRIPTION_PERIODS: [i16; 3] = [30, 60, 90];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartLine {
    pub id: i64,
    pub item_id: ItemId,
    pub name: String,
    pub brand: String,
    pub image_key: Option<String>,
    /// Price of one, after discount.
    pub unit_price: i64,
    pub quantity: i32,
    pub subscription_period_days: Option<i16>,
    pub line_total: i64,
    /// Whether the item can be bought now (on sale, enough stock).
    pub available: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    pub total_quantity: i64,
    pub total_price: i64,
}

type LineRow = (
    i64,
    ItemId,
    i32,
    Option<i16>,
    String,
    String,
    Vec<String>,
    i64,
    i32,
    bool,
);

pub async fn get(conn: &mut AsyncPgConnection, user: UserId) -> Result<Cart, ShopError> {
    let rows: Vec<LineRow> = cart_items::table
        .inner_join(items::table)
        .filter(cart_items::user_id.eq(user))
        .order(cart_items::id)
        .select((
            cart_items::id,
            items::id,
            cart_items::quantity,
            cart_items::subscription_period_days,
            items::name,
            items::brand,
            items::image_keys,
            items::sale_price,
            items::stock,
            items::is_active,
        ))
        .load(conn)
        .await?;
    let lines: Vec<CartLine> = rows
        .into_iter()
        .map(
            |(id, item_id, quantity, period, name, brand, images, unit_price, stock, active)| {
                CartLine {
                    id,
                    item_id,
                    name,
                    brand,
                    image_key: images.into_iter().next(),
                    unit_price,
                    quantity,
                    subscription_period_days: period,
                    line_total: unit_price * i64::from(quantity),
                    available: active && stock >= quantity,
                }
            },
        )
        .collect();
    Ok(Cart {
        total_quantity: lines.iter().map(|line| i64::from(line.quantity)).sum(),
        total_price: lines.iter().map(|line| line.line_total).sum(),
        lines,
    })
}

fn check(quantity: Option<i32>, period: Option<i16>) -> Result<(), ShopError> {
    if let Some(quantity) = quantity.filter(|q| !(1..=MAX_QUANTITY).contains(q)) {
        return Err(ShopError::Invalid {
            field: "quantity",
            code: "range",
            message: format!("must be 1 to {MAX_QUANTITY}, not {quantity}"),
        });
    }
    if let Some(period) = period.filter(|p| !SUBSCRIPTION_PERIODS.contains(p)) {
        return Err(ShopError::Invalid {
            field: "subscription_period_days",
            code: "one_of",
            message: format!("must be 30, 60 or 90, not {period}"),
        });
    }
    Ok(())
}

/// Adds an item; the same item with the same purchase kind adds to its existing line.
pub async fn add(
    conn: &mut AsyncPgConnection,
    user: UserId,
    item_id: ItemId,
    quantity: i32,
    period: Option<i16>,
    now: DateTime<Utc>,
) -> Result<Cart, ShopError> {
    check(Some(quantity), period)?;
    let on_sale: bool = diesel::select(diesel::dsl::exists(
        items::table
            .filter(items::id.eq(item_id))
            .filter(items::is_active),
    ))
    .get_result(conn)
    .await?;
    if !on_sale {
        return Err(ShopError::ItemNotFound);
    }
    // A new line only while the cart has room; an existing line just grows.
    let added = diesel::sql_query(include_str!("cart/add_line.sql"))
        .bind::<BigInt, _>(user.0)
        .bind::<BigInt, _>(item_id)
        .bind::<Int4, _>(quantity)
        .bind::<Nullable<SmallInt>, _>(period)
        .bind::<Timestamptz, _>(now)
        .bind::<Int4, _>(MAX_QUANTITY)
        .bind::<BigInt, _>(MAX_LINES)
        .execute(conn)
        .await?;
    if added == 0 {
        return Err(ShopError::CartFull);
    }
    get(conn, user).await
}

/// Changes a line's quantity and/or purchase kind (`Some(None)` makes it a one-off purchase).
pub async fn update(
    conn: &mut AsyncPgConnection,
    user: UserId,
    line: i64,
    quantity: Option<i32>,
    period: Option<Option<i16>>,
    now: DateTime<Utc>,
) -> Result<Cart, ShopError> {
    check(quantity, period.flatten())?;
    let target = cart_items::table
        .filter(cart_items::id.eq(line))
        .filter(cart_items::user_id.eq(user));
    let updated = diesel::update(target)
        .set((
            quantity.map(|quantity| cart_items::quantity.eq(quantity)),
            period.map(|period| cart_items::subscription_period_days.eq(period)),
            cart_items::updated_at.eq(now),
        ))
        .execute(conn)
        .await
        .map_err(|error| {
            if violates(
                &error,
                DatabaseErrorKind::UniqueViolation,
                "cart_items_line",
            ) {
                ShopError::Invalid {
                    field: "subscription_period_days",
                    code: "duplicate_line",
                    message: "another line already holds this item with this purchase kind".into(),
                }
            } else {
                error.into()
            }
        })?;
    if updated == 0 {
        return Err(ShopError::CartItemNotFound);
    }
    get(conn, user).await
}

pub async fn remove(
    conn: &mut AsyncPgConnection,
    user: UserId,
    line: i64,
) -> Result<Cart, ShopError> {
    let deleted = diesel::delete(
        cart_items::table
            .filter(cart_items::id.eq(line))
            .filter(cart_items::user_id.eq(user)),
    )
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(ShopError::CartItemNotFound);
    }
    get(conn, user).await
}
