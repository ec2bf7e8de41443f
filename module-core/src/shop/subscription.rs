//! Subscriptions: recurring deliveries of an item, charged with the gateway's `sid`.
//!
//! Cycles are anchored on the first payment's business date: billing dates are
//! `anchor + k·period`. A user may move the next date or skip a cycle; after that charge the
//! schedule falls back onto the anchored dates.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::cart::MAX_QUANTITY;
use super::order::DeliveryAddress;
use super::{ItemId, OrderId, ShopError, SubscriptionId};
use crate::db::DbError;
use crate::identity::{AddressId, UserId};
use crate::schema::{items, order_lines, subscription_charges, subscriptions, user_addresses};

/// Outbox event: stop charging an `sid` at the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InactivationRequested {
    pub sid: String,
}

impl crate::platform::outbox::Payload for InactivationRequested {
    const KIND: &'static str = "SUBSCRIPTION_INACTIVATE_REQUESTED";
}

pub const PERIODS: [i16; 3] = [30, 60, 90];
/// How far ahead a user may move the next billing date.
pub const MAX_POSTPONE_DAYS: i64 = 180;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub user_id: UserId,
    pub item_id: ItemId,
    pub first_order_id: OrderId,
    pub quantity: i32,
    pub period_days: i16,
    pub status: SubscriptionStatus,
    pub sid: String,
    pub anchor_date: NaiveDate,
    pub next_billing_date: NaiveDate,
    pub last_cycle_date: NaiveDate,
    pub failed_attempts: i16,
    pub retry_at: Option<DateTime<Utc>>,
    pub last_failure: Option<String>,
    pub last_charged_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub cancel_reason: Option<CancelReason>,
    pub created_at: DateTime<Utc>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The address-book entry renewals go to, while it exists (`None`: the first order's
    /// address, or the entry was removed; the copied address stays).
    pub address_id: Option<AddressId>,
}

/// The latest charge of a subscription's renewals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = subscription_charges)]
pub struct Charge {
    pub id: i64,
    pub cycle_date: NaiveDate,
    pub amount: i64,
    pub status: ChargeStatus,
    pub attempts: i16,
    pub order_id: Option<OrderId>,
    pub last_error: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubscriptionView {
    pub subscription: Subscription,
    pub item_name: String,
    pub last_charge: Option<Charge>,
    /// Where the next renewal goes.
    pub delivery: DeliveryAddress,
}

#[derive(QueryableByName)]
struct DeliveryRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: SubscriptionId,
    #[diesel(sql_type = diesel::sql_types::Text)]
    recipient: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    phone: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    zip_code: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    address1: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    address2: String,
}

/// Where each subscription's next renewal goes: the address its subscriber chose, or where its
/// first order went (as `create_renewal_orders.sql` reads them).
async fn deliveries(
    conn: &mut AsyncPgConnection,
    ids: &[SubscriptionId],
) -> Result<std::collections::HashMap<SubscriptionId, DeliveryAddress>, ShopError> {
    let rows: Vec<DeliveryRow> = diesel::sql_query(
        "SELECT s.id, COALESCE(s.recipient, o.recipient) AS recipient,
                COALESCE(s.phone, o.phone) AS phone, COALESCE(s.zip_code, o.zip_code) AS zip_code,
                COALESCE(s.address1, o.address1) AS address1,
                COALESCE(s.address2, o.address2) AS address2
           FROM subscriptions s JOIN orders o ON o.id = s.first_order_id
          WHERE s.id = ANY($1)",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            (
                row.id,
                DeliveryAddress {
                    recipient: row.recipient,
                    phone: row.phone,
                    zip_code: row.zip_code,
                    address1: row.address1,
                    address2: row.address2,
                },
            )
        })
        .collect())
}

/// The first anchored billing date (`anchor + k·period`, k ≥ 1) after `after`.
pub fn next_cycle_after(anchor: NaiveDate, period_days: i16, after: NaiveDate) -> NaiveDate {
    let period = i64::from(period_days.max(1));
    let elapsed = (after - anchor).num_days().max(0);
    anchor + TimeDelta::days(period * (elapsed / period + 1))
}

