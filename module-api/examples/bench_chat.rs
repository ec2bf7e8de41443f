//! `scripts/bench chat [PAIRS] [RATE] [IDLE]`: chat over sockets between two real API
//! instances (`petory-api serve` twice, one PostgreSQL and Redis).
//!
//! Active run: PAIRS buyer/seller pairs (default 1,000, so 2,000 sockets), each buyer on
//! instance A and each seller on instance B; the buyers send RATE messages a second in all
//! (default 1,000) for 30 s. Reported: sockets held to the end, messages delivered a second,
//! the latency from the buyer's send to the seller's frame (p50, p99), messages acknowledged
//! but never delivered (lost), error frames, and each instance's resident memory.
//! Idle run: IDLE sockets (default 10,000) held on instance A; its resident memory.
//! Users, listings and rooms are made by set-based SQL; tokens are minted with the API's key.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::sql_types::{Array, BigInt};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use futures_util::{SinkExt as _, StreamExt as _};
use petory_core::identity::token::{TokenSettings, issue_access};
use petory_core::identity::{Role, UserId};
use petory_core::testing::TestDatabase;
use serde_json::{Value, json};
use support::{ms, percentile};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const ACTIVE_SECONDS: u64 = 30;
/// Sockets opened at once while connecting.
const CONNECTING: usize = 64;

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(diesel::QueryableByName)]
struct Room {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    seller_id: i64,
    #[diesel(sql_type = BigInt)]
    buyer_id: i64,
}

/// `n` members at once (no password: they never log in, their tokens are minted).
async fn members(conn: &mut AsyncPgConnection, n: usize) -> anyhow::Result<Vec<i64>> {
    use diesel_async::RunQueryDsl as _;
    let ids: Vec<Id> = diesel::sql_query(
        "INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
         SELECT 'chat-' || n || '-' || gen_random_uuid() || '@bench.petory', 'no login',
                'Member ' || n, now(), now(), now()
           FROM generate_series(1, $1) AS n
         RETURNING id",
    )
    .bind::<BigInt, _>(i64::try_from(n)?)
    .load(conn)
    .await?;
    Ok(ids.into_iter().map(|id| id.id).collect())
}

/// A listing per seller and each buyer's room about one of them.
async fn rooms(
    conn: &mut AsyncPgConnection,
    sellers: &[i64],
    buyers: &[i64],
) -> anyhow::Result<Vec<Room>> {
    use diesel_async::RunQueryDsl as _;
    let rooms: Vec<Room> = diesel::sql_query(
        "WITH pairs AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) AS t(seller, buyer)),
              listed AS (
                INSERT INTO listings (seller_id, category, title, content, price, region,
                                      chat_count, created_at, updated_at)
                SELECT seller, 'GOODS', 'Bench item', 'For the chat benchmark', 1000, 'Mapo-gu',
                       1, now(), now()
                  FROM pairs
                RETURNING id, seller_id)
         INSERT INTO chat_rooms (listing_id, seller_id, buyer_id, active_at, created_at)
         SELECT listed.id, pairs.seller, pairs.buyer, now(), now()
           FROM listed JOIN pairs ON pairs.seller = listed.seller_id
         RETURNING id, seller_id, buyer_id",
    )
    .bind::<Array<BigInt>, _>(sellers)
    .bind::<Array<BigInt>, _>(buyers)
    .load(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO chat_members (room_id, user_id)
         SELECT id, seller_id FROM chat_rooms UNION ALL SELECT id, buyer_id FROM chat_rooms",
    )
    .execute(conn)
    .await?;
    Ok(rooms)
}

