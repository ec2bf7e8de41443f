//! Being told (#27): an author hears that members liked their post, how many, at most once an
//! hour per post (never of their own like, nor of one across a block, nor twice of one like);
//! an author hears that an admin hid, deleted or showed again their content, and why; a
//! reporter hears how their report was resolved, without whose content it was or its words.
//! Each kind has its own switch and arrives live.

use chrono::TimeDelta;
use petory_core::community::board;
use reqwest::Method;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use crate::client::{Client, Member};
use crate::fixtures::community::{Comment, Community as _, Created, Notification};
use crate::notifications::{next_events, open_stream};
use crate::util::{ClockExt as _, TestApp, assert_problem};

const SETTINGS: &str = "/api/v1/users/me/notification-settings";

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Liked {
    post_id: i64,
    like_count: i64,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Moderated {
    target_type: String,
    target_id: i64,
    action: String,
    reason: String,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
struct Resolved {
    report_id: i64,
    target_type: String,
    target_id: i64,
    resolution: String,
}

#[derive(Debug, Deserialize)]
struct LikeState {
    liked: bool,
}

#[derive(Debug, Deserialize, Clone, Copy)]
struct Channels {
    in_app: bool,
}

#[derive(Debug, Deserialize)]
struct Settings {
    kinds: std::collections::BTreeMap<String, Channels>,
}

/// My notifications of `kind`, newest first.
async fn told<D: serde::de::DeserializeOwned>(member: &Member, kind: &str) -> Vec<Notification<D>> {
    member
        .notifications_as::<Value>()
        .await
        .into_iter()
        .filter(|notification| notification.kind == kind)
        .map(|notification| Notification {
            kind: notification.kind,
            title: notification.title,
            body: notification.body,
            data: serde_json::from_value(notification.data).unwrap(),
        })
        .collect()
}

async fn like(member: &Member, post: i64) {
    let state: LikeState = member
        .put(&format!("/api/v1/owner-boards/{post}/like"), json!({}))
        .await;
    assert!(state.liked);
}

/// One pass of the `post-likes` job at the test clock's time, then the outbox relayed.
async fn tell_likes(app: &TestApp) -> usize {
    let mut conn = app.state.db.get().await.unwrap();
    let told = board::tell_likes(&mut conn, app.clock.now_utc(), 100)
        .await
        .unwrap();
    drop(conn);
    app.relay_events().await;
    told
}

async fn switch_off(member: &Member, kind: &str) {
    let settings: Settings = member
        .patch(SETTINGS, json!({"kinds": {kind: {"in_app": false}}}))
        .await;
    assert!(!settings.kinds[kind].in_app);
}

async fn report(member: &Member, target_type: &str, target_id: i64) -> i64 {
    let created: Created = member
        .post(
            "/api/v1/reports",
            json!({"target_type": target_type, "target_id": target_id, "reason": "SPAM",
                   "detail": "광고"}),
        )
        .await;
    created.id
}

async fn decide(admin: &Member, target_type: &str, target_id: i64, action: &str, note: &str) {
    let _: IgnoredAny = admin
        .post(
            "/api/v1/admin/moderation-decisions",
            json!({"target_type": target_type, "target_id": target_id, "action": action,
                   "note": note}),
        )
        .await;
}

#[tokio::test]
async fn every_new_kind_has_its_own_switch_on_by_default() {
    let app = TestApp::spawn().await;
    let member = app.member("me@example.com").await;
    let settings: Settings = member.get(SETTINGS).await;
    for kind in ["POST_LIKED", "CONTENT_MODERATED", "REPORT_RESOLVED"] {
        assert!(settings.kinds[kind].in_app, "{kind}");
    }
    assert_problem(
        app.guest().request(Method::GET, SETTINGS, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn likes_are_told_at_most_hourly_per_post_with_their_count_never_ones_own_nor_across_a_block()
{
    let app = TestApp::spawn().await;
    let author = app.member("author@example.com").await;
    let fan = app.member("fan@example.com").await;
    let second = app.member("second@example.com").await;
    let pest = app.member("pest@example.com").await;
    let walk = app.post_by(&author, "산책 코스", "한강").await.id;
    let treats = app.post_by(&author, "간식 추천", "고구마").await.id;
    let mut stream = open_stream(&app.base_url, &author.token, None).await;

    // My own like, and one from a member I then block, tell me nothing; the fan's does.
    like(&author, walk).await;
    like(&pest, walk).await;
    let blocked = author
        .request(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", pest.id),
            None,
        )
        .await;
    assert_eq!(blocked.status(), 204);
    like(&fan, walk).await;
    like(&fan, treats).await;
    assert_eq!(tell_likes(&app).await, 2, "one notice per post");
    assert_eq!(next_events(&mut stream, 2).await.len(), 2, "live");
    let mut notices = told::<Liked>(&author, "POST_LIKED").await;
    notices.sort_by_key(|notice| notice.data.post_id);
    assert_eq!(
        notices
            .iter()
            .map(|notice| &notice.data)
            .collect::<Vec<_>>(),
        [
            &Liked {
                post_id: walk,
                like_count: 1
            },
            &Liked {
                post_id: treats,
                like_count: 1
            }
        ]
    );
    assert_eq!(notices[0].title, "1명이 내 글을 좋아해요");
    assert!(
        !notices[0].body.contains(&format!("회원{}", fan.id)),
        "never who"
    );

    // Within the hour more likes wait; a like taken back meanwhile is not told again.
    like(&second, walk).await;
    assert_eq!(tell_likes(&app).await, 0, "not twice within the hour");
    let _: IgnoredAny = fan
        .delete(&format!("/api/v1/owner-boards/{walk}/like"))
        .await;
    app.clock.advance(TimeDelta::minutes(30));
    assert_eq!(tell_likes(&app).await, 0, "still within the hour");

    app.clock.advance(TimeDelta::minutes(31));
    assert_eq!(
        tell_likes(&app).await,
        1,
        "the walk's second like, after the hour"
    );
    assert_eq!(tell_likes(&app).await, 0, "and not again");
    let author = author.logged_in_again(&app).await;
    let notices = told::<Liked>(&author, "POST_LIKED").await;
    assert_eq!(notices.len(), 3);
    assert_eq!(
        notices[0].data,
        Liked {
            post_id: walk,
            like_count: 1
        },
        "the second member's like alone"
    );

    // Nothing new: nothing told, however long it waits. Switched off: nothing reaches me.
    app.clock.advance(TimeDelta::hours(2));
    assert_eq!(tell_likes(&app).await, 0);
    let author = author.logged_in_again(&app).await;
    switch_off(&author, "POST_LIKED").await;
    let second = second.logged_in_again(&app).await;
    like(&second, treats).await;
    assert_eq!(tell_likes(&app).await, 1, "asked for");
    assert_eq!(
        told::<Liked>(&author, "POST_LIKED").await.len(),
        3,
        "but not wanted"
    );
}

#[tokio::test]
async fn authors_hear_why_their_content_was_hidden_deleted_or_shown_again() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let author = app.member("author@example.com").await;
    let reader = app.member("reader@example.com").await;
    let post = app.post_by(&author, "내 글", "본문").await.id;
    let comment: Comment = reader.comment(post, "광고 링크입니다", None).await;
    let mut stream = open_stream(&app.base_url, &reader.token, None).await;

    decide(&admin, "COMMENT", comment.id, "HIDE", "광고 링크").await;
    app.relay_events().await;
    assert_eq!(next_events(&mut stream, 1).await.len(), 1, "live");
    decide(&admin, "COMMENT", comment.id, "DISMISS", "오해였어요").await;
    // Shown already: a dismissal that changes nothing tells nothing.
    decide(&admin, "COMMENT", comment.id, "DISMISS", "다시 봤어요").await;
    decide(&admin, "COMMENT", comment.id, "DELETE", "반복 광고").await;
    app.relay_events().await;
    app.relay_events().await;

    let notices = told::<Moderated>(&reader, "CONTENT_MODERATED").await;
    let seen: Vec<(&str, &str)> = notices
        .iter()
        .map(|notice| (notice.data.action.as_str(), notice.data.reason.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("DELETE", "반복 광고"),
            ("SHOW", "오해였어요"),
            ("HIDE", "광고 링크")
        ],
        "newest first, once each"
    );
    assert!(
        notices
            .iter()
            .all(|notice| notice.data.target_type == "COMMENT"
                && notice.data.target_id == comment.id)
    );
    assert_eq!(
        notices[0].title,
        "내 댓글이(가) 운영 정책에 따라 삭제되었어요"
    );
    assert_eq!(notices[0].body, "사유: 반복 광고");
    assert!(
        told::<Value>(&author, "CONTENT_MODERATED").await.is_empty(),
        "the post's author is not the comment's"
    );

    // Switched off, the author hears nothing of the next decision.
    switch_off(&author, "CONTENT_MODERATED").await;
    decide(&admin, "POST", post, "HIDE", "정책 위반").await;
    app.relay_events().await;
    assert!(told::<Value>(&author, "CONTENT_MODERATED").await.is_empty());
}

#[tokio::test]
async fn reporters_hear_how_their_reports_were_resolved_without_whose_or_what() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let author = app.member("author@example.com").await;
    let first = app.member("first@example.com").await;
    let second = app.member("second@example.com").await;
    let quiet = app.member("quiet@example.com").await;
    let post = app
        .post_by(&author, "수상한 글", "비밀스러운 광고 문구")
        .await
        .id;
    let mut stream = open_stream(&app.base_url, &first.token, None).await;

    let first_report = report(&first, "POST", post).await;
    let second_report = report(&second, "POST", post).await;
    report(&quiet, "POST", post).await;
    switch_off(&quiet, "REPORT_RESOLVED").await;
    // One decision resolves every open report of the post.
    let _: IgnoredAny = admin
        .post(
            &format!("/api/v1/admin/reports/{first_report}/resolve"),
            json!({"action": "DELETE", "note": "광고"}),
        )
        .await;
    app.relay_events().await;
    app.relay_events().await;
    assert_eq!(next_events(&mut stream, 1).await.len(), 1, "live");

    for (reporter, id) in [(&first, first_report), (&second, second_report)] {
        let notices = told::<Resolved>(reporter, "REPORT_RESOLVED").await;
        assert_eq!(notices.len(), 1, "once");
        assert_eq!(
            notices[0].data,
            Resolved {
                report_id: id,
                target_type: "POST".into(),
                target_id: post,
                resolution: "DELETE".into()
            }
        );
        let words = format!("{} {}", notices[0].title, notices[0].body);
        assert!(words.contains("삭제"), "{words}");
        for secret in ["수상한 글", "비밀스러운", &format!("회원{}", author.id)] {
            assert!(!words.contains(secret), "{secret} in {words}");
        }
    }
    assert!(
        told::<Value>(&quiet, "REPORT_RESOLVED").await.is_empty(),
        "switched off"
    );
    let removed = told::<Moderated>(&author, "CONTENT_MODERATED").await;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].data.action, "DELETE");

    // A dismissed report is told as such.
    let other = app.post_by(&author, "평범한 글", "산책").await.id;
    let dismissed = report(&first, "POST", other).await;
    let _: IgnoredAny = admin
        .post(
            &format!("/api/v1/admin/reports/{dismissed}/resolve"),
            json!({"action": "DISMISS", "note": "문제 없음"}),
        )
        .await;
    app.relay_events().await;
    let notices = told::<Resolved>(&first, "REPORT_RESOLVED").await;
    assert_eq!(notices[0].data.report_id, dismissed);
    assert_eq!(notices[0].data.resolution, "DISMISS");
    assert_eq!(
        told::<Value>(&author, "CONTENT_MODERATED").await.len(),
        1,
        "leaving content up tells its author nothing"
    );
}