/// Creates one subscription per subscription line of a just-paid order (call it inside the
/// approval's transaction). The first cycle is the order itself; the next is one period later.
/// `sid_approved_at` is the gateway's time of that approval.
pub async fn create_for_order(
    conn: &mut AsyncPgConnection,
    order_id: OrderId,
    user_id: UserId,
    sid: &str,
    sid_approved_at: Option<DateTime<Utc>>,
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
                subscriptions::last_cycle_date.eq(paid_on),
                subscriptions::next_billing_date.eq(next_cycle_after(paid_on, period, paid_on)),
                subscriptions::sid_approved_at.eq(sid_approved_at),
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

async fn last_charges(
    conn: &mut AsyncPgConnection,
    ids: &[SubscriptionId],
) -> Result<Vec<(SubscriptionId, Charge)>, ShopError> {
    Ok(subscription_charges::table
        .filter(subscription_charges::subscription_id.eq_any(ids))
        .distinct_on(subscription_charges::subscription_id)
        .order((
            subscription_charges::subscription_id,
            subscription_charges::cycle_date.desc(),
        ))
        .select((subscription_charges::subscription_id, Charge::as_select()))
        .load(conn)
        .await?)
}

/// Which subscriptions a list shows; every part is optional (an admin's view), a user's own
/// list sets `user`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionFilter {
    pub user: Option<UserId>,
    pub status: Option<SubscriptionStatus>,
    /// Next billing date on or after this day.
    pub billing_from: Option<NaiveDate>,
    /// Next billing date on or before this day.
    pub billing_to: Option<NaiveDate>,
    /// Ids below this one (the cursor).
    pub before: Option<SubscriptionId>,
}

/// Subscriptions, newest first, `limit` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: SubscriptionFilter,
    limit: i64,
) -> Result<Vec<SubscriptionView>, ShopError> {
    let mut query = subscriptions::table
        .inner_join(items::table)
        .select((Subscription::as_select(), items::name))
        .into_boxed();
    if let Some(user) = filter.user {
        query = query.filter(subscriptions::user_id.eq(user));
    }
    if let Some(status) = filter.status {
        query = query.filter(subscriptions::status.eq(status));
    }
    if let Some(from) = filter.billing_from {
        query = query.filter(subscriptions::next_billing_date.ge(from));
    }
    if let Some(to) = filter.billing_to {
        query = query.filter(subscriptions::next_billing_date.le(to));
    }
    if let Some(before) = filter.before {
        query = query.filter(subscriptions::id.lt(before));
    }
    let rows: Vec<(Subscription, String)> = query
        .order(subscriptions::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    let ids: Vec<SubscriptionId> = rows.iter().map(|(s, _)| s.id).collect();
    let mut charges: std::collections::HashMap<SubscriptionId, Charge> =
        last_charges(conn, &ids).await?.into_iter().collect();
    let mut deliveries = deliveries(conn, &ids).await?;
    rows.into_iter()
        .map(|(subscription, item_name)| {
            Ok(SubscriptionView {
                last_charge: charges.remove(&subscription.id),
                delivery: deliveries
                    .remove(&subscription.id)
                    .ok_or(ShopError::SubscriptionNotFound)?,
                subscription,
                item_name,
            })
        })
        .collect()
}

/// Every charge of a subscription's renewals, newest cycle first (an admin's detail view).
pub async fn charges(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
) -> Result<Vec<Charge>, ShopError> {
    Ok(subscription_charges::table
        .filter(subscription_charges::subscription_id.eq(id))
        .order(subscription_charges::cycle_date.desc())
        .select(Charge::as_select())
        .load(conn)
        .await?)
}

/// One subscription: its owner's, or any for an admin (`owner: None`).
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
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
    if owner.is_some_and(|user| user != subscription.user_id) {
        return Err(ShopError::SubscriptionNotFound);
    }
    let last_charge = last_charges(conn, &[id])
        .await?
        .into_iter()
        .next()
        .map(|(_, charge)| charge);
    let delivery = deliveries(conn, &[id])
        .await?
        .remove(&id)
        .ok_or(ShopError::SubscriptionNotFound)?;
    Ok(SubscriptionView {
        subscription,
        item_name,
        last_charge,
        delivery,
    })
}

