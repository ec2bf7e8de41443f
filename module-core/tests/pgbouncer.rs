//! `PETORY_DB_PGBOUNCER=true`: the pool's connections never leave a named prepared statement on
//! the server, so a transaction-pooling PgBouncer may run each statement on another server
//! connection. `scripts/deploy-check` runs the whole API and batch through a real PgBouncer.

use diesel::dsl::count_star;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::sql_types::{BigInt, Text};
use diesel::{ExpressionMethods as _, QueryDsl as _, QueryableByName, TextExpressionMethods as _};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use petory_core::db::{self, PoolSettings};
use petory_core::schema::users;
use petory_core::testing::TestDatabase;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

const INSERT_USER: &str =
    "INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
     VALUES ($1, 'x', 'Bori', now(), now(), now())";

/// Runs typed queries, hand-written ones with binds, an update and a transaction, then counts
/// the named prepared statements this server session holds.
async fn statements_left_behind(pgbouncer: bool) -> i64 {
    let database = TestDatabase::new().await;
    let pool = db::pool(
        database.url(),
        &PoolSettings {
            max_size: 1,
            pgbouncer,
            ..PoolSettings::default()
        },
    );
    let mut conn = pool.get().await.unwrap();
    for email in ["a@example.com", "b@example.com"] {
        let inserted = diesel::sql_query(INSERT_USER)
            .bind::<Text, _>(email)
            .execute(&mut conn)
            .await
            .unwrap();
        assert_eq!(inserted, 1);
    }
    let emails: Vec<String> = users::table
        .select(users::email)
        .filter(users::email.like("%@example.com"))
        .order(users::email)
        .load(&mut conn)
        .await
        .unwrap();
    assert_eq!(emails, ["a@example.com", "b@example.com"]);
    let renamed = diesel::update(users::table.filter(users::email.like("%@example.com")))
        .set(users::name.eq("Choco"))
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(renamed, 2, "rows affected are counted");
    // A unique violation keeps its kind and constraint: domain errors are made from them.
    let taken = diesel::sql_query(INSERT_USER)
        .bind::<Text, _>("a@example.com")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(
        matches!(&taken, Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if info.constraint_name().is_some()),
        "{taken:?}"
    );
    let in_transaction = conn
        .transaction::<_, Error, _>(async |conn| {
            diesel::sql_query(INSERT_USER)
                .bind::<Text, _>("c@example.com")
                .execute(conn)
                .await?;
            users::table
                .select(count_star())
                .get_result::<i64>(conn)
                .await
        })
        .await
        .unwrap();
    assert_eq!(in_transaction, 3);
    diesel::sql_query("SELECT count(*) AS count FROM pg_prepared_statements")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .count
}

#[tokio::test]
async fn behind_pgbouncer_no_prepared_statement_outlives_its_round_trip() {
    assert_eq!(statements_left_behind(true).await, 0);
}

#[tokio::test]
async fn directly_statements_are_prepared_once_and_kept() {
    // What the setting changes: connected directly, each typed statement (the select, the
    // update, the count) is prepared once and kept for the next run.
    assert!(statements_left_behind(false).await >= 3);
}
