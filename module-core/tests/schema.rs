//! Invariants of the schema itself: the database refuses what the rules forbid, whatever code
//! writes to it.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{
    AsyncConnection as _, AsyncPgConnection, RunQueryDsl as _, SimpleAsyncConnection as _,
};
use petory_core::testing::TestDatabase;

async fn connect(database: &TestDatabase) -> AsyncPgConnection {
    AsyncPgConnection::establish(database.url()).await.unwrap()
}

const USER: &str =
    "INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at)
                    VALUES ('bori@example.com', 'x', 'Bori', now(), now(), now())";

#[derive(QueryableByName)]
struct Unindexed {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

#[tokio::test]
async fn every_foreign_key_is_indexed() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    // A foreign key without an index makes deletes of the parent scan the child table.
    let unindexed: Vec<Unindexed> = sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, a.attname::text AS column_name
           FROM pg_constraint c
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
          WHERE c.contype = 'f'
            AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let names: Vec<String> = unindexed
        .iter()
        .map(|u| format!("{}.{}", u.table_name, u.column_name))
        .collect();
    assert!(names.is_empty(), "foreign keys without an index: {names:?}");
}

#[tokio::test]
async fn emails_are_unique_among_accounts_that_are_not_withdrawn() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    conn.batch_execute(USER).await.unwrap();
    assert!(
        conn.batch_execute(USER).await.is_err(),
        "a second live account with the email"
    );
    conn.batch_execute("UPDATE users SET status = 'WITHDRAWN'")
        .await
        .unwrap();
    conn.batch_execute(USER)
        .await
        .expect("a withdrawn account frees its email");
    assert!(conn.batch_execute("INSERT INTO users (email, password_hash, name, status_changed_at, created_at, updated_at) VALUES ('Upper@Example.com', 'x', 'U', now(), now(), now())").await.is_err(), "emails are stored lower-cased");
}

#[tokio::test]
async fn states_are_checked() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    conn.batch_execute(USER).await.unwrap();
    for bad in [
        "UPDATE users SET role = 'ROOT'",
        "UPDATE users SET status = 'BANNED'",
        "UPDATE users SET status = 'SUSPENDED'",
        "UPDATE users SET password_hash = NULL",
        "INSERT INTO batch_job_runs (job, business_date, trigger, status, started_at) VALUES ('x', '2026-11-23', 'MANUAL', 'SUCCEEDED', now())",
    ] {
        assert!(conn.batch_execute(bad).await.is_err(), "accepted: {bad}");
    }
    conn.batch_execute("UPDATE users SET status = 'SUSPENDED', suspended_until = now() + interval '1 day', suspension_reason = 'spam'")
        .await
        .expect("a suspension with its end and reason");
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[tokio::test]
async fn a_user_has_at_most_one_default_address() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    conn.batch_execute(USER).await.unwrap();
    let address = "INSERT INTO user_addresses (user_id, recipient, phone, zip_code, address1, is_default, created_at, updated_at)
                   SELECT id, 'Bori', '010-1234-5678', '06236', 'Teheran-ro 1', true, now(), now() FROM users";
    conn.batch_execute(address).await.unwrap();
    assert!(
        conn.batch_execute(address).await.is_err(),
        "a second default"
    );
    conn.batch_execute("DELETE FROM users").await.unwrap();
    let left: Count = sql_query("SELECT count(*) AS count FROM user_addresses")
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(left.count, 0, "addresses go with their user");
}
