//! Outbox records. Domain services call [`record`] inside their own transaction, so an event
//! exists exactly when the change that caused it committed. `petory-event` relays them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::DbError;
use crate::schema::outbox_events;

crate::text_enum! {
    /// Where an event stands (`outbox_events.status`): `FAILED` ones stopped retrying, and an
    /// admin may send them back to `PENDING`.
    pub enum EventStatus {
        Pending = "PENDING",
        Delivered = "DELIVERED",
        Failed = "FAILED",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox_events)]
pub struct OutboxEvent {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: EventStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The W3C `traceparent` of what recorded it: its handling joins that trace.
    pub trace_parent: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("no such failed event")]
    NotFound,
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for EventError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Database(DbError::Query(error))
    }
}

/// An outbox event type: the kind it is stored under and its payload (the type itself). Each
/// domain declares its own; each kind has one payload type and one handler in `petory-event`
/// (a test of the batch binary checks every kind the product records has one).
pub trait Payload: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: &'static str;

    /// The payload of a stored event of this kind.
    fn decode(event: &OutboxEvent) -> Result<Self, serde_json::Error> {
        serde_json::from_value(event.payload.clone())
    }
}

/// Records an event for delivery; call it on the connection of the transaction that makes the
/// change.
pub async fn record<P: Payload>(
    conn: &mut AsyncPgConnection,
    payload: &P,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let payload = serde_json::to_value(payload).map_err(|error| {
        DbError::Query(diesel::result::Error::SerializationError(Box::new(error)))
    })?;
    Ok(diesel::insert_into(outbox_events::table)
        .values((
            outbox_events::kind.eq(P::KIND),
            outbox_events::payload.eq(payload),
            outbox_events::next_attempt_at.eq(now),
            outbox_events::created_at.eq(now),
            outbox_events::trace_parent.eq(crate::platform::trace::current()),
        ))
        .returning(outbox_events::id)
        .get_result(conn)
        .await?)
}

