//! Every text a user reads from us (notifications and mails), in one place, so that wording is
//! reviewed and translated together and services only say which message and with what.
//!
//! Korean is the product's language; mails that start an account also carry English.

/// The name a dormant member is shown by while their details are set aside.
pub const DORMANT_MEMBER: &str = "휴면 회원";
/// The name a withdrawn member's kept records (orders, posts) are shown by.
pub const WITHDRAWN_MEMBER: &str = "탈퇴 회원";
/// What a chat message taken back (or deleted by moderation) shows in its place, to both.
pub const DELETED_CHAT_MESSAGE: &str = "메시지가 삭제되었습니다";
/// The name a member's comments show to whoever blocked them (the thread keeps its shape).
pub const BLOCKED_MEMBER: &str = "차단한 회원";

/// A notification's title and body, or a mail's subject and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub body: String,
}

impl Message {
    pub(crate) fn new(title: &str, body: String) -> Self {
        Self {
            title: title.to_owned(),
            body,
        }
    }
}

/// The mail that confirms an email address; `link` is valid for 48 hours.
pub fn verify_email(name: &str, link: &str) -> Message {
    Message::new(
        "[Petory] 이메일 주소를 확인해 주세요 (Confirm your email address)",
        format!(
            "{name}님, 아래 링크를 열어 이메일 주소를 확인해 주세요. 48시간 동안 유효합니다.\n\
             Open this link to confirm your email address (valid for 48 hours):\n\n{link}\n"
        ),
    )
}

/// The mail to an address that someone tried to sign up with again (at most once an hour).
pub fn signup_attempt() -> Message {
    Message::new(
        "[Petory] 이 주소로 가입 시도가 있었어요 (Someone tried to sign up)",
        "이 이메일 주소로 Petory 계정이 이미 있습니다. 방금 가입하려 하셨다면 로그인하시거나, \
         비밀번호가 기억나지 않으면 앱에서 비밀번호 재설정을 요청하세요. 본인이 아니라면 이 메일은 \
         무시하셔도 됩니다.\n\
         This address already has a Petory account. If it was you, log in, or ask for a password \
         reset in the app. If it was not you, ignore this mail.\n"
            .to_owned(),
    )
}

/// The mail that resets a password; `link` (and the `code` in it) works once, for 30 minutes.
pub fn password_reset(name: &str, link: &str, code: &str) -> Message {
    Message::new(
        "[Petory] 비밀번호 재설정 (Reset your password)",
        format!(
            "{name}님, 아래 링크를 열어 새 비밀번호를 정해 주세요. 30분 동안 한 번 쓸 수 있습니다. \
             재설정하면 모든 기기에서 로그아웃되고 캘린더 구독 주소도 멈춥니다.\n\
             Open this link to choose a new password (once, within 30 minutes). Every session \
             ends, and so does your calendar feed's address.\n\n{link}\n\n\
             재설정 코드 (reset code): {code}\n\n\
             요청하지 않으셨다면 이 메일을 무시하세요. If you did not ask for this, ignore it.\n"
        ),
    )
}

/// The mail sent `warning_days` before an account that has not signed in for `idle_days`
/// turns dormant.
pub fn dormancy_warning(name: &str, idle_days: i64, warning_days: i64) -> Message {
    Message::new(
        "[Petory] 휴면 계정 전환 안내",
        format!(
            "{name}님, {idle_days}일 동안 로그인하지 않으면 {warning_days}일 뒤 계정이 휴면 상태로 \
             바뀌고 개인정보는 따로 보관됩니다. 그 전에 로그인하면 그대로 이용할 수 있어요."
        ),
    )
}

/// The mail sent `warning_days` before a dormant or withdrawn account is deleted.
pub fn deletion_warning(name: &str, warning_days: i64) -> Message {
    Message::new(
        "[Petory] 계정 삭제 예정 안내",
        format!(
            "{name}님의 계정과 개인정보가 {warning_days}일 뒤 삭제됩니다. 주문과 결제 기록은 법령에 \
             따라 개인을 알아볼 수 없는 형태로 보관됩니다."
        ),
    )
}

/// A renewal charge failed and will be retried.
pub fn renewal_failed(item_name: &str) -> Message {
    Message::new(
        "정기결제에 실패했어요",
        format!("{item_name} 정기결제에 실패했습니다. 내일 다시 시도할게요."),
    )
}

/// Renewal charges kept failing, so the subscription ended.
pub fn subscription_ended_after_failures(item_name: &str) -> Message {
    Message::new(
        "정기구독이 해지되었어요",
        format!(
            "{item_name} 정기결제가 계속 실패해서 구독을 해지했습니다. 결제 수단을 확인한 뒤 다시 \
             구독해 주세요."
        ),
    )
}

