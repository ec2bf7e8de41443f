//! The `petory-api` binary: configuration errors, migrations, the OpenAPI printout.

use std::process::Command;

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use petory_core::testing::{server_url, with_database};

const API: &str = env!("CARGO_BIN_EXE_petory-api");

fn api() -> Command {
    let mut command = Command::new(API);
    command
        .env("PETORY_LOG_FORMAT", "text")
        .env("PETORY_JWT_SECRET", "cli-test-secret-cli-test-secret-cli!")
        .env("RUST_LOG", "warn");
    command
}

/// Settings that have only a development machine's default.
const PRODUCTION_SETTINGS: [(&str, &str); 8] = [
    ("S3_ENDPOINT", "aws"),
    ("S3_ACCESS_KEY_ID", "AKIAEXAMPLE"),
    ("S3_SECRET_ACCESS_KEY", "example-secret"),
    ("PETORY_CORS_ALLOWED_ORIGINS", "https://app.petory.kr"),
    ("PETORY_PUBLIC_URL", "https://api.petory.kr"),
    ("KAKAOPAY_BASE_URL", "https://open-api.kakaopay.com"),
    ("KAKAOPAY_SECRET_KEY", "live-secret"),
    ("KAKAOPAY_CID", "CPETORY001"),
];

/// `petory-api serve` outside development, with every production setting but `missing`.
fn serve_without(missing: &str) -> std::process::Output {
    let mut command = Command::new(API);
    command
        .env_remove("PETORY_DEV_MODE")
        .env("PETORY_LOG_FORMAT", "text")
        .env("PETORY_BIND", "127.0.0.1:1")
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("KAKAOPAY_SUBSCRIPTION_CID", "CPETORY002")
        .env("PETORY_JWT_SECRET", "cli-test-secret-cli-test-secret-cli!");
    for (name, value) in PRODUCTION_SETTINGS {
        command.env(name, value);
    }
    command.env_remove(missing).arg("serve").output().unwrap()
}

#[test]
fn outside_development_no_secret_or_address_falls_back_to_a_development_value() {
    for missing in PRODUCTION_SETTINGS
        .iter()
        .map(|(name, _)| *name)
        .chain(["KAKAOPAY_SUBSCRIPTION_CID", "PETORY_JWT_SECRET"])
    {
        let output = serve_without(missing);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr
                .lines()
                .any(|line| line.starts_with(&format!("petory-api: {missing} is required"))),
            "{missing}: {stderr}"
        );
    }
}

#[test]
fn without_a_jwt_secret_it_refuses_to_start_outside_development() {
    let output = serve_without("PETORY_JWT_SECRET");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("petory-api: PETORY_JWT_SECRET is required")),
        "{stderr}"
    );
    // A short secret is refused too, development mode or not.
    let output = api()
        .env("PETORY_DEV_MODE", "1")
        .env("PETORY_JWT_SECRET", "short")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PETORY_JWT_SECRET"));
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    let output = api().env("PETORY_BIND", "not-an-address").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with("petory-api: PETORY_BIND=\"not-an-address\" is invalid")),
        "{stderr}"
    );
    let output = api()
        .env("DATABASE_URL", "mysql://nope")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("DATABASE_URL=\"mysql://nope\" is invalid")
    );
}

#[tokio::test]
async fn migrate_builds_the_schema_in_an_empty_database_and_is_repeatable() {
    let name = format!("petory_cli_{}", uuid::Uuid::new_v4().simple());
    let maintenance = with_database(&server_url(), "postgres");
    let mut admin = AsyncPgConnection::establish(&maintenance).await.unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = with_database(&server_url(), &name);

    for _ in 0..2 {
        let output = api()
            .env("DATABASE_URL", &url)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    conn.batch_execute(
        "SELECT id, job, status FROM batch_job_runs; SELECT owner, key FROM idempotency_keys",
    )
    .await
    .expect("tables exist");
    drop(conn);
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

#[test]
fn openapi_command_prints_the_committed_contract() {
    let output = api().arg("openapi").output().unwrap();
    assert!(output.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .unwrap(),
    )
    .unwrap();
    assert!(
        printed == committed,
        "`petory-api openapi` differs from docs/openapi.json; regenerate it"
    );
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in() {
    use std::io::Write as _;
    let app = crate::util::TestApp::spawn().await;
    let run = |password: &str| {
        let mut child = api()
            .env("DATABASE_URL", &app.state.config.database.url)
            .args([
                "create-admin",
                "--email",
                "Root@Petory.test",
                "--password-stdin",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("short");
    assert!(!weak.status.success());
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("password must be at least 8 characters")
    );

    let created = run("admin password 1");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        String::from_utf8_lossy(&created.stdout)
            .starts_with("created administrator root@petory.test")
    );
    let (token, _) = app.login("root@petory.test", "admin password 1").await;
    let users = app
        .send(
            reqwest::Method::GET,
            "/api/v1/admin/users",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(users.status(), 200);

    // Running it again promotes (and re-keys) the same account rather than failing.
    let again = run("admin password 2");
    assert!(
        String::from_utf8_lossy(&again.stdout)
            .starts_with("promoted administrator root@petory.test")
    );
    app.login("root@petory.test", "admin password 2").await;
}