async fn connect(base: &str, token: &str) -> anyhow::Result<Socket> {
    let mut request =
        format!("{}/api/v1/chat/ws", base.replacen("http", "ws", 1)).into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

/// Opens a socket per `(base, token)`, `CONNECTING` at a time; those that failed are counted.
async fn connect_all(targets: Vec<(String, String)>) -> (Vec<Socket>, usize) {
    let results: Vec<anyhow::Result<Socket>> = futures_util::stream::iter(targets)
        .map(|(base, token)| async move { connect(&base, &token).await })
        .buffered(CONNECTING)
        .collect()
        .await;
    let failed = results.iter().filter(|result| result.is_err()).count();
    (results.into_iter().filter_map(Result::ok).collect(), failed)
}

#[derive(Default)]
struct Counts {
    acked: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
    /// Sockets that ended before the run did.
    dropped: AtomicU64,
    /// From a buyer's send to the seller's frame, per message.
    latencies: std::sync::Mutex<Vec<Duration>>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let pairs: usize = args
        .next()
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(1000);
    let rate: u64 = args
        .next()
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(1000);
    let idle: usize = args
        .next()
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(10_000);
    let database = TestDatabase::new().await;
    let prefix = format!("bench:{}:", database.name());
    let (port_a, port_b) = (support::free_port()?, support::free_port()?);
    let instance_a = support::api(database.url(), &prefix, port_a)?;
    let instance_b = support::api(database.url(), &prefix, port_b)?;
    let (base_a, base_b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let http = reqwest::Client::new();
    support::wait_ready(&http, &base_a).await?;
    support::wait_ready(&http, &base_b).await?;

    let mut conn = AsyncPgConnection::establish(database.url()).await?;
    let people = members(&mut conn, 2 * pairs + idle).await?;
    let (sellers, rest) = people.split_at(pairs);
    let (buyers, idlers) = rest.split_at(pairs);
    let rooms = rooms(&mut conn, sellers, buyers).await?;
    let tokens = TokenSettings::new(
        support::JWT_SECRET.as_bytes(),
        Duration::from_secs(3600),
        Duration::from_secs(86_400),
    );
    let token = |user: i64| {
        issue_access(
            &tokens,
            UserId(user),
            Role::User,
            &format!("bench-{user}"),
            chrono::Utc::now(),
        )
        .0
    };

    // Active: buyers on A, sellers on B.
    let mut targets = Vec::with_capacity(2 * pairs);
    for room in &rooms {
        targets.push((base_a.clone(), token(room.buyer_id)));
        targets.push((base_b.clone(), token(room.seller_id)));
    }
    let (sockets, failed) = connect_all(targets).await;
    anyhow::ensure!(failed == 0, "{failed} sockets failed to open");
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let end = start + Duration::from_secs(ACTIVE_SECONDS);
    let period = Duration::from_secs_f64(pairs as f64 / rate as f64);
    let mut sockets = sockets.into_iter();
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (n, room) in rooms.iter().enumerate() {
        let (Some(buyer), Some(seller)) = (sockets.next(), sockets.next()) else {
            break;
        };
        let room_id = room.id;
        let (mut buyer_tx, mut buyer_rx) = buyer.split();
        let buyer_counts = counts.clone();
        // The buyer's acks (and the echoes of its own messages).
        receivers.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = buyer_rx.next().await {
                if let Message::Text(text) = frame
                    && let Ok(frame) = serde_json::from_str::<Value>(&text)
                {
                    match frame["type"].as_str() {
                        Some("ack") => buyer_counts.acked.fetch_add(1, Ordering::Relaxed),
                        Some("error") => buyer_counts.errors.fetch_add(1, Ordering::Relaxed),
                        _ => 0,
                    };
                }
            }
            if Instant::now() < end {
                buyer_counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }));
        // The seller's frames: each message's latency from the moment it was sent.
        let seller_counts = counts.clone();
        receivers.push(tokio::spawn(async move {
            let (_seller_tx, mut seller_rx) = seller.split();
            while let Some(Ok(frame)) = seller_rx.next().await {
                if let Message::Text(text) = frame
                    && let Ok(frame) = serde_json::from_str::<Value>(&text)
                    && frame["type"] == "message"
                    && let Some(sent_us) = frame["text"].as_str().and_then(|t| t.parse().ok())
                {
                    let latency = start
                        .elapsed()
                        .saturating_sub(Duration::from_micros(sent_us));
                    if let Ok(mut latencies) = seller_counts.latencies.lock() {
                        latencies.push(latency);
                    }
                    seller_counts.delivered.fetch_add(1, Ordering::Relaxed);
                }
            }
            if Instant::now() < end {
                seller_counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }));
        // The buyer sends at its share of the rate, starting at a spread-out offset.
        let offset = period.mul_f64(n as f64 / pairs as f64);
        senders.push(tokio::spawn(async move {
            let mut ticks =
                tokio::time::interval_at(tokio::time::Instant::from_std(start + offset), period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sent = 0_u64;
            while ticks.tick().await.into_std() < end {
                let frame = json!({
                    "type": "send",
                    "room_id": room_id,
                    "client_id": uuid::Uuid::new_v4(),
                    "text": start.elapsed().as_micros().to_string(),
                });
                if buyer_tx
                    .send(Message::text(frame.to_string()))
                    .await
                    .is_err()
                {
                    break;
                }
                sent += 1;
            }
            (sent, buyer_tx)
        }));
    }
    let mut sent = 0;
    let mut buyer_sinks = Vec::new();
    for sender in senders {
        let (count, sink) = sender.await?;
        sent += count;
        buyer_sinks.push(sink);
    }
    // Let the last messages arrive, then read memory while every socket is still open.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rss_a, rss_b) = (instance_a.rss_mib(), instance_b.rss_mib());
    for mut sink in buyer_sinks {
        let _ = sink.close().await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for receiver in &receivers {
        receiver.abort();
    }
    let mut latencies = counts
        .latencies
        .lock()
        .map(|latencies| latencies.clone())
        .unwrap_or_default();
    latencies.sort();
    let acked = counts.acked.load(Ordering::Relaxed);
    let delivered = counts.delivered.load(Ordering::Relaxed);
    let held = 2 * pairs as u64 - counts.dropped.load(Ordering::Relaxed);

    // Idle: sockets held on A alone.
    let rss_before = instance_a.rss_mib();
    let (idle_sockets, idle_failed) = connect_all(
        idlers
            .iter()
            .map(|user| (base_a.clone(), token(*user)))
            .collect(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss_idle = instance_a.rss_mib();
    let idle_held = idle_sockets.len();
    drop(idle_sockets);

    #[allow(clippy::print_stdout)]
    {
        println!(
            "| run | sockets held | sent | acked | delivered/s | p50 | p99 | lost | error frames | RSS A | RSS B |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        println!(
            "| {pairs} pairs across 2 instances, {rate} msg/s offered, {ACTIVE_SECONDS} s | {held} | {sent} | {acked} | {:.0} | {} | {} | {} | {} | {rss_a} MiB | {rss_b} MiB |",
            delivered as f64 / ACTIVE_SECONDS as f64,
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99)),
            acked.saturating_sub(delivered),
            counts.errors.load(Ordering::Relaxed),
        );
        println!(
            "| {idle} idle sockets on instance A ({idle_failed} refused) | {idle_held} | | | | | | | | {rss_idle} MiB ({} MiB before) | |",
            rss_before
        );
    }
    Ok(())
}
