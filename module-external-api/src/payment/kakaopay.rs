//! The `PaymentGateway` port on KakaoPay's online payment API
//! (`POST {base}/online/v1/payment/...`, `Authorization: SECRET_KEY …`, JSON).
//! Every answer is checked against the request: tid, partner order id and amount.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use petory_core::config::{self, ConfigError};
use petory_core::shop::payment::{
    Approval, ApproveRequest, ChargeRequest, GatewayError, GatewayStatus, PaymentGateway,
    PaymentState, Ready, ReadyRequest, SubscriptionState,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone)]
pub struct KakaoPaySettings {
    pub base_url: String,
    pub secret_key: String,
    /// One-off payments' CID (`TC0ONETIME` for tests).
    pub cid: String,
    /// Subscription payments' CID (`TCSUBSCRIP` for tests).
    pub subscription_cid: String,
    pub timeout: Duration,
}

impl KakaoPaySettings {
    /// `KAKAOPAY_BASE_URL`, `KAKAOPAY_SECRET_KEY`, `KAKAOPAY_CID`, `KAKAOPAY_SUBSCRIPTION_CID`,
    /// `KAKAOPAY_TIMEOUT_SECS`. Defaults point at the local sandbox.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            base_url: config::var_or_dev(
                "KAKAOPAY_BASE_URL",
                "http://127.0.0.1:9100",
                "payments go to KakaoPay (https://open-api.kakaopay.com), not to the local sandbox; \
                 set it (or PETORY_DEV_MODE=1 on a development machine)",
            )?,
            secret_key: config::var_or_dev(
                "KAKAOPAY_SECRET_KEY",
                "DEV-SANDBOX-SECRET",
                "the merchant's secret key signs every payment call",
            )?,
            cid: config::var_or_dev(
                "KAKAOPAY_CID",
                "TC0ONETIME",
                "the merchant id of one-off payments (TC0ONETIME is KakaoPay's test id)",
            )?,
            subscription_cid: config::var_or_dev(
                "KAKAOPAY_SUBSCRIPTION_CID",
                "TCSUBSCRIP",
                "the merchant id of subscriptions (TCSUBSCRIP is KakaoPay's test id)",
            )?,
            timeout: Duration::from_secs(config::parsed_or("KAKAOPAY_TIMEOUT_SECS", 10_u64)?),
        })
    }
}

pub struct KakaoPay {
    settings: KakaoPaySettings,
    http: reqwest::Client,
}

impl KakaoPay {
    pub fn new(settings: KakaoPaySettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(3))
            .pool_max_idle_per_host(16)
            .build()
            .unwrap_or_default();
        Self { settings, http }
    }

    fn cid(&self, subscription: bool) -> &str {
        if subscription {
            &self.settings.subscription_cid
        } else {
            &self.settings.cid
        }
    }

    async fn call<B: Serialize + Sync, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, GatewayError> {
        let response = self
            .http
            .post(format!(
                "{}/online/v1/payment/{path}",
                self.settings.base_url.trim_end_matches('/')
            ))
            .header(
                reqwest::header::AUTHORIZATION,
                format!("SECRET_KEY {}", self.settings.secret_key),
            )
            .json(body)
            .send()
            .await
            .map_err(|error| GatewayError::Unavailable(error.to_string()))?;
        let status = response.status();
        if status.is_server_error() {
            return Err(GatewayError::Unavailable(format!(
                "{path} answered {status}"
            )));
        }
        if !status.is_success() {
            let error: KakaoError = response.json().await.unwrap_or_default();
            let message = format!(
                "{path}: HTTP {} {} {}",
                status.as_u16(),
                error.error_code,
                error.error_message
            );
            return Err(classify(status, error.error_code, message));
        }
        // A 200 whose body cannot be read leaves the outcome unknown.
        response.json().await.map_err(|error| {
            GatewayError::Unavailable(format!("{path}: unreadable answer: {error}"))
        })
    }
}

/// KakaoPay's error codes for a subscription id that can never be charged again.
const INVALID_SID: i64 = -797;
const INACTIVE_SID: i64 = -798;
/// KakaoPay's payment-process errors (`-7xx`: approval failed, declined, already done, …) are
/// about the payment; anything else (`-1`..`-99` bad parameters, `-401` bad key, HTTP 401/403)
/// is about our request.
const PAYMENT_ERRORS: std::ops::RangeInclusive<i64> = -799..=-700;