/// Records one event per payload, in one statement.
pub async fn record_many<P: Payload>(
    conn: &mut AsyncPgConnection,
    payloads: &[P],
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    if payloads.is_empty() {
        return Ok(0);
    }
    let trace_parent = crate::platform::trace::current();
    let rows = payloads
        .iter()
        .map(|payload| {
            Ok((
                outbox_events::kind.eq(P::KIND),
                outbox_events::payload.eq(serde_json::to_value(payload)?),
                outbox_events::next_attempt_at.eq(now),
                outbox_events::created_at.eq(now),
                outbox_events::trace_parent.eq(trace_parent.clone()),
            ))
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()
        .map_err(|error| {
            DbError::Query(diesel::result::Error::SerializationError(Box::new(error)))
        })?;
    Ok(diesel::insert_into(outbox_events::table)
        .values(rows)
        .execute(conn)
        .await?)
}

/// Claims up to `limit` due events for `lease`: each is due again only when the lease ends (its
/// `next_attempt_at` is moved there), so neither this relay nor another takes it meanwhile,
/// and a relay that dies holding it leaves it to the next after the lease. Rows another relay
/// is claiming at this moment are skipped. No lock outlives the statement: handlers call out
/// with no transaction open, and each outcome is recorded on its own (the claim's
/// `next_attempt_at` is the token: see [`mark_delivered`]).
pub async fn claim_due(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
    lease: chrono::TimeDelta,
) -> Result<Vec<OutboxEvent>, DbError> {
    use diesel::sql_types::{BigInt, Timestamptz};
    let mut claimed: Vec<OutboxEvent> = diesel::sql_query(
        "UPDATE outbox_events SET next_attempt_at = $2
          WHERE id IN (SELECT id FROM outbox_events
                        WHERE status = 'PENDING' AND next_attempt_at <= $1
                        ORDER BY next_attempt_at, id
                        LIMIT $3
                          FOR UPDATE SKIP LOCKED)
      RETURNING *",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(now + lease)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?;
    claimed.sort_by_key(|event| event.id);
    Ok(claimed)
}

/// Records a claimed event's delivery. `false` when the claim was no longer this relay's (its
/// lease ran out and another relay took the event): nothing is written then.
pub async fn mark_delivered(
    conn: &mut AsyncPgConnection,
    claimed: &OutboxEvent,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = diesel::update(still_claimed(claimed))
        .set((
            outbox_events::status.eq(EventStatus::Delivered),
            outbox_events::attempts.eq(outbox_events::attempts + 1),
            outbox_events::delivered_at.eq(now),
            outbox_events::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// An event's row, if still pending and claimed until a given instant.
type StillClaimed = diesel::dsl::Filter<
    diesel::dsl::Filter<
        diesel::dsl::Find<outbox_events::table, i64>,
        diesel::dsl::Eq<outbox_events::status, EventStatus>,
    >,
    diesel::dsl::Eq<outbox_events::next_attempt_at, DateTime<Utc>>,
>;

/// The event's row while the claim that returned `claimed` still holds it.
fn still_claimed(claimed: &OutboxEvent) -> StillClaimed {
    outbox_events::table
        .find(claimed.id)
        .filter(outbox_events::status.eq(EventStatus::Pending))
        .filter(outbox_events::next_attempt_at.eq(claimed.next_attempt_at))
}

/// Records a claimed event's failed attempt: retried at `retry_at`, or parked as `FAILED` when
/// `None`. `false` when the claim was no longer this relay's.
pub async fn record_attempt_failed(
    conn: &mut AsyncPgConnection,
    claimed: &OutboxEvent,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, DbError> {
    let status = if retry_at.is_some() {
        EventStatus::Pending
    } else {
        EventStatus::Failed
    };
    let updated = diesel::update(still_claimed(claimed))
        .set((
            outbox_events::status.eq(status),
            outbox_events::attempts.eq(outbox_events::attempts + 1),
            outbox_events::last_error.eq(error),
            outbox_events::next_attempt_at.eq(retry_at.unwrap_or(claimed.next_attempt_at)),
        ))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// Events that stopped retrying, newest first.
pub async fn list_failed(
    conn: &mut AsyncPgConnection,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<OutboxEvent>, EventError> {
    let mut query = outbox_events::table
        .filter(outbox_events::status.eq(EventStatus::Failed))
        .select(OutboxEvent::as_select())
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(outbox_events::id.lt(before));
    }
    Ok(query
        .order(outbox_events::id.desc())
        .limit(limit)
        .load(conn)
        .await?)
}

/// Sends a failed event back for delivery now; its attempt count starts over.
pub async fn retry_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<OutboxEvent, EventError> {
    diesel::update(
        outbox_events::table
            .find(id)
            .filter(outbox_events::status.eq(EventStatus::Failed)),
    )
    .set((
        outbox_events::status.eq(EventStatus::Pending),
        outbox_events::attempts.eq(0),
        outbox_events::next_attempt_at.eq(now),
    ))
    .returning(OutboxEvent::as_returning())
    .get_result(conn)
    .await
    .optional()?
    .ok_or(EventError::NotFound)
}

/// What waits in the outbox, for the relay's metrics: both counts are read from the partial
/// indexes of pending and failed events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    pub pending: i64,
    pub failed: i64,
    /// When the oldest pending event was recorded.
    pub oldest_pending: Option<DateTime<Utc>>,
}

pub async fn backlog(conn: &mut AsyncPgConnection) -> Result<Backlog, DbError> {
    let (pending, oldest_pending) = outbox_events::table
        .filter(outbox_events::status.eq(EventStatus::Pending))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox_events::created_at),
        ))
        .get_result::<(i64, Option<DateTime<Utc>>)>(conn)
        .await?;
    let failed = outbox_events::table
        .filter(outbox_events::status.eq(EventStatus::Failed))
        .count()
        .get_result::<i64>(conn)
        .await?;
    Ok(Backlog {
        pending,
        failed,
        oldest_pending,
    })
}
