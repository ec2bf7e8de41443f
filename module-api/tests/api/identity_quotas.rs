//! Rate limits: one budget per caller across instances, a stricter one for logging in, each
//! instance on its own while Redis is down, and callers told apart behind a trusted proxy.

use serde_json::json;

use crate::fixtures::shop::me;
use crate::util::{ClockExt as _, PASSWORD, TestApp, assert_problem};

#[tokio::test]
async fn a_quota_is_one_budget_across_instances() {
    let app = TestApp::builder().rate_limits(6, 1_000).spawn().await;
    let other = app.sibling().await;
    // A signed-in user whose sign-up did not spend the address's budget.
    let token = {
        use petory_core::identity::{Role, account, token};
        let new = account::NewAccount {
            email: "busy@example.com".into(),
            password: PASSWORD.into(),
            name: "Busy".into(),
            phone: None,
            nickname: None,
        };
        let proof = account::Proof::Vouched;
        let user = account::signup(&app.state.db, new, Role::User, proof, app.clock.now_utc())
            .await
            .unwrap();
        token::issue_access(
            &app.state.tokens,
            user.id,
            Role::User,
            "session",
            app.clock.now_utc(),
        )
        .0
    };
    let client = reqwest::Client::new();
    let get = |base: &str, token: Option<&str>| {
        let mut request = client.get(format!("{base}/api/v1/categories"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    // A guest (by address) and a user (by id), each spread over both instances: the seventh
    // request is refused whichever instance gets it.
    for token in [None, Some(token.as_str())] {
        for n in 0..6 {
            let base = if n % 2 == 0 {
                &app.base_url
            } else {
                &other.base_url
            };
            assert_eq!(get(base, token).await.unwrap().status(), 200, "request {n}");
        }
        for base in [&app.base_url, &other.base_url] {
            assert_problem(get(base, token).await.unwrap(), 429, "RATE_LIMITED").await;
        }
    }
}

#[tokio::test]
async fn a_busy_caller_taking_its_budget_in_leases_never_exceeds_it_across_instances() {
    // 600 a minute: leases of up to 10 requests; 1,000 requests from one address, 20 at a
    // time over two instances, within a few seconds (10 a second refill meanwhile).
    let app = TestApp::builder().rate_limits(600, 1_000).spawn().await;
    let other = app.sibling().await;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut admitted = 0;
    for round in 0..50 {
        let requests = (0..20).map(|n| {
            let base = if n % 2 == 0 {
                &app.base_url
            } else {
                &other.base_url
            };
            client.get(format!("{base}/api/v1/categories")).send()
        });
        for response in futures_util::future::join_all(requests).await {
            match response.unwrap().status().as_u16() {
                200 => admitted += 1,
                429 => {}
                status => panic!("round {round}: {status}"),
            }
        }
    }
    let refilled = (started.elapsed().as_secs_f64() * 10.0).ceil() as i32;
    // Never more than the budget; at most a lease per instance left unspent.
    assert!(
        admitted <= 600 + refilled,
        "{admitted} admitted, {refilled} refilled"
    );
    assert!(admitted >= 600 - 2 * 10, "{admitted} admitted");
}

#[tokio::test]
async fn while_redis_is_down_each_instance_still_limits() {
    let app = TestApp::builder()
        .redis_url("redis://127.0.0.1:1")
        .rate_limits(3, 1_000)
        .spawn()
        .await;
    for _ in 0..3 {
        assert_eq!(app.get("/api/v1/categories").await.status(), 200);
    }
    assert_problem(app.get("/api/v1/categories").await, 429, "RATE_LIMITED").await;
}

#[tokio::test]
async fn the_auth_quota_holds_across_requests_per_ip() {
    let app = TestApp::builder().rate_limits(1_000, 3).spawn().await;
    for _ in 0..3 {
        let response = app.try_login("x@example.com", "wrong horse 1").await;
        assert_eq!(response.status(), 401);
    }
    let limited = app.try_login("x@example.com", "wrong horse 1").await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(limited, 429, "RATE_LIMITED").await;
    // Other routes are not under the auth quota.
    assert_eq!(app.get("/api/v1/no-such-route").await.status(), 404);
}

#[tokio::test]
async fn the_general_quota_is_per_user_when_authenticated() {
    let app = TestApp::builder().rate_limits(6, 1_000).spawn().await;
    // Sign-up and login count against the guest IP's quota (2 of 6 each).
    let alice = app.member("alice@example.com").await;
    let bob = app.member("bob@example.com").await;
    for _ in 0..6 {
        assert_eq!(me(&alice).await.status(), 200);
    }
    assert_problem(me(&alice).await, 429, "RATE_LIMITED").await;
    assert_eq!(me(&bob).await.status(), 200, "bob has his own bucket");
    assert_eq!(
        app.get("/health/live").await.status(),
        200,
        "probes are never limited"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_guests_are_limited_per_forwarded_address() {
    async fn login_from(app: &TestApp, forwarded: &str) -> u16 {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": "x@example.com", "password": "wrong horse 1"}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
    // The tests' client is the proxy, on loopback.
    let app = TestApp::builder()
        .rate_limits(1_000, 2)
        .trusted_proxies(&["127.0.0.1/32"])
        .spawn()
        .await;
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 401);
    assert_eq!(login_from(&app, "198.51.100.1").await, 429);
    // Another client behind the same proxy has its own quota; a spoofed left part changes nothing.
    assert_eq!(login_from(&app, "198.51.100.2").await, 401);
    assert_eq!(login_from(&app, "203.0.113.5, 198.51.100.1").await, 429);

    // Without trusted proxies the header is ignored: everyone shares the peer's quota.
    let untrusting = TestApp::builder().rate_limits(1_000, 2).spawn().await;
    assert_eq!(login_from(&untrusting, "198.51.100.1").await, 401);
    assert_eq!(login_from(&untrusting, "198.51.100.2").await, 401);
    assert_eq!(login_from(&untrusting, "198.51.100.3").await, 429);
}
