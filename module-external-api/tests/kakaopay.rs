//! The KakaoPay adapter against the sandbox that ships with the project.

use std::time::Duration;

use petory_core::shop::payment::{
    ApproveRequest, GatewayError, GatewayStatus, PaymentGateway, ReadyRequest,
};
use petory_external_api::payment::kakaopay::{KakaoPay, KakaoPaySettings};
use petory_external_api::payment::sandbox::{KakaoPaySandbox, SandboxSettings};
use serde_json::Value;

async fn sandbox() -> KakaoPaySandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    KakaoPaySandbox::serve(
        listener,
        SandboxSettings {
            auto_approve: true,
            ..SandboxSettings::default()
        },
    )
    .unwrap()
}

fn gateway(sandbox: &KakaoPaySandbox, secret: &str, timeout: Duration) -> KakaoPay {
    KakaoPay::new(KakaoPaySettings {
        base_url: sandbox.base_url(),
        secret_key: secret.into(),
        cid: "TC0ONETIME".into(),
        subscription_cid: "TCSUBSCRIP".into(),
        timeout,
    })
}

fn ready_request(order: &str, subscription: bool) -> ReadyRequest {
    ReadyRequest {
        partner_order_id: order.into(),
        partner_user_id: "7".into(),
        item_name: "Omega-3".into(),
        quantity: 1,
        total_amount: 18000,
        approval_url: format!(
            "http://127.0.0.1:8080/api/v1/payments/kakaopay/approve?order_id={order}"
        ),
        cancel_url: "http://127.0.0.1:8080/cancel".into(),
        fail_url: "http://127.0.0.1:8080/fail".into(),
        subscription,
    }
}

/// Follows the redirect as a browser would and returns the `pg_token` the sandbox hands back.
async fn buyer_approves(redirect_url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(redirect_url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:8080/api/v1/payments/kakaopay/approve?order_id=")
    );
    location.split("pg_token=").nth(1).unwrap().to_owned()
}

async fn ledger(sandbox: &KakaoPaySandbox) -> Vec<Value> {
    reqwest::get(format!("{}/__sandbox/ledger", sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn misbehave(sandbox: &KakaoPaySandbox, next: &str) {
    let status = reqwest::Client::new()
        .post(format!("{}/__sandbox/misbehave", sandbox.base_url()))
        .json(&serde_json::json!({"next": next}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 204);
}

fn approve_request(tid: &str, order: &str, pg_token: &str, subscription: bool) -> ApproveRequest {
    ApproveRequest {
        tid: tid.into(),
        partner_order_id: order.into(),
        partner_user_id: "7".into(),
        pg_token: pg_token.into(),
        subscription,
    }
}

#[tokio::test]
async fn ready_approve_lookup_and_cancel_round_trip() {
    let sandbox = sandbox().await;
    let kakao = gateway(&sandbox, "DEV-SANDBOX-SECRET", Duration::from_secs(5));
    let ready = kakao.ready(&ready_request("42", false)).await.unwrap();
    let pg_token = buyer_approves(&ready.redirect_pc_url).await;
    let approval = kakao
        .approve(&approve_request(&ready.tid, "42", &pg_token, false))
        .await
        .unwrap();
    assert_eq!(
        (
            approval.tid.as_str(),
            approval.amount,
            approval.sid.as_deref()
        ),
        (ready.tid.as_str(), 18000, None)
    );
    assert!(approval.approved_at.is_some());

    assert_eq!(
        kakao.lookup(&ready.tid, false).await.unwrap().status,
        GatewayStatus::Approved
    );
    let again = kakao
        .approve(&approve_request(&ready.tid, "42", &pg_token, false))
        .await
        .unwrap_err();
    assert!(
        matches!(again, GatewayError::Refused(_)),
        "a second approve is refused: {again:?}"
    );

    let canceled = kakao.cancel(&ready.tid, 18000, false).await.unwrap();
    assert_eq!(
        (canceled.status, canceled.amount),
        (GatewayStatus::Canceled, 18000)
    );
    let kinds: Vec<String> = ledger(&sandbox)
        .await
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["ready", "approve", "cancel"]);
    assert_eq!(ledger(&sandbox).await[1]["partner_order_id"], "42");
}

#[tokio::test]
async fn a_subscription_approval_yields_an_sid() {
    let sandbox = sandbox().await;
    let kakao = gateway(&sandbox, "DEV-SANDBOX-SECRET", Duration::from_secs(5));
    let ready = kakao.ready(&ready_request("43", true)).await.unwrap();
    let pg_token = buyer_approves(&ready.redirect_pc_url).await;
    let approval = kakao
        .approve(&approve_request(&ready.tid, "43", &pg_token, true))
        .await
        .unwrap();
    assert!(approval.sid.is_some_and(|sid| sid.starts_with('S')));
}

#[tokio::test]
async fn refusals_and_outages_are_told_apart() {
    let sandbox = sandbox().await;
    let wrong_key = gateway(&sandbox, "WRONG", Duration::from_secs(5));
    assert!(
        matches!(
            wrong_key.ready(&ready_request("1", false)).await,
            Err(GatewayError::Rejected(_))
        ),
        "a wrong secret key is our fault, not the buyer's"
    );

    let kakao = gateway(&sandbox, "DEV-SANDBOX-SECRET", Duration::from_secs(5));
    misbehave(&sandbox, "fail").await;
    assert!(matches!(
        kakao.ready(&ready_request("1", false)).await,
        Err(GatewayError::Unavailable(_))
    ));
    misbehave(&sandbox, "decline").await;
    assert!(matches!(
        kakao.ready(&ready_request("1", false)).await,
        Err(GatewayError::Refused(_))
    ));
    let ready = kakao.ready(&ready_request("1", false)).await.unwrap();
    let wrong_token = kakao
        .approve(&approve_request(&ready.tid, "1", "forged", false))
        .await;
    assert!(matches!(wrong_token, Err(GatewayError::Refused(_))));
    assert_eq!(
        kakao.lookup(&ready.tid, false).await.unwrap().status,
        GatewayStatus::Pending
    );
}

#[tokio::test]
async fn a_timed_out_approval_is_resolved_by_lookup_not_by_charging_again() {
    let sandbox = sandbox().await;
    let kakao = gateway(&sandbox, "DEV-SANDBOX-SECRET", Duration::from_secs(1));
    let ready = kakao.ready(&ready_request("44", false)).await.unwrap();
    let pg_token = buyer_approves(&ready.redirect_pc_url).await;
    misbehave(&sandbox, "timeout").await;
    let outcome = kakao
        .approve(&approve_request(&ready.tid, "44", &pg_token, false))
        .await;
    assert!(
        matches!(outcome, Err(GatewayError::Unavailable(_))),
        "{outcome:?}"
    );
    // The gateway did approve; the lookup says so.
    let state = kakao.lookup(&ready.tid, false).await.unwrap();
    assert_eq!(
        (state.status, state.amount),
        (GatewayStatus::Approved, 18000)
    );
    let approvals = ledger(&sandbox)
        .await
        .iter()
        .filter(|entry| entry["kind"] == "approve")
        .count();
    assert_eq!(approvals, 1);
}