/// KakaoPay's payment statuses in core's words.
fn gateway_status(kakao: &str) -> GatewayStatus {
    match kakao {
        "SUCCESS_PAYMENT" => GatewayStatus::Approved,
        "CANCEL_PAYMENT" => GatewayStatus::Canceled,
        "PART_CANCEL_PAYMENT" => GatewayStatus::PartlyCanceled,
        "FAIL_AUTH_PASSWORD" | "FAIL_PAYMENT" | "QUIT_PAYMENT" => GatewayStatus::Failed,
        "READY" | "SEND_TMS" | "OPEN_PAYMENT" | "SELECT_METHOD" | "ARS_WAITING"
        | "AUTH_PASSWORD" | "ISSUED_SID" => GatewayStatus::Pending,
        other => GatewayStatus::Unknown(other.to_owned()),
    }
}

/// Whose fault a 4xx answer is: the buyer's payment, a dead `sid`, or our own request.
fn classify(status: reqwest::StatusCode, error_code: i64, message: String) -> GatewayError {
    match error_code {
        INVALID_SID | INACTIVE_SID => GatewayError::SubscriptionInvalid(message),
        code if PAYMENT_ERRORS.contains(&code)
            && status != reqwest::StatusCode::UNAUTHORIZED
            && status != reqwest::StatusCode::FORBIDDEN =>
        {
            GatewayError::Refused(message)
        }
        _ => GatewayError::Rejected(message),
    }
}

#[derive(Debug, Default, Deserialize)]
struct KakaoError {
    #[serde(default)]
    error_code: i64,
    #[serde(default)]
    error_message: String,
}

#[derive(Serialize)]
struct ReadyBody<'a> {
    cid: &'a str,
    partner_order_id: &'a str,
    partner_user_id: &'a str,
    item_name: &'a str,
    quantity: i64,
    total_amount: i64,
    tax_free_amount: i64,
    approval_url: &'a str,
    cancel_url: &'a str,
    fail_url: &'a str,
}

#[derive(Deserialize)]
struct ReadyAnswer {
    tid: String,
    next_redirect_pc_url: String,
    next_redirect_mobile_url: String,
    next_redirect_app_url: String,
}

#[derive(Serialize)]
struct ApproveBody<'a> {
    cid: &'a str,
    tid: &'a str,
    partner_order_id: &'a str,
    partner_user_id: &'a str,
    pg_token: &'a str,
}

#[derive(Deserialize)]
struct Amount {
    total: i64,
}

#[derive(Deserialize)]
struct ApproveAnswer {
    aid: String,
    tid: String,
    sid: Option<String>,
    partner_order_id: String,
    amount: Amount,
    approved_at: Option<String>,
}

#[derive(Serialize)]
struct CancelBody<'a> {
    cid: &'a str,
    tid: &'a str,
    cancel_amount: i64,
    cancel_tax_free_amount: i64,
}

#[derive(Serialize)]
struct OrderBody<'a> {
    cid: &'a str,
    tid: &'a str,
}

#[derive(Deserialize)]
struct OrderAnswer {
    tid: String,
    status: String,
    #[serde(default)]
    sid: Option<String>,
    amount: Option<Amount>,
}

#[derive(Serialize)]
struct ChargeBody<'a> {
    cid: &'a str,
    sid: &'a str,
    partner_order_id: &'a str,
    partner_user_id: &'a str,
    item_name: &'a str,
    quantity: i64,
    total_amount: i64,
    tax_free_amount: i64,
}

#[derive(Serialize)]
struct SidBody<'a> {
    cid: &'a str,
    sid: &'a str,
}

#[derive(Deserialize)]
struct InactiveAnswer {
    sid: String,
    status: String,
}

#[derive(Deserialize)]
struct StatusAnswer {
    available: bool,
    last_approved_at: Option<String>,
}

/// KakaoPay's times are local (KST) without an offset, e.g. `2026-11-23T10:00:00`.
fn kakao_time(value: &str) -> Option<DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").ok()?;
    Some((local - chrono::TimeDelta::hours(9)).and_utc())
}

