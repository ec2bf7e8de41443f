//! Parcels: an admin ships a paid order with a courier and its invoice number, the buyer is told
//! where to follow it, and confirms receipt; orders nobody confirmed are delivered by a job.

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz};
use diesel_async::{AsyncConnection as _, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;

use super::order::{self, Order, OrderStatus};
use super::{OrderId, ShopError};
use crate::identity::UserId;
use crate::notification::{self, NewNotification, Notice};
use crate::schema::{couriers, orders};

crate::text_enum! {
    /// Who made an order delivered (`orders.delivered_by`).
    pub enum DeliveredBy {
        /// The buyer confirmed receipt.
        Buyer = "BUYER",
        Admin = "ADMIN",
        /// Nobody confirmed within the settings' days: the `confirm-deliveries` job.
        Auto = "AUTO",
    }
}

/// What replaces the invoice number in a courier's tracking page template.
pub const TRACKING_NUMBER: &str = "{tracking_number}";

/// A courier an admin ships with (`couriers`, a table seeded by its migration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Queryable, Selectable)]
#[diesel(table_name = couriers)]
pub struct Courier {
    /// `CJ`, `HANJIN`, `LOTTE`, `EPOST`, `LOGEN`, …
    pub code: String,
    pub name: String,
    pub tracking_url_template: String,
}

/// An order's parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shipment {
    pub courier: String,
    pub courier_name: String,
    pub tracking_number: String,
    /// The courier's tracking page of this parcel.
    pub tracking_url: String,
}

impl Shipment {
    pub fn new(courier: String, courier_name: String, template: &str, number: String) -> Self {
        Self {
            tracking_url: tracking_url(template, &number),
            courier,
            courier_name,
            tracking_number: number,
        }
    }
}

/// The tracking page of `number` from a courier's template (the number is letters, digits and
/// hyphens only, as the schema checks, so it needs no escaping).
pub fn tracking_url(template: &str, number: &str) -> String {
    template.replace(TRACKING_NUMBER, number)
}