/// What a subscriber may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    pub period_days: Option<i16>,
    pub next_billing_date: Option<NaiveDate>,
    /// Units per renewal, 1 to [`MAX_QUANTITY`]; a charge already claimed keeps its own.
    pub quantity: Option<i32>,
    /// One of the subscriber's delivery addresses: copied, and used from the next renewal on.
    pub address_id: Option<AddressId>,
}

/// Copies one of the subscriber's addresses onto the subscription; another's is "not found".
async fn deliver_to(
    conn: &mut AsyncPgConnection,
    subscription: &Subscription,
    address_id: AddressId,
    now: DateTime<Utc>,
) -> Result<(), ShopError> {
    let (recipient, phone, zip_code, address1, address2): (String, String, String, String, String) =
        user_addresses::table
            .filter(user_addresses::id.eq(address_id))
            .filter(user_addresses::user_id.eq(subscription.user_id))
            .select((
                user_addresses::recipient,
                user_addresses::phone,
                user_addresses::zip_code,
                user_addresses::address1,
                user_addresses::address2,
            ))
            .first(conn)
            .await
            .optional()?
            .ok_or(ShopError::AddressNotFound)?;
    diesel::update(subscriptions::table.find(subscription.id))
        .set((
            subscriptions::address_id.eq(address_id),
            subscriptions::recipient.eq(recipient),
            subscriptions::phone.eq(phone),
            subscriptions::zip_code.eq(zip_code),
            subscriptions::address1.eq(address1),
            subscriptions::address2.eq(address2),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the subscription for a change by its owner (or an admin) and checks it is not cancelled.
async fn lock_live(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
) -> Result<Subscription, ShopError> {
    let subscription: Subscription = subscriptions::table
        .find(id)
        .for_update()
        .select(Subscription::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::SubscriptionNotFound)?;
    if owner.is_some_and(|user| user != subscription.user_id) {
        return Err(ShopError::SubscriptionNotFound);
    }
    if subscription.status == SubscriptionStatus::Canceled {
        return Err(ShopError::SubscriptionCanceled);
    }
    Ok(subscription)
}

/// A new billing date ends the current retry ladder: the next charge starts afresh.
async fn reschedule(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    period_days: i16,
    next_billing_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), ShopError> {
    diesel::update(subscriptions::table.find(id))
        .set((
            subscriptions::period_days.eq(period_days),
            subscriptions::next_billing_date.eq(next_billing_date),
            subscriptions::failed_attempts.eq(0),
            subscriptions::retry_at.eq(None::<DateTime<Utc>>),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Changes the period (the next date moves to the first anchored date of the new period), the
/// next billing date (after today, at most [`MAX_POSTPONE_DAYS`] ahead), the quantity and the
/// delivery address of the renewals, any of them.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
    change: Change,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, ShopError> {
    if let Some(period) = change.period_days
        && !PERIODS.contains(&period)
    {
        return Err(ShopError::Invalid {
            field: "period_days",
            code: "period",
            message: "must be 30, 60 or 90".into(),
        });
    }
    if let Some(quantity) = change.quantity
        && !(1..=MAX_QUANTITY).contains(&quantity)
    {
        return Err(ShopError::Invalid {
            field: "quantity",
            code: "range",
            message: format!("must be 1 to {MAX_QUANTITY}"),
        });
    }
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        let subscription = lock_live(conn, id, owner).await?;
        if let Some(address_id) = change.address_id {
            deliver_to(conn, &subscription, address_id, now).await?;
        }
        if let Some(quantity) = change.quantity {
            diesel::update(subscriptions::table.find(id))
                .set((
                    subscriptions::quantity.eq(quantity),
                    subscriptions::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
        }
        if change.period_days.is_none() && change.next_billing_date.is_none() {
            return Ok(());
        }
        let period = change.period_days.unwrap_or(subscription.period_days);
        let mut next = subscription.next_billing_date;
        if period != subscription.period_days {
            let from = today.max(subscription.last_cycle_date);
            next = next_cycle_after(subscription.anchor_date, period, from);
        }
        if let Some(date) = change.next_billing_date {
            if date <= today.max(subscription.last_cycle_date)
                || date > today + TimeDelta::days(MAX_POSTPONE_DAYS)
            {
                return Err(ShopError::Invalid {
                    field: "next_billing_date",
                    code: "date_range",
                    message: format!(
                        "must be after {} and at most {MAX_POSTPONE_DAYS} days ahead",
                        today.max(subscription.last_cycle_date)
                    ),
                });
            }
            next = date;
        }
        reschedule(conn, id, period, next, now).await
    })
    .await?;
    get(conn, id, owner).await
}

/// Skips the next cycle: the next billing date moves to the anchored date after it.
pub async fn skip(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, ShopError> {
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        let s = lock_live(conn, id, owner).await?;
        let next = next_cycle_after(s.anchor_date, s.period_days, s.next_billing_date);
        reschedule(conn, id, s.period_days, next, now).await
    })
    .await?;
    get(conn, id, owner).await
}

/// Stops billing until resumed (pausing a paused subscription changes nothing).
pub async fn pause(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, ShopError> {
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        let s = lock_live(conn, id, owner).await?;
        if s.status == SubscriptionStatus::Active {
            diesel::update(subscriptions::table.find(id))
                .set((
                    subscriptions::status.eq(SubscriptionStatus::Paused),
                    subscriptions::paused_at.eq(now),
                    subscriptions::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
        }
        Ok(())
    })
    .await?;
    get(conn, id, owner).await
}

/// Billing again; a billing date that passed while paused moves to the next anchored date.
pub async fn resume(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, ShopError> {
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        let s = lock_live(conn, id, owner).await?;
        if s.status == SubscriptionStatus::Paused {
            let next = if s.next_billing_date <= today {
                next_cycle_after(s.anchor_date, s.period_days, today.max(s.last_cycle_date))
            } else {
                s.next_billing_date
            };
            diesel::update(subscriptions::table.find(id))
                .set((
                    subscriptions::status.eq(SubscriptionStatus::Active),
                    subscriptions::paused_at.eq(None::<DateTime<Utc>>),
                    subscriptions::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            reschedule(conn, id, s.period_days, next, now).await?;
        }
        Ok(())
    })
    .await?;
    get(conn, id, owner).await
}

crate::text_enum! {
    /// Why a subscription ended (`subscriptions.cancel_reason`).
    pub enum CancelReason {
        User = "USER",
        PaymentFailed = "PAYMENT_FAILED",
        SubscriptionInvalid = "SUBSCRIPTION_INVALID",
        /// The subscriber withdrew, or the account was deleted.
        AccountClosed = "ACCOUNT_CLOSED",
        /// The order that started it was cancelled and refunded.
        OrderRefunded = "ORDER_REFUNDED",
    }
}

crate::text_enum! {
    /// Where one cycle's charge stands (`subscription_charges.status`).
    pub enum ChargeStatus {
        /// Sent or about to be; its outcome is unknown until resolved.
        InFlight = "IN_FLIGHT",
        /// Failed; tried again at the subscription's `retry_at`.
        Retry = "RETRY",
        Approved = "APPROVED",
        /// The retry ladder ended: the subscription was cancelled.
        GaveUp = "GAVE_UP",
    }
}

crate::text_enum! {
    /// How an approved charge's outcome became known (`subscription_charges.resolved_by`).
    pub enum ChargeResolution {
        /// The gateway's answer.
        Answer = "ANSWER",
        /// A lookup of the `sid` after the answer was lost.
        SidStatus = "SID_STATUS",
    }
}

crate::text_enum! {
    /// Whether a subscription bills (`subscriptions.status`).
    pub enum SubscriptionStatus {
        Active = "ACTIVE",
        Paused = "PAUSED",
        Canceled = "CANCELED",
    }
}

/// Which live subscriptions to end together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every one of a user's (their account closes).
    User(UserId),
    /// Those a paid order started (it is refunded).
    FirstOrder(OrderId),
}

/// Ends every live subscription in `scope` inside the caller's transaction, inactivating their
/// `sid`s through the outbox as [`cancel`] does. Returns how many ended.
pub async fn end_all(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    reason: CancelReason,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    // A locking query cannot be boxed: the scope picks one column, the other compares to NULL.
    let (user_id, first_order_id) = match scope {
        Scope::User(user) => (Some(user), None),
        Scope::FirstOrder(order_id) => (None, Some(order_id)),
    };
    let live: Vec<Subscription> = subscriptions::table
        .filter(subscriptions::status.ne(SubscriptionStatus::Canceled))
        .filter(BoolExpressionMethods::or(
            subscriptions::user_id.nullable().eq(user_id),
            subscriptions::first_order_id.nullable().eq(first_order_id),
        ))
        .order(subscriptions::id)
        .for_update()
        .select(Subscription::as_select())
        .load(conn)
        .await?;
    for subscription in &live {
        end(conn, subscription, reason, now).await?;
    }
    if !live.is_empty() {
        tracing::info!(
            ?scope,
            reason = reason.as_str(),
            ended = live.len(),
            "subscriptions ended"
        );
    }
    Ok(live.len())
}

/// Cancels a subscription (cancelling a cancelled one changes nothing). Its `sid` is
/// inactivated at the gateway through the outbox once no other live subscription shares it.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    id: SubscriptionId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<SubscriptionView, ShopError> {
    conn.transaction(async move |conn| -> Result<(), ShopError> {
        match lock_live(conn, id, owner).await {
            Ok(s) => Ok(end(conn, &s, CancelReason::User, now).await?),
            Err(ShopError::SubscriptionCanceled) => Ok(()),
            Err(error) => Err(error),
        }
    })
    .await?;
    get(conn, id, owner).await
}

/// Ends a subscription inside the caller's transaction.
pub(crate) async fn end(
    conn: &mut AsyncPgConnection,
    subscription: &Subscription,
    reason: CancelReason,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(subscriptions::table.find(subscription.id))
        .set((
            subscriptions::status.eq(SubscriptionStatus::Canceled),
            subscriptions::canceled_at.eq(now),
            subscriptions::cancel_reason.eq(reason),
            subscriptions::paused_at.eq(None::<DateTime<Utc>>),
            subscriptions::retry_at.eq(None::<DateTime<Utc>>),
            subscriptions::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    let siblings_live: i64 = subscriptions::table
        .filter(subscriptions::sid.eq(&subscription.sid))
        .filter(subscriptions::status.ne(SubscriptionStatus::Canceled))
        .count()
        .get_result(conn)
        .await?;
    // An invalid sid cannot be charged anyway; the gateway would refuse its inactivation too.
    if siblings_live == 0 && reason != CancelReason::SubscriptionInvalid {
        request_inactivation(conn, &subscription.sid, now).await?;
    }
    Ok(())
}

async fn request_inactivation(
    conn: &mut AsyncPgConnection,
    sid: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    crate::platform::outbox::record(
        conn,
        &InactivationRequested {
            sid: sid.to_owned(),
        },
        now,
    )
    .await?;
    Ok(())
}

/// When an account closes, its subscriptions end with it (reason `ACCOUNT_CLOSED`), their
/// `sid`s inactivated through the outbox: the shop's part of [`AccountClosing`].
///
/// [`AccountClosing`]: crate::identity::closing::AccountClosing
pub struct EndSubscriptions;

#[async_trait::async_trait]
impl crate::identity::closing::AccountClosing for EndSubscriptions {
    async fn account_closed(
        &self,
        conn: &mut AsyncPgConnection,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), DbError> {
        end_all(conn, Scope::User(user), CancelReason::AccountClosed, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn cycles_stay_on_the_anchor() {
        let anchor = date("2026-01-10");
        assert_eq!(next_cycle_after(anchor, 30, anchor), date("2026-02-09"));
        assert_eq!(
            next_cycle_after(anchor, 30, date("2026-02-08")),
            date("2026-02-09")
        );
        // On a billing date, the next one is a full period later.
        assert_eq!(
            next_cycle_after(anchor, 30, date("2026-02-09")),
            date("2026-03-11")
        );
        // A moved date (say the 20th) falls back onto the anchored schedule.
        assert_eq!(
            next_cycle_after(anchor, 30, date("2026-02-20")),
            date("2026-03-11")
        );
        assert_eq!(
            next_cycle_after(anchor, 60, date("2026-02-20")),
            date("2026-03-11")
        );
        assert_eq!(
            next_cycle_after(anchor, 90, anchor - TimeDelta::days(5)),
            date("2026-04-10")
        );
    }
}