#[async_trait]
impl PaymentGateway for KakaoPay {
    async fn ready(&self, request: &ReadyRequest) -> Result<Ready, GatewayError> {
        let answer: ReadyAnswer = self
            .call(
                "ready",
                &ReadyBody {
                    cid: self.cid(request.subscription),
                    partner_order_id: &request.partner_order_id,
                    partner_user_id: &request.partner_user_id,
                    item_name: &request.item_name,
                    quantity: request.quantity,
                    total_amount: request.total_amount,
                    tax_free_amount: 0,
                    approval_url: &request.approval_url,
                    cancel_url: &request.cancel_url,
                    fail_url: &request.fail_url,
                },
            )
            .await?;
        Ok(Ready {
            tid: answer.tid,
            redirect_pc_url: answer.next_redirect_pc_url,
            redirect_mobile_url: answer.next_redirect_mobile_url,
            redirect_app_url: answer.next_redirect_app_url,
        })
    }

    async fn approve(&self, request: &ApproveRequest) -> Result<Approval, GatewayError> {
        let answer: ApproveAnswer = self
            .call(
                "approve",
                &ApproveBody {
                    cid: self.cid(request.subscription),
                    tid: &request.tid,
                    partner_order_id: &request.partner_order_id,
                    partner_user_id: &request.partner_user_id,
                    pg_token: &request.pg_token,
                },
            )
            .await?;
        Self::checked(answer, &request.partner_order_id, Some(&request.tid))
    }

    async fn cancel(
        &self,
        tid: &str,
        amount: i64,
        subscription: bool,
    ) -> Result<PaymentState, GatewayError> {
        let answer: OrderAnswer = self
            .call(
                "cancel",
                &CancelBody {
                    cid: self.cid(subscription),
                    tid,
                    cancel_amount: amount,
                    cancel_tax_free_amount: 0,
                },
            )
            .await?;
        if answer.tid != tid {
            return Err(GatewayError::Mismatch(format!(
                "cancelled tid {}, asked {tid}",
                answer.tid
            )));
        }
        Ok(PaymentState {
            tid: answer.tid,
            sid: answer.sid,
            status: gateway_status(&answer.status),
            amount: answer.amount.map_or(amount, |a| a.total),
        })
    }

    async fn charge_subscription(&self, request: &ChargeRequest) -> Result<Approval, GatewayError> {
        let answer: ApproveAnswer = self
            .call(
                "subscription",
                &ChargeBody {
                    cid: &self.settings.subscription_cid,
                    sid: &request.sid,
                    partner_order_id: &request.partner_order_id,
                    partner_user_id: &request.partner_user_id,
                    item_name: &request.item_name,
                    quantity: request.quantity,
                    total_amount: request.total_amount,
                    tax_free_amount: 0,
                },
            )
            .await?;
        if answer.amount.total != request.total_amount {
            return Err(GatewayError::Mismatch(format!(
                "charged {}, asked {}",
                answer.amount.total, request.total_amount
            )));
        }
        Self::checked(answer, &request.partner_order_id, None)
    }

    async fn inactivate_subscription(&self, sid: &str) -> Result<(), GatewayError> {
        let answer: InactiveAnswer = self
            .call(
                "manage/subscription/inactive",
                &SidBody {
                    cid: &self.settings.subscription_cid,
                    sid,
                },
            )
            .await?;
        if answer.sid != sid || answer.status != "INACTIVE" {
            return Err(GatewayError::Mismatch(format!(
                "sid {} is {}",
                answer.sid, answer.status
            )));
        }
        Ok(())
    }

    async fn subscription_status(&self, sid: &str) -> Result<SubscriptionState, GatewayError> {
        let answer: StatusAnswer = self
            .call(
                "manage/subscription/status",
                &SidBody {
                    cid: &self.settings.subscription_cid,
                    sid,
                },
            )
            .await?;
        Ok(SubscriptionState {
            active: answer.available,
            last_approved_at: answer.last_approved_at.as_deref().and_then(kakao_time),
        })
    }

