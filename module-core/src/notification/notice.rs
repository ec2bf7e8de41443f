//! What a notification is about: its kind with what the client links to (`data`), one shape per
//! kind. Ids and states are plain values, so that the domains that notify name their own types
//! and this module names none of them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::NotificationKind;

/// A notification's kind and its `data`, stored as the two columns `kind` and `data` and sent
/// as the two fields of those names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Notice {
    /// The question of the day is out.
    DailyQuestion { question_id: i64 },
    /// An order changed: its status, its payment's, or both.
    OrderStatus {
        order_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        payment_status: Option<String>,
    },
    /// A renewal's charge failed (it is tried again).
    SubscriptionPaymentFailed(SubscriptionCycle),
    /// A subscription ended after its charges kept failing.
    SubscriptionCanceled(SubscriptionCycle),
    /// A message in a chat room while its reader was away.
    ChatMessage {
        room_id: i64,
        listing_id: i64,
        message_id: i64,
    },
    /// A calendar event's reminder.
    EventReminder {
        event_id: i64,
        occurrence_date: NaiveDate,
        minutes_before: i32,
    },
    /// A pet's D-day is today.
    PetDday {
        pet_id: i64,
        /// `BIRTHDAY`, `ADOPTION` or `DAYS_TOGETHER`.
        kind: String,
        number: i64,
        date: NaiveDate,
    },
    /// Someone commented on my post.
    PostCommented { post_id: i64, comment_id: i64 },
    /// Someone replied to my comment.
    CommentReplied {
        post_id: i64,
        comment_id: i64,
        /// My comment.
        parent_id: i64,
    },
    /// Someone wished for my listing; how many wish for it now.
    ListingWished { listing_id: i64, wish_count: i32 },
    /// A listing I wished for got cheaper (KRW).
    WishedPriceDropped {
        listing_id: i64,
        old_price: i64,
        new_price: i64,
    },
    /// Members liked my post: how many since I was last told of its likes (never who).
    PostLiked { post_id: i64, like_count: i64 },
    /// An admin decided about my content: `HIDE`, `DELETE`, or `SHOW` (a hidden one shown
    /// again); `target_type` as reports name it, and the admin's reason.
    ContentModerated {
        target_type: String,
        target_id: i64,
        action: String,
        reason: String,
    },
    /// A report I made was resolved: `DISMISS`, `HIDE` or `DELETE` (never whose content it was,
    /// nor its words).
    ReportResolved {
        report_id: i64,
        target_type: String,
        target_id: i64,
        resolution: String,
    },
    /// My order left with a courier: its code (`CJ`, …), the invoice number and the courier's
    /// tracking page of it.
    OrderShipped {
        order_id: i64,
        courier: String,
        tracking_number: String,
        tracking_url: String,
    },
}

/// A subscription's cycle that a billing notice is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubscriptionCycle {
    pub subscription_id: i64,
    pub cycle_date: NaiveDate,
}

impl Notice {
    pub fn kind(&self) -> NotificationKind {
        match self {
            Self::DailyQuestion { .. } => NotificationKind::DailyQuestion,
            Self::OrderStatus { .. } => NotificationKind::OrderStatus,
            Self::SubscriptionPaymentFailed(_) => NotificationKind::SubscriptionPaymentFailed,
            Self::SubscriptionCanceled(_) => NotificationKind::SubscriptionCanceled,
            Self::ChatMessage { .. } => NotificationKind::ChatMessage,
            Self::EventReminder { .. } => NotificationKind::EventReminder,
            Self::PetDday { .. } => NotificationKind::PetDday,
            Self::PostCommented { .. } => NotificationKind::PostCommented,
            Self::CommentReplied { .. } => NotificationKind::CommentReplied,
            Self::ListingWished { .. } => NotificationKind::ListingWished,
            Self::WishedPriceDropped { .. } => NotificationKind::WishedPriceDropped,
            Self::PostLiked { .. } => NotificationKind::PostLiked,
            Self::ContentModerated { .. } => NotificationKind::ContentModerated,
            Self::ReportResolved { .. } => NotificationKind::ReportResolved,
            Self::OrderShipped { .. } => NotificationKind::OrderShipped,
        }
    }

    /// The `data` column: the notice without its kind.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut fields)) => {
                fields.remove("data").unwrap_or(serde_json::Value::Null)
            }
            _ => serde_json::Value::Null,
        }
    }

    /// The notice stored as `kind` and `data`.
    pub fn read(kind: NotificationKind, data: serde_json::Value) -> serde_json::Result<Self> {
        serde_json::from_value(serde_json::json!({ "kind": kind, "data": data }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
    }

    fn one_of_each() -> Vec<Notice> {
        let cycle = SubscriptionCycle {
            subscription_id: 3,
            cycle_date: date(),
        };
        vec![
            Notice::DailyQuestion { question_id: 1 },
            Notice::OrderStatus {
                order_id: 7,
                status: Some("PAID".into()),
                payment_status: None,
            },
            Notice::SubscriptionPaymentFailed(cycle.clone()),
            Notice::SubscriptionCanceled(cycle),
            Notice::ChatMessage {
                room_id: 1,
                listing_id: 2,
                message_id: 3,
            },
            Notice::EventReminder {
                event_id: 4,
                occurrence_date: date(),
                minutes_before: 30,
            },
            Notice::PetDday {
                pet_id: 5,
                kind: "BIRTHDAY".into(),
                number: 3,
                date: date(),
            },
            Notice::PostCommented {
                post_id: 6,
                comment_id: 7,
            },
            Notice::CommentReplied {
                post_id: 6,
                comment_id: 8,
                parent_id: 7,
            },
            Notice::ListingWished {
                listing_id: 9,
                wish_count: 2,
            },
            Notice::WishedPriceDropped {
                listing_id: 9,
                old_price: 30_000,
                new_price: 25_000,
            },
            Notice::PostLiked {
                post_id: 6,
                like_count: 3,
            },
            Notice::ContentModerated {
                target_type: "COMMENT".into(),
                target_id: 8,
                action: "HIDE".into(),
                reason: "광고".into(),
            },
            Notice::ReportResolved {
                report_id: 10,
                target_type: "POST".into(),
                target_id: 6,
                resolution: "DELETE".into(),
            },
            Notice::OrderShipped {
                order_id: 7,
                courier: "CJ".into(),
                tracking_number: "123456789012".into(),
                tracking_url: "https://trace.cjlogistics.com/next/tracking.html?wblNo=123456789012"
                    .into(),
            },
        ]
    }

    #[test]
    fn every_kind_has_one_notice_whose_tag_is_the_kind() {
        let notices = one_of_each();
        assert_eq!(notices.len(), NotificationKind::ALL.len());
        for notice in notices {
            let json = serde_json::to_value(&notice).unwrap();
            assert_eq!(json["kind"], notice.kind().as_str());
            assert_eq!(Notice::read(notice.kind(), notice.data()).unwrap(), notice);
        }
    }

    #[test]
    fn data_keeps_the_shapes_clients_read() {
        let order = Notice::OrderStatus {
            order_id: 7,
            status: None,
            payment_status: Some("REFUND_FAILED".into()),
        };
        assert_eq!(
            order.data(),
            serde_json::json!({"order_id": 7, "payment_status": "REFUND_FAILED"})
        );
        let failed = Notice::SubscriptionPaymentFailed(SubscriptionCycle {
            subscription_id: 3,
            cycle_date: date(),
        });
        assert_eq!(
            failed.data(),
            serde_json::json!({"subscription_id": 3, "cycle_date": "2026-12-07"})
        );
    }
}
