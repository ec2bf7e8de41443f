//! Orders: placing one reserves stock atomically; an unpaid order gives it back when cancelled
//! or when its payment window closes.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::cart::{MAX_QUANTITY, SUBSCRIPTION_PERIODS};
use super::payment::{self, PaymentStatus};
use super::subscription;
use super::{ItemId, OrderId, ShopError, SubscriptionId};
use crate::db::DbError;
use crate::identity::{AddressId, UserId};
use crate::notification::{self, NewNotification, Notice};
use crate::schema::{
    cart_items, couriers, items, order_lines, orders, payments, user_addresses, users,
};

crate::text_enum! {
    /// An order's progress (`orders.status`).
    pub enum OrderStatus {
        PendingPayment = "PENDING_PAYMENT",
        Paid = "PAID",
        Shipping = "SHIPPING",
        Delivered = "DELIVERED",
        Canceled = "CANCELED",
        Refunded = "REFUNDED",
    }
}

impl OrderStatus {
    /// The delivery steps an admin may take: a paid order ships, a shipped one is delivered.
    pub fn delivery_step_allowed(self, to: Self) -> bool {
        matches!(
            (self, to),
            (Self::Paid, Self::Shipping) | (Self::Shipping, Self::Delivered)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = order_lines)]
pub struct OrderLine {
    pub id: i64,
    pub item_id: ItemId,
    pub item_name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub subscription_period_days: Option<i16>,
    pub line_total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = orders)]
struct OrderRow {
    id: OrderId,
    user_id: UserId,
    status: OrderStatus,
    total_price: i64,
    recipient: String,
    phone: String,
    zip_code: String,
    address1: String,
    address2: String,
    payment_expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    paid_at: Option<DateTime<Utc>>,
    canceled_at: Option<DateTime<Utc>>,
    subscription_id: Option<SubscriptionId>,
    courier: Option<String>,
    tracking_number: Option<String>,
    shipped_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    delivered_by: Option<super::shipment::DeliveredBy>,
}

/// An order's row with its courier's name and tracking page template, when shipped with one.
type OrderRowWithCourier = (OrderRow, Option<(String, String)>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryAddress {
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: String,
}

/// The order's payment as the gateway last confirmed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentSummary {
    pub status: PaymentStatus,
    pub amount: i64,
    pub approved_at: Option<DateTime<Utc>>,
    pub refund_requested_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payments)]
struct PaymentRow {
    order_id: OrderId,
    status: PaymentStatus,
    amount: i64,
    approved_at: Option<DateTime<Utc>>,
    refund_requested_at: Option<DateTime<Utc>>,
    refunded_at: Option<DateTime<Utc>>,
}

