//! Stopping: readiness fails first while requests are still served, then live streams end and
//! the server returns within its deadline (what Kubernetes' `terminationGracePeriodSeconds`
//! allows), and `serve --no-migrate` leaves the schema to `petory-api migrate`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};
use petory_api::config::ShutdownSettings;
use petory_core::testing::{server_url, with_database};

use crate::notifications::open_stream;
use crate::util::{TestApp, assert_problem};

#[tokio::test]
async fn a_stop_fails_readiness_first_then_ends_live_streams_within_the_deadline() {
    let app = TestApp::spawn().await;
    let (_, token) = app.user("me@example.com").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let settings = ShutdownSettings {
        delay: Duration::from_secs(1),
        timeout: Duration::from_secs(10),
    };
    let server = tokio::spawn(petory_api::server::serve_until_stopped(
        listener,
        app.state.clone(),
        settings,
        async move {
            let _ = stopped.await;
        },
    ));
    let client = reqwest::Client::new();
    let ready = || client.get(format!("{base_url}/health/ready")).send();
    assert_eq!(ready().await.unwrap().status(), 200);
    let mut stream = open_stream(&base_url, &token, None).await;

    let asked = Instant::now();
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Taken out of the load balancer, still serving.
    let response = ready().await.unwrap();
    assert_eq!(response.headers()["retry-after"], "1");
    assert_problem(response, 503, "SHUTTING_DOWN").await;
    let live = client
        .get(format!("{base_url}/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);

    // After the delay the stream ends (the client reconnects elsewhere with Last-Event-ID)…
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            drop(chunk); // keep-alive comments until the end
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the notification stream ends when the stop begins"
    );
    assert!(asked.elapsed() >= settings.delay);
    // …and the server returns without waiting for the deadline.
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once nothing is left")
        .unwrap()
        .unwrap();
    assert!(asked.elapsed() < settings.timeout);
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn serve_without_migrations_leaves_the_schema_alone_and_stops_on_sigterm() {
    let name = format!("petory_cli_{}", uuid::Uuid::new_v4().simple());
    let maintenance = with_database(&server_url(), "postgres");
    let mut admin = AsyncPgConnection::establish(&maintenance).await.unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let url = with_database(&server_url(), &name);
    let client = reqwest::Client::new();
    // Once with the flag, once with the variable.
    for (args, migrate) in [(&["serve", "--no-migrate"][..], "true"), (&[][..], "false")] {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_petory-api"))
            .args(args)
            .env("PETORY_LOG_FORMAT", "text")
            .env("PETORY_JWT_SECRET", "cli-test-secret-cli-test-secret-cli!")
            // S3, KakaoPay and the public URL fall back to development values.
            .env("PETORY_DEV_MODE", "1")
            .env("RUST_LOG", "warn")
            .env("DATABASE_URL", &url)
            .env("PETORY_BIND", format!("127.0.0.1:{port}"))
            .env("PETORY_MIGRATE", migrate)
            .env("PETORY_SHUTDOWN_DELAY_SECS", "1")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let ready = format!("http://127.0.0.1:{port}/health/ready");
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(&ready).send().await
                && response.status() == 200
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the API got ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_problem(
            client.get(&ready).send().await.unwrap(),
            503,
            "SHUTTING_DOWN",
        )
        .await;
        let exited = Instant::now();
        let code = loop {
            if let Some(code) = child.try_wait().unwrap() {
                break code;
            }
            assert!(exited.elapsed() < Duration::from_secs(10), "it stopped");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(code.success(), "a stop is a clean exit: {code}");
    }
    // Nothing was migrated.
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    assert!(
        conn.batch_execute("SELECT 1 FROM __diesel_schema_migrations")
            .await
            .is_err()
    );
    drop(conn);
    admin
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}