/// Letters, digits and hyphens, 6 to 30 (as `orders.tracking_number` checks).
pub fn valid_tracking_number(number: &str) -> bool {
    (6..=30).contains(&number.len())
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Every courier, by code.
pub async fn couriers(conn: &mut AsyncPgConnection) -> Result<Vec<Courier>, ShopError> {
    Ok(couriers::table
        .order(couriers::code)
        .select(Courier::as_select())
        .load(conn)
        .await?)
}

/// Ships a paid order with `courier` and its invoice number (a shipped one's invoice may be
/// corrected), and tells the buyer where to follow it: once per courier and number, so a
/// repeated request tells nothing new.
pub async fn ship(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    courier: &str,
    tracking_number: &str,
    now: DateTime<Utc>,
) -> Result<Order, ShopError> {
    let tracking_number = tracking_number.trim().to_owned();
    if !valid_tracking_number(&tracking_number) {
        return Err(ShopError::Invalid {
            field: "tracking_number",
            code: "format",
            message: "6 to 30 letters, digits or hyphens".into(),
        });
    }
    let courier = courier.trim().to_ascii_uppercase();
    conn.transaction(async move |conn| -> Result<Order, ShopError> {
        let known: Option<Courier> = couriers::table
            .find(&courier)
            .select(Courier::as_select())
            .first(conn)
            .await
            .optional()?;
        let Some(known) = known else {
            return Err(ShopError::Invalid {
                field: "courier",
                code: "one_of",
                message: "not a courier code this shop ships with (GET /admin/couriers)".into(),
            });
        };
        let (status, user_id, shipped_at): (OrderStatus, UserId, Option<DateTime<Utc>>) =
            orders::table
                .find(id)
                .for_update()
                .select((orders::status, orders::user_id, orders::shipped_at))
                .first(conn)
                .await
                .optional()?
                .ok_or(ShopError::OrderNotFound)?;
        if !matches!(status, OrderStatus::Paid | OrderStatus::Shipping) {
            return Err(ShopError::InvalidTransition {
                from: status,
                to: OrderStatus::Shipping,
            });
        }
        diesel::update(orders::table.find(id))
            .set((
                orders::status.eq(OrderStatus::Shipping),
                orders::courier.eq(&known.code),
                orders::tracking_number.eq(&tracking_number),
                orders::shipped_at.eq(shipped_at.unwrap_or(now)),
                orders::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        let shipment = Shipment::new(
            known.code,
            known.name,
            &known.tracking_url_template,
            tracking_number,
        );
        notification::request(conn, &shipped_notification(id, user_id, &shipment), now).await?;
        order::load(conn, id).await
    })
    .await
}

fn shipped_notification(
    order_id: OrderId,
    user_id: UserId,
    shipment: &Shipment,
) -> NewNotification {
    let message =
        super::messages::order_shipped(order_id, &shipment.courier_name, &shipment.tracking_number);
    NewNotification {
        user_id,
        notice: Notice::OrderShipped {
            order_id: order_id.into(),
            courier: shipment.courier.clone(),
            tracking_number: shipment.tracking_number.clone(),
            tracking_url: shipment.tracking_url.clone(),
        },
        title: message.title,
        body: message.body,
        once_per: Some(format!(
            "order-shipped:{order_id}:{}:{}",
            shipment.courier, shipment.tracking_number
        )),
    }
}

/// The buyer confirms receipt of a shipped order: it is delivered. Confirming again changes
/// nothing; another's order is "not found".
pub async fn confirm_receipt(
    conn: &mut AsyncPgConnection,
    id: OrderId,
    buyer: UserId,
    now: DateTime<Utc>,
) -> Result<Order, ShopError> {
    conn.transaction(async move |conn| -> Result<Order, ShopError> {
        let (status, _): (OrderStatus, UserId) = orders::table
            .find(id)
            .for_update()
            .select((orders::status, orders::user_id))
            .first(conn)
            .await
            .optional()?
            .filter(|(_, owner)| *owner == buyer)
            .ok_or(ShopError::OrderNotFound)?;
        match status {
            OrderStatus::Shipping => {
                diesel::update(orders::table.find(id))
                    .set((
                        orders::status.eq(OrderStatus::Delivered),
                        orders::delivered_at.eq(now),
                        orders::delivered_by.eq(DeliveredBy::Buyer),
                        orders::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
            }
            OrderStatus::Delivered => {}
            from => {
                return Err(ShopError::InvalidTransition {
                    from,
                    to: OrderStatus::Delivered,
                });
            }
        }
        order::load(conn, id).await
    })
    .await
}

/// Delivers orders shipped at least `after` ago that nobody confirmed, in chunks that
/// concurrent batch instances share with `SKIP LOCKED`; each buyer is told. A second run finds
/// nothing more (they are no longer shipping). Returns how many were delivered.
pub async fn deliver_unconfirmed(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    after: TimeDelta,
    chunk: i64,
) -> Result<u64, ShopError> {
    #[derive(QueryableByName)]
    struct Delivered {
        #[diesel(sql_type = BigInt)]
        id: OrderId,
        #[diesel(sql_type = BigInt)]
        user_id: UserId,
    }
    let mut total = 0;
    loop {
        let delivered = conn
            .transaction(async move |conn| -> Result<u64, ShopError> {
                let delivered: Vec<Delivered> =
                    diesel::sql_query(include_str!("shipment/deliver_unconfirmed.sql"))
                        .bind::<Timestamptz, _>(now)
                        .bind::<Timestamptz, _>(now - after)
                        .bind::<BigInt, _>(chunk)
                        .load(conn)
                        .await?;
                let pairs: Vec<(OrderId, UserId)> =
                    delivered.iter().map(|row| (row.id, row.user_id)).collect();
                order::notify_status(conn, &pairs, OrderStatus::Delivered, now).await?;
                Ok(pairs.len() as u64)
            })
            .await?;
        total += delivered;
        if delivered < u64::try_from(chunk).unwrap_or(u64::MAX) {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_goes_into_the_template() {
        assert_eq!(
            tracking_url(
                "https://trace.cjlogistics.com/next/tracking.html?wblNo={tracking_number}",
                "123456789012"
            ),
            "https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012"
        );
        assert!(valid_tracking_number("6896-1234-5678"));
        assert!(!valid_tracking_number("12345"));
        assert!(!valid_tracking_number("1234567&x=1"));
    }
}