impl From<PaymentRow> for PaymentSummary {
    fn from(row: PaymentRow) -> Self {
        Self {
            status: row.status,
            amount: row.amount,
            approved_at: row.approved_at,
            refund_requested_at: row.refund_requested_at,
            refunded_at: row.refunded_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub status: OrderStatus,
    pub total_price: i64,
    pub lines: Vec<OrderLine>,
    pub delivery: DeliveryAddress,
    /// `None` until payment was started.
    pub payment: Option<PaymentSummary>,
    pub payment_expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub canceled_at: Option<DateTime<Utc>>,
    /// The subscription a renewal order belongs to.
    pub subscription_id: Option<SubscriptionId>,
    /// The parcel, once shipped with a courier.
    pub shipment: Option<super::shipment::Shipment>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub delivered_by: Option<super::shipment::DeliveredBy>,
}

fn assemble(
    (row, courier): OrderRowWithCourier,
    lines: Vec<OrderLine>,
    payment: Option<PaymentSummary>,
) -> Order {
    let shipment = match (row.courier, row.tracking_number, courier) {
        (Some(code), Some(tracking_number), Some((name, template))) => Some(
            super::shipment::Shipment::new(code, name, &template, tracking_number),
        ),
        _ => None,
    };
    Order {
        shipment,
        shipped_at: row.shipped_at,
        delivered_at: row.delivered_at,
        delivered_by: row.delivered_by,
        id: row.id,
        user_id: row.user_id,
        status: row.status,
        total_price: row.total_price,
        lines,
        delivery: DeliveryAddress {
            recipient: row.recipient,
            phone: row.phone,
            zip_code: row.zip_code,
            address1: row.address1,
            address2: row.address2,
        },
        payment,
        payment_expires_at: row.payment_expires_at,
        created_at: row.created_at,
        paid_at: row.paid_at,
        canceled_at: row.canceled_at,
        subscription_id: row.subscription_id,
    }
}

/// What to buy: explicit lines, or lines of the buyer's cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSource {
    Direct(Vec<RequestedLine>),
    Cart(Vec<i64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestedLine {
    pub item_id: ItemId,
    pub quantity: i32,
    pub subscription_period_days: Option<i16>,
}

pub const MAX_LINES: usize = 50;
/// Orders one buyer may leave unpaid at once: unpaid orders hold stock.
pub const MAX_UNPAID_ORDERS: i64 = 5;
/// Units one buyer may hold in unpaid orders at once.
pub const MAX_UNPAID_UNITS: i64 = 200;

/// Places an order in `PENDING_PAYMENT`, reserving stock for every line or none. A buyer may
/// hold at most [`MAX_UNPAID_ORDERS`] unpaid orders and [`MAX_UNPAID_UNITS`] units in them, so
/// that nobody keeps stock from others by never paying.
pub async fn place(
    conn: &mut AsyncPgConnection,
    user: UserId,
    source: OrderSource,
    address_id: AddressId,
    payment_window: TimeDelta,
    now: DateTime<Utc>,
) -> Result<Order, ShopError> {
    conn.transaction(async move |conn| -> Result<Order, ShopError> {
        let (requested, cart_lines) = resolve(conn, user, source).await?;
        // The buyer's row is locked so that concurrent orders of one buyer count one by one.
        let (phone, verified): (Option<String>, Option<DateTime<Utc>>) = users::table
            .find(user)
            .select((users::phone, users::email_verified_at))
            .for_update()
            .first(conn)
            .await?;
        if verified.is_none() {
            return Err(crate::identity::EmailNotVerified.into());
        }
        let unpaid = orders::table
            .filter(orders::user_id.eq(user))
            .filter(orders::status.eq(OrderStatus::PendingPayment));
        let unpaid_orders: i64 = unpaid.count().get_result(conn).await?;
        let unpaid_units: Option<i64> = order_lines::table
            .filter(order_lines::order_id.eq_any(unpaid.select(orders::id)))
            .select(diesel::dsl::sum(order_lines::quantity))
            .first(conn)
            .await?;
        let wanted: i64 = requested.iter().map(|line| i64::from(line.quantity)).sum();
        if unpaid_orders >= MAX_UNPAID_ORDERS
            || unpaid_units.unwrap_or(0) + wanted > MAX_UNPAID_UNITS
        {
            return Err(ShopError::TooManyUnpaidOrders);
        }
        if phone.is_none() {
            return Err(ShopError::ProfileIncomplete);
        }
        let address = user_addresses::table
            .filter(user_addresses::id.eq(address_id))
            .filter(user_addresses::user_id.eq(user))
            .select((
                user_addresses::recipient,
                user_addresses::phone,
                user_addresses::zip_code,
                user_addresses::address1,
                user_addresses::address2,
            ))
            .first::<(String, String, String, String, String)>(conn)
            .await
            .optional()?
            .ok_or(ShopError::AddressNotFound)?;

        // Reserve item by item in id order, so concurrent orders lock rows in one order and
        // cannot deadlock; the conditional update is what makes overselling impossible.
        let mut priced = Vec::with_capacity(requested.len());
        let mut needed: BTreeMap<ItemId, i32> = BTreeMap::new();
        for line in &requested {
            *needed.entry(line.item_id).or_default() += line.quantity;
        }
        let mut facts: BTreeMap<ItemId, (String, i64)> = BTreeMap::new();
        for (item_id, quantity) in needed {
            let reserved: Option<(String, i64)> = diesel::update(
                items::table
                    .filter(items::id.eq(item_id))
                    .filter(items::is_active)
                    .filter(items::stock.ge(quantity)),
            )
            .set((
                items::stock.eq(items::stock - quantity),
                items::updated_at.eq(now),
            ))
            .returning((items::name, items::sale_price))
            .get_result(conn)
            .await
            .optional()?;
            match reserved {
                Some(found) => {
                    facts.insert(item_id, found);
                }
                None => {
                    let on_sale: bool = diesel::select(diesel::dsl::exists(
                        items::table
                            .filter(items::id.eq(item_id))
                            .filter(items::is_active),
                    ))
                    .get_result(conn)
                    .await?;
                    return Err(if on_sale {
                        ShopError::OutOfStock { item_id }
                    } else {
                        ShopError::ItemNotFound
                    });
                }
            }
        }
        for line in requested {
            let (name, unit_price) = facts[&line.item_id].clone();
            priced.push((line, name, unit_price));
        }
        let total: i64 = priced
            .iter()
            .map(|(line, _, price)| price * i64::from(line.quantity))
            .sum();
        let (recipient, phone, zip_code, address1, address2) = address;
        let order_id: OrderId = diesel::insert_into(orders::table)
            .values((
                orders::user_id.eq(user),
                orders::total_price.eq(total),
                orders::recipient.eq(recipient),
                orders::phone.eq(phone),
                orders::zip_code.eq(zip_code),
                orders::address1.eq(address1),
                orders::address2.eq(address2),
                orders::payment_expires_at.eq(now + payment_window),
                orders::created_at.eq(now),
                orders::updated_at.eq(now),
            ))
            .returning(orders::id)
            .get_result(conn)
            .await?;
        let rows: Vec<_> = priced
            .iter()
            .map(|(line, name, price)| {
                (
                    order_lines::order_id.eq(order_id),
                    order_lines::item_id.eq(line.item_id),
                    order_lines::item_name.eq(name.clone()),
                    order_lines::unit_price.eq(*price),
                    order_lines::quantity.eq(line.quantity),
                    order_lines::subscription_period_days.eq(line.subscription_period_days),
                    order_lines::line_total.eq(price * i64::from(line.quantity)),
                )
            })
            .collect();
        diesel::insert_into(order_lines::table)
            .values(rows)
            .execute(conn)
            .await?;
        if !cart_lines.is_empty() {
            diesel::delete(cart_items::table.filter(cart_items::id.eq_any(&cart_lines)))
                .execute(conn)
                .await?;
        }
        load(conn, order_id).await
    })
    .await
}

/// The requested lines, merged per item and purchase kind, and the cart lines they came from.
async fn resolve(
    conn: &mut AsyncPgConnection,
    user: UserId,
    source: OrderSource,
) -> Result<(Vec<RequestedLine>, Vec<i64>), ShopError> {
    let (lines, cart_lines) = match source {
        OrderSource::Direct(lines) => (lines, Vec::new()),
        OrderSource::Cart(ids) => {
            let found: Vec<(i64, ItemId, i32, Option<i16>)> = cart_items::table
                .filter(cart_items::user_id.eq(user))
                .filter(cart_items::id.eq_any(&ids))
                .select((
                    cart_items::id,
                    cart_items::item_id,
                    cart_items::quantity,
                    cart_items::subscription_period_days,
                ))
                .load(conn)
                .await?;
            let mut unique = ids.clone();
            unique.sort_unstable();
            unique.dedup();
            if found.len() != unique.len() {
                return Err(ShopError::CartItemNotFound);
            }
            let lines = found
                .iter()
                .map(
                    |&(_, item_id, quantity, subscription_period_days)| RequestedLine {
                        item_id,
                        quantity,
                        subscription_period_days,
                    },
                )
                .collect();
            (lines, unique)
        }
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(ShopError::Invalid {
            field: "items",
            code: "length",
            message: format!("an order has 1 to {MAX_LINES} lines"),
        });
    }
    let mut merged: BTreeMap<(ItemId, Option<i16>), i32> = BTreeMap::new();
    for line in lines {
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            return Err(ShopError::Invalid {
                field: "quantity",
                code: "range",
                message: format!("must be 1 to {MAX_QUANTITY}"),
            });
        }
        if line
            .subscription_period_days
            .is_some_and(|p| !SUBSCRIPTION_PERIODS.contains(&p))
        {
            return Err(ShopError::Invalid {
                field: "subscription_period_days",
                code: "one_of",
                message: "must be 30, 60 or 90".into(),
            });
        }
        *merged
            .entry((line.item_id, line.subscription_period_days))
            .or_default() += line.quantity;
    }
    if merged.values().any(|quantity| *quantity > MAX_QUANTITY) {
        return Err(ShopError::Invalid {
            field: "quantity",
            code: "range",
            message: format!("at most {MAX_QUANTITY} of one item per line"),
        });
    }
    let lines = merged
        .into_iter()
        .map(
            |((item_id, subscription_period_days), quantity)| RequestedLine {
                item_id,
                quantity,
                subscription_period_days,
            },
        )
        .collect();
    Ok((lines, cart_lines))
}

/// The columns an order is read with: its row and its courier's name and template.
fn with_courier() -> (
    diesel::dsl::AsSelect<OrderRow, diesel::pg::Pg>,
    diesel::dsl::Nullable<(couriers::name, couriers::tracking_url_template)>,
) {
    (
        OrderRow::as_select(),
        (couriers::name, couriers::tracking_url_template).nullable(),
    )
}

pub(crate) async fn load(conn: &mut AsyncPgConnection, id: OrderId) -> Result<Order, ShopError> {
    let row: OrderRowWithCourier = orders::table
        .left_join(couriers::table)
        .filter(orders::id.eq(id))
        .select(with_courier())
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::OrderNotFound)?;
    let lines = order_lines::table
        .filter(order_lines::order_id.eq(id))
        .order(order_lines::id)
        .select(OrderLine::as_select())
        .load(conn)
        .await?;
    let payment = payments_of(conn, &[id]).await?.into_values().next();
    Ok(assemble(row, lines, payment))
}

async fn payments_of(
    conn: &mut AsyncPgConnection,
    order_ids: &[OrderId],
) -> Result<BTreeMap<OrderId, PaymentSummary>, ShopError> {
    Ok(payments::table
        .filter(payments::order_id.eq_any(order_ids))
        .select(PaymentRow::as_select())
        .load::<PaymentRow>(conn)
        .await?
        .into_iter()
        .map(|row| (row.order_id, row.into()))
        .collect())
}

/// An order its owner (or an admin, with `owner: None`) may see; others get "not found".
pub async fn get(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    owner: Option<UserId>,
) -> Result<Order, ShopError> {
    let order = load(conn, id).await?;
    match owner {
        Some(user) if user != order.user_id => Err(ShopError::OrderNotFound),
        _ => Ok(order),
    }
}

/// Which orders a list shows: a buyer's own list sets `user`; an admin's may set any part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub user: Option<UserId>,
    pub status: Option<OrderStatus>,
    /// Placed at or after this instant.
    pub placed_from: Option<DateTime<Utc>>,
    /// Placed before this instant.
    pub placed_until: Option<DateTime<Utc>>,
    /// Ids below this one: the last id of the previous page.
    pub before: Option<OrderId>,
}

