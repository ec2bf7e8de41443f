//! Per-test PostgreSQL databases (enabled by the `test-support` feature).
//!
//! The first test of a run migrates a template database, named after a fingerprint of the
//! migrations; every test then gets its own `CREATE DATABASE … TEMPLATE` copy, dropped when the
//! handle is dropped. Tests therefore run in parallel, across processes, without seeing each
//! other's rows.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use crate::db::run_migrations;

const FINGERPRINT: &str = env!("PETORY_MIGRATIONS_FINGERPRINT");
/// Serialises template creation between test processes.
const TEMPLATE_LOCK: i64 = 0x7065_746f_7279;

/// The server every test database lives on: `TEST_DATABASE_URL`, else `DATABASE_URL`, else the
/// local default. Its database part names the maintenance database to connect to.
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    pub async fn new() -> Self {
        let server = server_url();
        let maintenance = with_database(&server, "postgres");
        let mut admin = AsyncPgConnection::establish(&maintenance)
            .await
            .unwrap_or_else(|error| panic!("cannot reach PostgreSQL at {maintenance}: {error}"));
        let template = format!("petory_template_{FINGERPRINT}");
        ensure_template(&mut admin, &server, &template).await;

        let name = format!("petory_test_{}", uuid::Uuid::new_v4().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .await
            .expect("create test database");
        let url = with_database(&server, &name);
        Self { name, url }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

async fn ensure_template(admin: &mut AsyncPgConnection, server: &str, template: &str) {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(admin)
        .await
        .expect("template lock");
    let exists = diesel::sql_query("SELECT count(*) AS count FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(template)
        .get_result::<Found>(admin)
        .await
        .expect("look up template")
        .count
        > 0;
    if !exists {
        let building = format!("{template}_building");
        // One statement per call: CREATE/DROP DATABASE refuse to run inside a transaction.
        for statement in [
            format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            format!("CREATE DATABASE {building}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("create template database");
        }
        run_migrations(&with_database(server, &building))
            .await
            .expect("migrate template");
        for statement in [
            format!("ALTER DATABASE {building} RENAME TO {template}"),
            format!("ALTER DATABASE {template} WITH IS_TEMPLATE true"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("publish template");
        }
    }
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK)
        .execute(admin)
        .await
        .expect("template unlock");
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let maintenance = with_database(&server_url(), "postgres");
        // Drop runs outside any async context we may block, so use a small runtime of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let mut admin = AsyncPgConnection::establish(&maintenance).await.ok()?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Subscriptions made in bulk for billing tests and benchmarks: `count` buyers, each with a paid
/// first order and one active subscription due on `due`, whose `sid`s (`SID-<n>`) were last
/// approved at `approved_at` (seed the payment gateway with the same). Returns
/// `(sid, partner_user_id)` pairs.
pub async fn seed_due_subscriptions(
    conn: &mut diesel_async::AsyncPgConnection,
    count: i64,
    due: chrono::NaiveDate,
    approved_at: chrono::DateTime<chrono::Utc>,
) -> Vec<(String, String)> {
    use diesel::sql_types::{BigInt, Date, Text, Timestamptz};
    use diesel_async::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Seeded {
        #[diesel(sql_type = Text)]
        sid: String,
        #[diesel(sql_type = Text)]
        user_id: String,
    }

    let statements = [
        "INSERT INTO categories (name, sort_order, created_at) VALUES ('Bench', 0, $3)
         ON CONFLICT DO NOTHING",
        "INSERT INTO items (category_id, name, brand, description, price, discount_rate, stock,
                            image_keys, created_at, updated_at)
         SELECT c.id, 'Omega-3 ' || g, 'Petory', '', 20000, 10, 1000000, '{}', $3, $3
           FROM categories c, generate_series(1, 100) g WHERE c.name = 'Bench'",
        "INSERT INTO users (email, password_hash, name, phone, status_changed_at, created_at,
                            updated_at)
         SELECT 'billing-' || g || '@bench.petory', 'unused', 'Buyer ' || g, '010-0000-0000',
                $3, $3, $3
           FROM generate_series(1, $1) g",
        "INSERT INTO orders (user_id, status, total_price, recipient, phone, zip_code, address1,
                             address2, payment_expires_at, created_at, updated_at, paid_at)
         SELECT u.id, 'PAID', 18000, u.name, '010-0000-0000', '06236', 'Teheran-ro 1', '',
                $3, $3, $3, $3
           FROM users u WHERE u.email LIKE 'billing-%@bench.petory'",
        "INSERT INTO subscriptions (user_id, item_id, first_order_id, quantity, period_days, sid,
                                    anchor_date, last_cycle_date, next_billing_date,
                                    sid_approved_at, created_at, updated_at)
         SELECT o.user_id, i.id, o.id, 1, 30, 'SID-' || o.user_id, $2 - 30, $2 - 30, $2, $3, $3, $3
           FROM orders o
           JOIN LATERAL (SELECT id FROM items WHERE name = 'Omega-3 ' || (1 + o.user_id % 100)
                          LIMIT 1) i ON true
          WHERE o.recipient LIKE 'Buyer %'",
    ];
    for statement in statements {
        diesel::sql_query(statement)
            .bind::<BigInt, _>(count)
            .bind::<Date, _>(due)
            .bind::<Timestamptz, _>(approved_at)
            .execute(conn)
            .await
            .expect("seed subscriptions");
    }
    diesel::sql_query("SELECT sid, user_id::text AS user_id FROM subscriptions ORDER BY id")
        .load::<Seeded>(conn)
        .await
        .expect("seeded subscriptions")
        .into_iter()
        .map(|row| (row.sid, row.user_id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/app", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u@h/app?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
    }
}
