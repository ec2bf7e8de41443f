//! What one push carries and how it travels: the in-app notification's own words and link
//! (never more), small enough for every push service once encrypted, with a TTL, urgency and
//! topic fitting its kind.

use std::time::Duration;

use serde::Serialize;

use crate::notification::Notice;
use crate::ports::Urgency;

/// The largest encrypted push every push service takes (RFC 8030 asks for 4,096 bytes at
/// least; we stay under 3 KB).
pub const MAX_ENCRYPTED_BYTES: usize = 3072;
/// What aes128gcm adds to the plaintext in one record: the header (salt 16, record size 4,
/// key id length 1, the sender's public key 65), the padding delimiter (1) and the tag (16).
pub const ENCRYPTION_OVERHEAD: usize = 86 + 1 + 16;
/// The largest plaintext, so that the encrypted push stays within [`MAX_ENCRYPTED_BYTES`].
pub const MAX_PAYLOAD_BYTES: usize = MAX_ENCRYPTED_BYTES - ENCRYPTION_OVERHEAD;

/// How a kind's pushes travel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub ttl: Duration,
    pub urgency: Urgency,
    pub topic: Option<String>,
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(86_400);

/// The TTL, urgency and topic of a notice's push (docs/notifications.md has the table). A
/// topic makes a newer push replace an older one the device has not received yet: a room's
/// latest message, an event's latest reminder, a post's latest like count.
pub fn delivery(notice: &Notice) -> Delivery {
    let of = |ttl, urgency, topic: Option<String>| Delivery {
        ttl,
        urgency,
        topic,
    };
    match notice {
        Notice::ChatMessage { room_id, .. } => {
            of(DAY, Urgency::High, Some(format!("chat-{room_id}")))
        }
        Notice::EventReminder { event_id, .. } => {
            of(HOUR, Urgency::High, Some(format!("reminder-{event_id}")))
        }
        Notice::DailyQuestion { .. } => {
            of(12 * HOUR, Urgency::Normal, Some("daily-question".into()))
        }
        Notice::OrderStatus { order_id, .. } => {
            of(DAY, Urgency::Normal, Some(format!("order-{order_id}")))
        }
        Notice::PostLiked { post_id, .. } => {
            of(DAY, Urgency::Low, Some(format!("liked-{post_id}")))
        }
        Notice::ListingWished { listing_id, .. } => {
            of(DAY, Urgency::Low, Some(format!("wished-{listing_id}")))
        }
        // Everything else (and kinds added later) the way a plain notice goes.
        _ => of(DAY, Urgency::Normal, None),
    }
}

/// The JSON a service worker reads from the push (`event.data.json()`).
#[derive(Debug, Serialize)]
struct Payload<'a> {
    /// The in-app notification's id, when the member keeps this kind in the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    #[serde(flatten)]
    notice: &'a Notice,
    title: &'a str,
    body: &'a str,
}

/// The push's plaintext: exactly what the in-app notification shows (id, kind, data, title,
/// body), its body and then its title cut at a character boundary (with `…`) to the longest
/// that fits [`MAX_PAYLOAD_BYTES`].
pub fn payload(id: Option<i64>, notice: &Notice, title: &str, body: &str) -> Vec<u8> {
    let json = |title: &str, body: &str| {
        serde_json::to_vec(&Payload {
            id,
            notice,
            title,
            body,
        })
        .expect("a notice serialises")
    };
    let fits = |title: &str, body: &str| json(title, body).len() <= MAX_PAYLOAD_BYTES;
    if fits(title, body) {
        return json(title, body);
    }
    if fits(title, "") {
        let body = longest_fitting(body, |cut| fits(title, cut));
        return json(title, &body);
    }
    let title = longest_fitting(title, |cut| fits(cut, ""));
    json(&title, "")
}

/// The longest start of `text`, cut at a character boundary and ended with `…`, that `fits`
/// (found by bisection over the boundaries); empty if none does.
fn longest_fitting(text: &str, fits: impl Fn(&str) -> bool) -> String {
    let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).collect();
    let cut = |chars: usize| format!("{}…", &text[..boundaries[chars]]);
    // `low` characters fit (zero always counts); `high` do not.
    let (mut low, mut high) = (0, boundaries.len());
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(&cut(middle)) {
            low = middle;
        } else {
            high = middle;
        }
    }
    if low == 0 { String::new() } else { cut(low) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_body_is_cut_at_a_character_boundary_to_fit() {
        let notice = Notice::ChatMessage {
            room_id: 1,
            listing_id: 2,
            message_id: 3,
        };
        // Three bytes a character, and a quote that JSON escapes.
        let body = "멍\"".repeat(2000);
        let bytes = payload(Some(7), &notice, "콩이님의 메시지", &body);
        assert!(bytes.len() <= MAX_PAYLOAD_BYTES);
        // As long as fits: one more character would not.
        assert!(bytes.len() > MAX_PAYLOAD_BYTES - 8);
        let read: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(read["title"], "콩이님의 메시지");
        assert!(read["body"].as_str().unwrap().ends_with('…'));
        assert_eq!(read["data"]["room_id"], 1);
        assert_eq!(read["kind"], "CHAT_MESSAGE");
    }

    #[test]
    fn a_short_notice_goes_whole() {
        let notice = Notice::DailyQuestion { question_id: 5 };
        let bytes = payload(None, &notice, "오늘의 질문", "");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
            serde_json::json!({"kind": "DAILY_QUESTION", "data": {"question_id": 5}, "title": "오늘의 질문", "body": ""})
        );
    }

    #[test]
    fn topics_are_short_base64url() {
        let topic = delivery(&Notice::ChatMessage {
            room_id: i64::MAX,
            listing_id: 1,
            message_id: 1,
        })
        .topic
        .unwrap();
        assert!(topic.len() <= 32);
        assert!(
            topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
