//! Subscriptions: recurring deliveries of an item, charged with the gateway's `sid`.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::ShopError;
use crate::identity::UserId;
use crate::schema::{items, order_lines, subscriptions};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: i64,
    pub user_id: i64,
    pub item_id: i64,
    pub first_order_id: i64,
    pub quantity: i32,
    pub period_days: i16,
    pub status: String,
    pub anchor_date: NaiveDate,
    pub next_billing_date: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub canceled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionView {
    pub subscription: Subscription,
    pub item_name: String,
}

/// Creates one subscription per subscription line of a just-paid order (call it inside the
/// approval's transaction). The first cycle is the order itself; the next is one period later.
pub async fn create_for_order(
    conn: &mut AsyncPgConnection,
    order_id: i64,
    user_id: i64,
    sid: &str,
    paid_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<usize, ShopError> {
    let lines: Vec<(i64, i32, Option<i16>)> = order_lines::table
        .filter(order_lines::order_id.eq(order_id))
        .filter(order_lines::subscription_period_days.is_not_null())
        .select((
            order_lines::item_id,
            order_lines::quantity,
            order_lines::subscription_period_days,
        ))
        .load(conn)
        .await?;
    let rows: Vec<_> = lines
        .into_iter()
        .filter_map(|(item_id, quantity, period)| period.map(|period| (item_id, quantity, period)))
        .map(|(item_id, quantity, period)| {
            (
                subscriptions::user_id.eq(user_id),
                subscriptions::item_id.eq(item_id),
                subscriptions::first_order_id.eq(order_id),
                subscriptions::quantity.eq(quantity),
                subscriptions::period_days.eq(period),
                subscriptions::sid.eq(sid.to_owned()),
                subscriptions::anchor_date.eq(paid_on),
                subscriptions::next_billing_date.eq(paid_on + TimeDelta::days(i64::from(period))),
                subscriptions::created_at.eq(now),
                subscriptions::updated_at.eq(now),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(subscriptions::table)
        .values(rows)
        .on_conflict_do_nothing()
        .execute(conn)
        .await?)
}

/// A user's subscriptions, newest first.
pub async fn list(
    conn: &mut AsyncPgConnection,
    user: UserId,
) -> Result<Vec<SubscriptionView>, ShopError> {
    let rows: Vec<(Subscription, String)> = subscriptions::table
        .inner_join(items::table)
        .filter(subscriptions::user_id.eq(user.0))
        .order(subscriptions::id.desc())
        .select((Subscription::as_select(), items::name))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(subscription, item_name)| SubscriptionView {
            subscription,
            item_name,
        })
        .collect())
}

/// One subscription: its owner's, or any for an admin (`owner: None`).
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: i64,
    owner: Option<UserId>,
) -> Result<SubscriptionView, ShopError> {
    let (subscription, item_name): (Subscription, String) = subscriptions::table
        .inner_join(items::table)
        .filter(subscriptions::id.eq(id))
        .select((Subscription::as_select(), items::name))
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::SubscriptionNotFound)?;
    if owner.is_some_and(|user| user.0 != subscription.user_id) {
        return Err(ShopError::SubscriptionNotFound);
    }
    Ok(SubscriptionView {
        subscription,
        item_name,
    })
}
