//! Invariants of the schema itself: the database refuses what the rules forbid, whatever code
//! writes to it.

use diesel::sql_types::{BigInt, Bool, Text};
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

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    definition: String,
}

/// The values a column's `CHECK (column IN (...))` allows, as PostgreSQL states it.
async fn allowed_values(conn: &mut AsyncPgConnection, table: &str, column: &str) -> Vec<String> {
    let checks: Vec<Check> = sql_query(
        "SELECT pg_get_constraintdef(c.oid) AS definition
           FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid
          WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND a.attname = $2
            AND array_length(c.conkey, 1) = 1 AND a.attnum = c.conkey[1]",
    )
    .bind::<Text, _>(table)
    .bind::<Text, _>(column)
    .load(conn)
    .await
    .unwrap();
    // `IN ('A', 'B')` reads back as `= ANY (ARRAY['A', 'B'])`; a single value as `= 'A'`.
    let with_list: Vec<&Check> = checks
        .iter()
        .filter(|check| {
            check.definition.contains("ANY (ARRAY[")
                || check.definition.contains(&format!("({column} = '"))
        })
        .collect();
    assert_eq!(
        with_list.len(),
        1,
        "{table}.{column}: one CHECK listing its values"
    );
    let definition = &with_list[0].definition;
    let mut values: Vec<String> = definition
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    values.sort();
    values
}

fn names(all: &[impl std::fmt::Display]) -> Vec<String> {
    let mut names: Vec<String> = all.iter().map(ToString::to_string).collect();
    names.sort();
    names
}

/// Every status or kind enum and its column's `CHECK` list the same values: neither can grow a
/// value the other does not know.
#[tokio::test]
async fn every_text_enum_matches_its_columns_check() {
    use petory_core::community::board::PostCategory;
    use petory_core::community::pet::{Sex, Species};
    use petory_core::community::trade::{ListingCategory, ListingStatus};
    use petory_core::identity::lifecycle::NoticeKind;
    use petory_core::identity::{AccountStatus, Role};
    use petory_core::moderation::{ModerationAction, Reason, ReportStatus, Resolution, TargetType};
    use petory_core::notification::NotificationKind;
    use petory_core::platform::idempotency::KeyState;
    use petory_core::platform::outbox::EventStatus;
    use petory_core::platform::run_log::{RunStatus, Trigger};
    use petory_core::platform::upload::{ImageType, Purpose};
    use petory_core::shop::order::OrderStatus;
    use petory_core::shop::payment::{PaymentProvider, PaymentStatus};
    use petory_core::shop::shipment::DeliveredBy;
    use petory_core::shop::subscription::{
        CancelReason, ChargeResolution, ChargeStatus, SubscriptionStatus,
    };
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    let pairs: Vec<(&str, &str, Vec<String>)> = vec![
        ("uploads", "purpose", names(Purpose::ALL)),
        ("pets", "species", names(Species::ALL)),
        ("pets", "sex", names(Sex::ALL)),
        ("posts", "category", names(PostCategory::ALL)),
        ("listings", "category", names(ListingCategory::ALL)),
        ("listings", "status", names(ListingStatus::ALL)),
        ("reports", "target_type", names(TargetType::ALL)),
        ("reports", "reason", names(Reason::ALL)),
        ("reports", "status", names(ReportStatus::ALL)),
        ("reports", "resolution", names(Resolution::ALL)),
        ("moderation_log", "action", names(ModerationAction::ALL)),
        ("moderation_log", "target_type", names(TargetType::ALL)),
        ("uploads", "content_type", names(ImageType::ALL)),
        ("users", "role", names(Role::ALL)),
        ("users", "status", names(AccountStatus::ALL)),
        ("batch_job_runs", "trigger", names(Trigger::ALL)),
        ("batch_job_runs", "status", names(RunStatus::ALL)),
        ("idempotency_keys", "state", names(KeyState::ALL)),
        ("outbox_events", "status", names(EventStatus::ALL)),
        ("orders", "status", names(OrderStatus::ALL)),
        ("orders", "delivered_by", names(DeliveredBy::ALL)),
        ("payments", "status", names(PaymentStatus::ALL)),
        ("payments", "provider", names(PaymentProvider::ALL)),
        ("subscriptions", "status", names(SubscriptionStatus::ALL)),
        ("subscriptions", "cancel_reason", names(CancelReason::ALL)),
        ("subscription_charges", "status", names(ChargeStatus::ALL)),
        (
            "subscription_charges",
            "resolved_by",
            names(ChargeResolution::ALL),
        ),
        ("notifications", "kind", names(NotificationKind::ALL)),
        (
            "notification_settings",
            "kind",
            names(NotificationKind::ALL),
        ),
        ("account_notices", "kind", names(NoticeKind::ALL)),
    ];
    for (table, column, enum_values) in pairs {
        assert_eq!(
            allowed_values(&mut conn, table, column).await,
            enum_values,
            "{table}.{column}"
        );
    }
}