    async fn lookup(&self, tid: &str, subscription: bool) -> Result<PaymentState, GatewayError> {
        let answer: OrderAnswer = self
            .call(
                "order",
                &OrderBody {
                    cid: self.cid(subscription),
                    tid,
                },
            )
            .await?;
        if answer.tid != tid {
            return Err(GatewayError::Mismatch(format!(
                "looked up tid {}, asked {tid}",
                answer.tid
            )));
        }
        Ok(PaymentState {
            tid: answer.tid,
            sid: answer.sid,
            status: gateway_status(&answer.status),
            amount: answer.amount.map_or(0, |a| a.total),
        })
    }
}

impl KakaoPay {
    fn checked(
        answer: ApproveAnswer,
        partner_order_id: &str,
        expected_tid: Option<&str>,
    ) -> Result<Approval, GatewayError> {
        if answer.partner_order_id != partner_order_id
            || expected_tid.is_some_and(|tid| tid != answer.tid)
        {
            return Err(GatewayError::Mismatch(format!(
                "answer for tid {} / order {}, asked order {partner_order_id}",
                answer.tid, answer.partner_order_id
            )));
        }
        Ok(Approval {
            tid: answer.tid,
            aid: answer.aid,
            partner_order_id: answer.partner_order_id,
            amount: answer.amount.total,
            sid: answer.sid,
            approved_at: answer.approved_at.as_deref().and_then(kakao_time),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kakao_times_are_korean_local_time() {
        assert_eq!(
            kakao_time("2026-11-23T10:00:00").unwrap().to_rfc3339(),
            "2026-11-23T01:00:00+00:00"
        );
        assert_eq!(kakao_time("yesterday"), None);
    }

    #[test]
    fn a_recorded_approve_answer_parses() {
        // Shape of the real API's answer (documented example, trimmed of nothing).
        let body = r#"{"aid":"A5678901234567890123","tid":"T1234567890123456789","cid":"TC0ONETIME",
            "partner_order_id":"partner_order_id","partner_user_id":"partner_user_id","payment_method_type":"MONEY",
            "item_name":"초코파이","quantity":1,"amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "created_at":"2016-11-15T21:18:22","approved_at":"2016-11-15T21:20:47"}"#;
        let answer: ApproveAnswer = serde_json::from_str(body).unwrap();
        assert_eq!((answer.amount.total, answer.sid), (2200, None));
        assert_eq!(
            kakao_time(answer.approved_at.as_deref().unwrap())
                .unwrap()
                .to_rfc3339(),
            "2016-11-15T12:20:47+00:00"
        );
    }

    #[test]
    fn kakaopay_statuses_become_core_statuses() {
        assert_eq!(gateway_status("SUCCESS_PAYMENT"), GatewayStatus::Approved);
        assert_eq!(gateway_status("CANCEL_PAYMENT"), GatewayStatus::Canceled);
        assert_eq!(
            gateway_status("PART_CANCEL_PAYMENT"),
            GatewayStatus::PartlyCanceled
        );
        assert_eq!(gateway_status("QUIT_PAYMENT"), GatewayStatus::Failed);
        assert_eq!(gateway_status("AUTH_PASSWORD"), GatewayStatus::Pending);
        assert_eq!(
            gateway_status("NEW_THING"),
            GatewayStatus::Unknown("NEW_THING".into())
        );
    }

    // Answers in the real API's documented shape, with fields the adapter does not read kept in.
    #[test]
    fn recorded_answers_of_every_endpoint_parse() {
        let ready: ReadyAnswer = serde_json::from_str(r#"{"tid":"T1234567890123456789",
            "next_redirect_app_url":"https://online-pay.kakao.com/mockup/v1/abc/aInfo",
            "next_redirect_mobile_url":"https://online-pay.kakao.com/mockup/v1/abc/mInfo",
            "next_redirect_pc_url":"https://online-pay.kakao.com/mockup/v1/abc/info",
            "android_app_scheme":"kakaotalk://kakaopay/pg?url=x","ios_app_scheme":"kakaotalk://kakaopay/pg?url=x",
            "created_at":"2016-11-15T21:18:22"}"#).unwrap();
        assert_eq!(
            ready.next_redirect_pc_url,
            "https://online-pay.kakao.com/mockup/v1/abc/info"
        );
        assert_eq!(
            ready.next_redirect_mobile_url,
            "https://online-pay.kakao.com/mockup/v1/abc/mInfo"
        );
        assert_eq!(
            ready.next_redirect_app_url,
            "https://online-pay.kakao.com/mockup/v1/abc/aInfo"
        );

        let cancel: OrderAnswer = serde_json::from_str(r#"{"aid":"A1","tid":"T1","cid":"TC0ONETIME","status":"CANCEL_PAYMENT",
            "partner_order_id":"1","partner_user_id":"7","payment_method_type":"MONEY",
            "amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "approved_cancel_amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "canceled_amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "cancel_available_amount":{"total":0,"tax_free":0,"vat":0,"point":0,"discount":0,"green_deposit":0},
            "item_name":"초코파이","quantity":1,"created_at":"2016-11-15T21:18:22","approved_at":"2016-11-15T21:20:47",
            "canceled_at":"2016-11-15T21:30:00"}"#).unwrap();
        assert_eq!(
            (cancel.status.as_str(), cancel.amount.map(|a| a.total)),
            ("CANCEL_PAYMENT", Some(2200))
        );

        let order: OrderAnswer = serde_json::from_str(r#"{"tid":"T1","cid":"TCSUBSCRIP","status":"SUCCESS_PAYMENT",
            "partner_order_id":"1","partner_user_id":"7","payment_method_type":"CARD","sid":"S1",
            "amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "canceled_amount":{"total":0},"cancel_available_amount":{"total":2200},"item_name":"초코파이","item_code":"",
            "quantity":1,"created_at":"2016-11-15T21:18:22","approved_at":"2016-11-15T21:20:47",
            "selected_card_info":{"card_bin":"123456","install_month":0,"card_corp_name":"신한카드","interest_free_install":"N"},
            "payment_action_details":[{"aid":"A1","payment_action_type":"PAYMENT","payment_method_type":"CARD","amount":2200,
              "point_amount":0,"discount_amount":0,"green_deposit":0,"approved_at":"2016-11-15T21:20:47"}]}"#).unwrap();
        assert_eq!(
            (order.status.as_str(), order.sid.as_deref()),
            ("SUCCESS_PAYMENT", Some("S1"))
        );

        let charge: ApproveAnswer = serde_json::from_str(r#"{"aid":"A2","tid":"T2","cid":"TCSUBSCRIP","sid":"S1",
            "partner_order_id":"2","partner_user_id":"7","payment_method_type":"CARD","item_name":"초코파이","quantity":1,
            "amount":{"total":2200,"tax_free":0,"vat":200,"point":0,"discount":0,"green_deposit":0},
            "card_info":{"interest_free_install":"N","bin":"123456","card_type":"신용","card_mid":"123","approved_id":"1",
              "install_month":"00","installment_type":"","kakaopay_purchase_corp":"신한카드","kakaopay_purchase_corp_code":"104",
              "kakaopay_issuer_corp":"신한카드","kakaopay_issuer_corp_code":"104"},
            "created_at":"2016-11-15T21:18:22","approved_at":"2016-11-15T21:20:47"}"#).unwrap();
        assert_eq!(
            (charge.amount.total, charge.sid.as_deref()),
            (2200, Some("S1"))
        );

        let status: StatusAnswer = serde_json::from_str(
            r#"{"available":true,"cid":"TCSUBSCRIP","sid":"S1","status":"ACTIVE",
            "payment_method_type":"CARD","item_name":"초코파이","created_at":"2016-11-15T21:18:22",
            "last_approved_at":"2016-12-15T21:18:22"}"#,
        )
        .unwrap();
        assert!(status.available && status.last_approved_at.is_some());

        let inactive: InactiveAnswer = serde_json::from_str(r#"{"cid":"TCSUBSCRIP","sid":"S1","status":"INACTIVE",
            "created_at":"2016-11-15T21:18:22","last_approved_at":"2016-12-15T21:18:22","inactivated_at":"2016-12-20T10:00:00"}"#).unwrap();
        assert_eq!(
            (inactive.sid.as_str(), inactive.status.as_str()),
            ("S1", "INACTIVE")
        );

        let error: KakaoError = serde_json::from_str(r#"{"error_code":-780,"error_message":"approval failure!",
            "extras":{"method_result_code":"USER_LOCKED","method_result_message":"진행중인 거래가 있습니다."}}"#).unwrap();
        assert_eq!(
            (error.error_code, error.error_message.as_str()),
            (-780, "approval failure!")
        );
    }
}