/// Orders, newest first, `limit` at most.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: OrderFilter,
    limit: i64,
) -> Result<Vec<Order>, ShopError> {
    let mut query = orders::table
        .left_join(couriers::table)
        .select(with_courier())
        .into_boxed();
    if let Some(user) = filter.user {
        query = query.filter(orders::user_id.eq(user));
    }
    if let Some(status) = filter.status {
        query = query.filter(orders::status.eq(status));
    }
    if let Some(from) = filter.placed_from {
        query = query.filter(orders::created_at.ge(from));
    }
    if let Some(until) = filter.placed_until {
        query = query.filter(orders::created_at.lt(until));
    }
    if let Some(before) = filter.before {
        query = query.filter(orders::id.lt(before));
    }
    let rows: Vec<OrderRowWithCourier> = query
        .order(orders::id.desc())
        .limit(limit)
        .load(conn)
        .await?;
    let ids: Vec<OrderId> = rows.iter().map(|(row, _)| row.id).collect();
    let mut lines: BTreeMap<OrderId, Vec<OrderLine>> = BTreeMap::new();
    let all: Vec<(OrderId, OrderLine)> = order_lines::table
        .filter(order_lines::order_id.eq_any(&ids))
        .order(order_lines::id)
        .select((order_lines::order_id, OrderLine::as_select()))
        .load(conn)
        .await?;
    for (order_id, line) in all {
        lines.entry(order_id).or_default().push(line);
    }
    let mut payments = payments_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.0.id;
            assemble(
                row,
                lines.remove(&id).unwrap_or_default(),
                payments.remove(&id),
            )
        })
        .collect())
}