#[derive(QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
    #[diesel(sql_type = Text)]
    is_generated: String,
}

/// `src/schema.rs` is written by hand: this compares it, table by table and column by column
/// (names, types, nullability), with the migrated database.
#[tokio::test]
async fn schema_rs_matches_the_migrated_database() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    let columns: Vec<ColumnInfo> = sql_query(
        "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text,
                is_generated::text
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
          ORDER BY table_name, ordinal_position",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut database_tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for column in columns {
        let base = match column.udt_name.as_str() {
            "int8" => "Int8",
            "int4" => "Int4",
            "int2" => "Int2",
            "text" => "Text",
            "bool" => "Bool",
            "timestamptz" => "Timestamptz",
            "timestamp" => "Timestamp",
            "_timestamp" => "Array<Timestamp>",
            "_int4" => "Array<Int4>",
            "date" => "Date",
            "float8" => "Float8",
            "time" => "Time",
            "jsonb" => "Jsonb",
            "bytea" => "Bytea",
            "uuid" => "Uuid",
            "_text" => "Array<Text>",
            "cube" => "Cube",
            other => panic!(
                "{}.{} has a type the check does not know: {other}",
                column.table_name, column.column_name
            ),
        };
        // Generated columns read as nullable but are never NULL (their expressions are not).
        let sql_type = if column.is_nullable == "YES" && column.is_generated != "ALWAYS" {
            format!("Nullable<{base}>")
        } else {
            base.to_owned()
        };
        database_tables
            .entry(column.table_name)
            .or_default()
            .push(format!("{} -> {sql_type}", column.column_name));
    }
    let declared = parse_schema_rs(include_str!("../src/schema.rs"));
    let missing: Vec<&String> = database_tables
        .keys()
        .filter(|table| !declared.contains_key(*table))
        .collect();
    let stale: Vec<&String> = declared
        .keys()
        .filter(|table| !database_tables.contains_key(*table))
        .collect();
    assert!(
        missing.is_empty(),
        "tables the database has and schema.rs does not: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "tables schema.rs declares and the database has not: {stale:?}"
    );
    for (table, columns) in &database_tables {
        assert_eq!(&declared[table], columns, "columns of {table}");
    }
}

/// `table_name -> ["column -> Type", ...]` of every `diesel::table!` in schema.rs, in order.
fn parse_schema_rs(source: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut tables = std::collections::BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in source.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with('{')) {
            current = Some((name.to_owned(), Vec::new()));
        } else if let Some((_, columns)) = current.as_mut()
            && let Some((column, sql_type)) = line.split_once(" -> ")
        {
            columns.push(format!("{column} -> {}", sql_type.trim_end_matches(',')));
        } else if line == "}"
            && let Some((name, columns)) = current.take()
        {
            tables.insert(name, columns);
        }
    }
    tables
}

#[derive(QueryableByName)]
struct Stamped {
    #[diesel(sql_type = Bool)]
    stamped: bool,
}

/// Whether the place's `nearby_changed_at` is after the transaction's start (`now()`).
async fn stamped_in_this_transaction(conn: &mut AsyncPgConnection) -> bool {
    let row: Stamped =
        sql_query("SELECT nearby_changed_at > now() AS stamped FROM places WHERE name = 'Cafe'")
            .get_result(conn)
            .await
            .unwrap();
    row.stamped
}

/// API instances follow places through `nearby_changed_at` (`place/nearby.rs`): every change
/// of what a nearest-first search reads stamps it when written, whoever writes; other changes
/// (likes, words) leave it.
#[tokio::test]
async fn places_are_stamped_when_what_searches_read_changes() {
    let database = TestDatabase::new().await;
    let mut conn = connect(&database).await;
    let insert = "INSERT INTO places (name, category, address, lat, lng, created_at, updated_at)
                  VALUES ('Cafe', 'CAFE', 'Seoul', 37.5, 127.0, now(), now())";
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        conn.batch_execute("SELECT pg_sleep(0.01)").await?;
        conn.batch_execute(insert).await?;
        assert!(stamped_in_this_transaction(conn).await, "an insert");
        Ok(())
    })
    .await
    .unwrap();
    for (change, stamps) in [
        ("UPDATE places SET like_count = like_count + 1", false),
        ("UPDATE places SET phone = '02-123-4567'", false),
        ("UPDATE places SET lat = lat", false),
        ("UPDATE places SET lat = 37.6", true),
        ("UPDATE places SET category = 'PARK'", true),
        ("UPDATE places SET pet_sizes = '{LARGE}'", true),
        ("UPDATE places SET hidden_at = now()", true),
        ("UPDATE places SET deleted_at = now()", true),
    ] {
        let stamped = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                conn.batch_execute("SELECT pg_sleep(0.01)").await?;
                conn.batch_execute(change).await?;
                Ok(stamped_in_this_transaction(conn).await)
            })
            .await
            .unwrap();
        assert_eq!(stamped, stamps, "{change}");
    }
}