/// How the payment page names an order: its first item, and how many more.
pub fn order_item_name(first: &str, more: usize) -> String {
    if more == 0 {
        first.to_owned()
    } else {
        format!("{first} 외 {more}건")
    }
}

/// The moderation log's note when enough reports hid content before any admin looked.
pub fn auto_hide_note(weight: f64) -> String {
    format!("신고 가중치 {weight:.2}로 자동 숨김 (hidden by open reports weighing {weight:.2})")
}

/// A chat message for someone with no chat open: the sender's name and the words (or that it
/// is a photo), cut short.
pub fn chat_message(sender_name: &str, text: Option<&str>) -> Message {
    let excerpt = text.map_or_else(|| "사진을 보냈습니다.".to_owned(), excerpt);
    Message::new("새 채팅 메시지", format!("{sender_name}: {excerpt}"))
}

/// A comment on the reader's post: who wrote it, on which post, and its words cut short.
pub fn post_commented(commenter: &str, post_title: &str, comment: &str) -> Message {
    Message::new(
        &format!("{commenter}님이 내 글에 댓글을 남겼어요"),
        format!("「{}」 {}", excerpt(post_title), excerpt(comment)),
    )
}

/// A reply to the reader's comment: who wrote it, and its words cut short.
pub fn comment_replied(replier: &str, reply: &str) -> Message {
    Message::new(
        &format!("{replier}님이 내 댓글에 답글을 남겼어요"),
        excerpt(reply),
    )
}

/// Someone wished for the reader's listing: never who, only how many wish for it now.
pub fn listing_wished(title: &str, wish_count: i32) -> Message {
    Message::new(
        "누군가 내 상품을 찜했어요",
        format!("「{}」 관심 {wish_count}", excerpt(title)),
    )
}

/// A listing the reader wished for is cheaper now (KRW).
pub fn wished_price_dropped(title: &str, old_price: i64, new_price: i64) -> Message {
    Message::new(
        "찜한 상품의 가격이 내렸어요",
        format!("「{}」 {old_price}원 → {new_price}원", excerpt(title)),
    )
}

/// Members liked the reader's post: how many since the reader was last told, never who.
pub fn post_liked(post_title: &str, like_count: i64) -> Message {
    Message::new(
        &format!("{like_count}명이 내 글을 좋아해요"),
        format!("「{}」", excerpt(post_title)),
    )
}

/// How notifications name a kind of content (`TargetType` as reports name it).
fn content_name(target_type: &str) -> &'static str {
    match target_type {
        "POST" => "게시글",
        "COMMENT" => "댓글",
        "LISTING" => "판매글",
        "CHAT_MESSAGE" => "채팅 메시지",
        "PLACE_REVIEW" => "장소 리뷰",
        "ALBUM_PHOTO" => "사진",
        _ => "콘텐츠",
    }
}

/// An admin hid (`HIDE`), deleted (`DELETE`) or showed again (`SHOW`) the reader's content,
/// and why.
pub fn content_moderated(target_type: &str, action: &str, reason: &str) -> Message {
    let what = content_name(target_type);
    let done = match action {
        "HIDE" => "숨김 처리되었어요",
        "DELETE" => "삭제되었어요",
        _ => "다시 보이게 되었어요",
    };
    Message::new(
        &format!("내 {what}이(가) 운영 정책에 따라 {done}"),
        format!("사유: {}", excerpt(reason)),
    )
}

/// A report the reader made was resolved: dismissed, or the content hidden or deleted. Never
/// whose content it was, nor its words.
pub fn report_resolved(target_type: &str, resolution: &str) -> Message {
    let what = content_name(target_type);
    let body = match resolution {
        "HIDE" => format!("신고하신 {what}을(를) 검토해 숨김 처리했어요. 알려 주셔서 고마워요."),
        "DELETE" => format!("신고하신 {what}을(를) 검토해 삭제했어요. 알려 주셔서 고마워요."),
        _ => format!("신고하신 {what}을(를) 검토했지만 운영 정책 위반을 찾지 못했어요."),
    };
    Message::new("신고 처리 결과를 알려 드려요", body)
}

/// Words cut to 100 characters, as notifications show them.
fn excerpt(text: &str) -> String {
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_of_several_items_is_named_by_its_first() {
        assert_eq!(order_item_name("Omega-3", 0), "Omega-3");
        assert_eq!(order_item_name("Omega-3", 2), "Omega-3 외 2건");
    }

    #[test]
    fn chat_notifications_cut_long_words_and_name_photos() {
        let long = "가".repeat(150);
        let message = chat_message("보리", Some(&long));
        assert_eq!(message.body, format!("보리: {}…", "가".repeat(100)));
        assert_eq!(chat_message("보리", None).body, "보리: 사진을 보냈습니다.");
    }
}