/// Cancels an order: it is `CANCELED` and its stock goes back on sale. A paid one (not yet
/// shipped) also has its refund requested through the outbox in the same transaction, so it is
/// never lost; the order reads `REFUNDED` only once the gateway confirmed the refund.
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Order, ShopError> {
    conn.transaction(async move |conn| -> Result<Order, ShopError> {
        // Lock the order so a concurrent approval or cancel waits for us.
        orders::table
            .find(id)
            .select(orders::id)
            .for_update()
            .first::<OrderId>(conn)
            .await
            .optional()?;
        let order = get(conn, id, owner).await?;
        match order.status {
            OrderStatus::PendingPayment => {
                release(conn, &[id], now).await?;
                notify_status(conn, &[(id, order.user_id)], OrderStatus::Canceled, now).await?;
            }
            OrderStatus::Paid => {
                refund(conn, &order, now).await?;
                notification::request_many(conn, &[refund_requested_notification(&order)], now)
                    .await?;
            }
            status => return Err(ShopError::OrderNotCancelable { status }),
        }
        load(conn, id).await
    })
    .await
}

async fn refund(
    conn: &mut AsyncPgConnection,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), ShopError> {
    // A renewal whose charge was confirmed through the sid status has no known tid to refund.
    let (tid, amount, subscription): (String, i64, bool) = payments::table
        .filter(payments::order_id.eq(order.id))
        .filter(payments::status.eq(PaymentStatus::Paid))
        .select((payments::tid, payments::amount, payments::is_subscription))
        .first(conn)
        .await
        .optional()?
        .ok_or(ShopError::OrderNotCancelable {
            status: order.status,
        })?;
    if !payment::request_refund(conn, order.id, &tid, amount, subscription, now).await? {
        return Err(ShopError::OrderNotCancelable {
            status: order.status,
        });
    }
    diesel::update(orders::table.find(order.id))
        .set((
            orders::status.eq(OrderStatus::Canceled),
            orders::canceled_at.eq(now),
            orders::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    super::review::remove_for_order(conn, order.id).await?;
    // The money goes back, so what the order started must not charge again.
    subscription::end_all(
        conn,
        subscription::Scope::FirstOrder(order.id),
        subscription::CancelReason::OrderRefunded,
        now,
    )
    .await?;
    // The stock goes back as the order took it (a renewal may have taken less than it
    // delivered); the sales as counted.
    let lines: Vec<(ItemId, i32, Option<i32>)> = order_lines::table
        .filter(order_lines::order_id.eq(order.id))
        .select((
            order_lines::item_id,
            order_lines::quantity,
            order_lines::stock_taken,
        ))
        .load(conn)
        .await?;
    for (item, quantity, taken) in lines {
        diesel::update(items::table.find(item))
            .set((
                items::stock.eq(items::stock + taken.unwrap_or(quantity)),
                items::sales_count.eq(items::sales_count - i64::from(quantity)),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Moves orders still unpaid to `CANCELED` and returns their stock, in one statement.
/// Returns how many were cancelled.
async fn release(
    conn: &mut AsyncPgConnection,
    ids: &[OrderId],
    now: DateTime<Utc>,
) -> Result<u64, ShopError> {
    let canceled = diesel::sql_query(include_str!("order/release_unpaid.sql"))
        .bind::<diesel::sql_types::Array<BigInt>, _>(ids)
        .bind::<Timestamptz, _>(now)
        .execute(conn)
        .await?;
    Ok(u64::try_from(canceled).unwrap_or(0))
}

/// Cancels unpaid orders whose payment window has closed, in chunks that concurrent batch
/// instances share with `SKIP LOCKED`. Returns how many orders were cancelled.
pub async fn expire_unpaid(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    chunk: i64,
) -> Result<u64, ShopError> {
    let mut total = 0;
    loop {
        let expired = conn
            .transaction(async move |conn| -> Result<u64, ShopError> {
                let expired: Vec<(OrderId, UserId)> = orders::table
                    .filter(orders::status.eq(OrderStatus::PendingPayment))
                    .filter(orders::payment_expires_at.le(now))
                    .order(orders::id)
                    .limit(chunk)
                    .for_update()
                    .skip_locked()
                    .select((orders::id, orders::user_id))
                    .load(conn)
                    .await?;
                if expired.is_empty() {
                    return Ok(0);
                }
                let ids: Vec<OrderId> = expired.iter().map(|(id, _)| *id).collect();
                release(conn, &ids, now).await?;
                notify_status(conn, &expired, OrderStatus::Canceled, now).await?;
                Ok(ids.len() as u64)
            })
            .await?;
        total += expired;
        if expired < u64::try_from(chunk).unwrap_or(u64::MAX) {
            return Ok(total);
        }
    }
}

/// An admin moves a paid order along its delivery.
pub async fn advance_delivery(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    to: OrderStatus,
    now: DateTime<Utc>,
) -> Result<Order, ShopError> {
    conn.transaction(async move |conn| -> Result<Order, ShopError> {
        let order = load(conn, id).await?;
        if !order.status.delivery_step_allowed(to) {
            return Err(ShopError::InvalidTransition {
                from: order.status,
                to,
            });
        }
        let shipped_at = if to == OrderStatus::Shipping {
            Some(now)
        } else {
            order.shipped_at
        };
        let delivered = (to == OrderStatus::Delivered).then_some(now);
        let moved = diesel::update(
            orders::table
                .find(id)
                .filter(orders::status.eq(order.status)),
        )
        .set((
            orders::status.eq(to),
            orders::shipped_at.eq(shipped_at),
            orders::delivered_at.eq(delivered),
            orders::delivered_by.eq(delivered.map(|_| super::shipment::DeliveredBy::Admin)),
            orders::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
        if moved == 0 {
            // Someone else moved it first; report what it is now.
            let now_status = load(conn, id).await?.status;
            return Err(ShopError::InvalidTransition {
                from: now_status,
                to,
            });
        }
        notify_status(conn, &[(id, order.user_id)], to, now).await?;
        load(conn, id).await
    })
    .await
}

/// Tells buyers (`(order id, user id)` pairs) that their orders reached `status`, through the
/// outbox of the caller's transaction.
pub(crate) async fn notify_status(
    conn: &mut AsyncPgConnection,
    orders: &[(OrderId, UserId)],
    status: OrderStatus,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let notifications: Vec<_> = orders
        .iter()
        .map(|&(order_id, user_id)| status_notification(order_id, user_id, status))
        .collect();
    notification::request_many(conn, &notifications, now).await
}

/// What a buyer reads when they cancelled a paid order (the refund is on its way).
fn refund_requested_notification(order: &Order) -> NewNotification {
    let message = super::messages::refund_requested(order.id);
    NewNotification {
        user_id: order.user_id,
        notice: Notice::OrderStatus {
            order_id: order.id.into(),
            status: Some(OrderStatus::Canceled.as_str().to_owned()),
            payment_status: Some(PaymentStatus::RefundPending.as_str().to_owned()),
        },
        title: message.title,
        body: message.body,
        once_per: None,
    }
}

/// What a buyer reads when their order reaches `status`.
fn status_notification(order_id: OrderId, user_id: UserId, status: OrderStatus) -> NewNotification {
    let message = super::messages::order_status(order_id, status);
    NewNotification {
        user_id,
        notice: Notice::OrderStatus {
            order_id: order_id.into(),
            status: Some(status.as_str().to_owned()),
            payment_status: None,
        },
        title: message.title,
        body: message.body,
        once_per: None,
    }
}

#[cfg(test)]
mod tests {
    use super::OrderStatus::*;

    #[test]
    fn only_forward_delivery_steps_are_allowed() {
        assert!(Paid.delivery_step_allowed(Shipping));
        assert!(Shipping.delivery_step_allowed(Delivered));
        assert!(!PendingPayment.delivery_step_allowed(Shipping));
        assert!(!Delivered.delivery_step_allowed(Shipping));
        assert!(!Canceled.delivery_step_allowed(Delivered));
        assert!(!Paid.delivery_step_allowed(Delivered));
    }
}
