//! Members are told when someone answers them (a comment on their post, a reply to their
//! comment), once, never of their own words nor by someone either of them blocks; and they choose
//! per kind and channel what reaches them.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use crate::fixtures::{Trade, post, trade};
use crate::util::{TestApp, assert_problem};

#[derive(Debug, Deserialize)]
struct NotificationPage {
    items: Vec<Notification>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Notification {
    kind: String,
    title: String,
    body: String,
    data: serde_json::Value,
}

#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
struct Channels {
    in_app: bool,
    push: bool,
    mail: bool,
}

#[derive(Debug, Deserialize)]
struct Settings {
    kinds: BTreeMap<String, Channels>,
    muted_rooms: Vec<i64>,
}

#[derive(Debug, Deserialize)]
struct Created {
    id: i64,
}

/// A member of the board, with what reached them.
struct Member {
    id: i64,
    token: String,
}

impl Member {
    async fn new(app: &TestApp, email: &str) -> Self {
        let (id, token) = app.user(email).await;
        Self { id, token }
    }

    async fn notifications(&self, app: &TestApp) -> Vec<Notification> {
        let page: NotificationPage =
            serde_json::from_value(app.get_ok_as("/api/v1/notifications", &self.token).await)
                .unwrap();
        page.items
    }

    async fn comment(&self, app: &TestApp, post: i64, text: &str, parent: Option<i64>) -> i64 {
        let created: Created = serde_json::from_value(
            app.post_ok(
                &format!("/api/v1/owner-boards/{post}/comments"),
                Some(&self.token),
                json!({"content": text, "parent_id": parent}),
            )
            .await,
        )
        .unwrap();
        created.id
    }

    async fn settings(&self, app: &TestApp) -> Settings {
        serde_json::from_value(
            app.get_ok_as("/api/v1/users/me/notification-settings", &self.token)
                .await,
        )
        .unwrap()
    }

    async fn change_settings(&self, app: &TestApp, change: serde_json::Value) -> Settings {
        serde_json::from_value(
            app.send_ok(
                Method::PATCH,
                "/api/v1/users/me/notification-settings",
                Some(&self.token),
                Some(change),
            )
            .await,
        )
        .unwrap()
    }
}

fn kinds(notifications: &[Notification]) -> Vec<&str> {
    notifications.iter().map(|n| n.kind.as_str()).collect()
}

#[tokio::test]
async fn comments_and_replies_reach_whom_they_answer_once_and_never_their_writer() {
    let app = TestApp::spawn().await;
    let author = Member::new(&app, "author@example.com").await;
    let other = Member::new(&app, "other@example.com").await;
    let third = Member::new(&app, "third@example.com").await;
    let post_id = post(&app, &author.token, "산책 코스 추천", "어디가 좋을까요?").await["id"]
        .as_i64()
        .unwrap();

    // A comment on my post.
    let first = other.comment(&app, post_id, "한강 공원이요", None).await;
    app.relay_events().await;
    let told = author.notifications(&app).await;
    assert_eq!(kinds(&told), ["POST_COMMENTED"]);
    assert_eq!(
        told[0].data,
        json!({"post_id": post_id, "comment_id": first})
    );
    assert!(told[0].body.contains("한강 공원이요"), "{}", told[0].body);
    assert!(told[0].body.contains("산책 코스 추천"), "{}", told[0].body);
    assert!(
        other.notifications(&app).await.is_empty(),
        "not of one's own"
    );

    // The author replies: the commenter hears of it, the author of nothing of their own.
    let reply = author
        .comment(&app, post_id, "고마워요!", Some(first))
        .await;
    app.relay_events().await;
    let told = other.notifications(&app).await;
    assert_eq!(kinds(&told), ["COMMENT_REPLIED"]);
    assert_eq!(
        told[0].data,
        json!({"post_id": post_id, "comment_id": reply, "parent_id": first})
    );
    assert_eq!(author.notifications(&app).await.len(), 1);

    // A third member replies to that comment: its writer and the post's author both hear.
    third
        .comment(&app, post_id, "저도 가봤어요", Some(first))
        .await;
    app.relay_events().await;
    assert_eq!(
        kinds(&other.notifications(&app).await),
        ["COMMENT_REPLIED", "COMMENT_REPLIED"]
    );
    assert_eq!(
        kinds(&author.notifications(&app).await),
        ["POST_COMMENTED", "POST_COMMENTED"]
    );

    // A reply to the author's own comment on their post tells them once, as a reply.
    let own = author.comment(&app, post_id, "정리하면", None).await;
    third.comment(&app, post_id, "좋아요", Some(own)).await;
    app.relay_events().await;
    assert_eq!(
        kinds(&author.notifications(&app).await),
        ["COMMENT_REPLIED", "POST_COMMENTED", "POST_COMMENTED"]
    );
    // A relay run again sends nothing twice.
    app.relay_events().await;
    assert_eq!(author.notifications(&app).await.len(), 3);
}

#[tokio::test]
async fn a_block_stops_comments_and_notices_and_leaves_a_placeholder_in_the_thread() {
    let app = TestApp::spawn().await;
    let author = Member::new(&app, "author@example.com").await;
    let pest = Member::new(&app, "pest@example.com").await;
    let post_id = post(&app, &author.token, "우리 집 고양이", "귀엽죠").await["id"]
        .as_i64()
        .unwrap();
    let comment = pest.comment(&app, post_id, "별로네요", None).await;
    app.relay_events().await;
    assert_eq!(author.notifications(&app).await.len(), 1);
    let response = app
        .send(
            Method::PUT,
            &format!("/api/v1/users/me/blocks/{}", pest.id),
            Some(&author.token),
            None,
        )
        .await;
    assert_eq!(response.status(), 204);

    // The blocked member comments no more on the blocker's posts.
    let refused = app
        .post_json(
            &format!("/api/v1/owner-boards/{post_id}/comments"),
            Some(&pest.token),
            json!({"content": "또 왔어요"}),
        )
        .await;
    assert_problem(refused, 403, "COMMENT_BLOCKED").await;
    // The author may still answer on their own post; the blocked member hears nothing of it.
    author
        .comment(&app, post_id, "그만하세요", Some(comment))
        .await;
    app.relay_events().await;
    assert!(pest.notifications(&app).await.is_empty());
    assert_eq!(author.notifications(&app).await.len(), 1);

    // The blocker reads the blocked member's comment as a placeholder that keeps the thread;
    // others read it as it is.
    let thread = |token: Option<String>| {
        let app = &app;
        async move {
            let response = app
                .send(
                    Method::GET,
                    &format!("/api/v1/owner-boards/{post_id}/comments"),
                    token.as_deref(),
                    None,
                )
                .await;
            let page: serde_json::Value = response.json().await.unwrap();
            page["items"].as_array().unwrap().clone()
        }
    };
    let seen = thread(Some(author.token.clone())).await;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0]["author_blocked"], true);
    assert_eq!(seen[0]["content"], "");
    assert_eq!(seen[0]["author_name"], "차단한 회원");
    assert_eq!(seen[1]["parent_id"], comment);
    let seen = thread(None).await;
    assert_eq!(seen[0]["author_blocked"], false);
    assert_eq!(seen[0]["content"], "별로네요");
}

#[tokio::test]
async fn settings_start_on_in_the_app_and_a_kind_switched_off_reaches_nobody() {
    let app = TestApp::spawn().await;
    let author = Member::new(&app, "author@example.com").await;
    let other = Member::new(&app, "other@example.com").await;

    let settings = author.settings(&app).await;
    assert!(settings.muted_rooms.is_empty());
    assert!(
        settings.kinds.len() >= 9,
        "every kind: {:?}",
        settings.kinds
    );
    for (kind, channels) in &settings.kinds {
        assert_eq!(
            *channels,
            Channels {
                in_app: true,
                push: true,
                mail: false
            },
            "{kind}"
        );
    }

    // Only the channel named changes.
    let settings = author
        .change_settings(
            &app,
            json!({"kinds": {"POST_COMMENTED": {"in_app": false}}}),
        )
        .await;
    assert_eq!(
        settings.kinds["POST_COMMENTED"],
        Channels {
            in_app: false,
            push: true,
            mail: false
        }
    );
    assert!(settings.kinds["COMMENT_REPLIED"].in_app);
    let post_id = post(&app, &author.token, "질문", "있어요").await["id"]
        .as_i64()
        .unwrap();
    let first = other.comment(&app, post_id, "답이에요", None).await;
    app.relay_events().await;
    assert!(author.notifications(&app).await.is_empty(), "switched off");
    // The other kinds still come.
    other.comment(&app, post_id, "그리고", None).await;
    author.comment(&app, post_id, "네", Some(first)).await;
    let reply_to_author = author.comment(&app, post_id, "추가로", None).await;
    other
        .comment(&app, post_id, "좋네요", Some(reply_to_author))
        .await;
    app.relay_events().await;
    assert_eq!(
        kinds(&author.notifications(&app).await),
        ["COMMENT_REPLIED"]
    );

    // The account's daily-question switch is that kind's in-app setting.
    app.send_ok(
        Method::PATCH,
        "/api/v1/users/me",
        Some(&author.token),
        Some(json!({"notify_daily_question": false})),
    )
    .await;
    assert!(!author.settings(&app).await.kinds["DAILY_QUESTION"].in_app);
    let me = app.get_ok_as("/api/v1/users/me", &author.token).await;
    assert_eq!(me["notify_daily_question"], false);
    author
        .change_settings(&app, json!({"kinds": {"DAILY_QUESTION": {"in_app": true}}}))
        .await;
    let me = app.get_ok_as("/api/v1/users/me", &author.token).await;
    assert_eq!(me["notify_daily_question"], true);
}

#[tokio::test]
async fn bad_settings_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let member = Member::new(&app, "member@example.com").await;
    let path = "/api/v1/users/me/notification-settings";
    for (body, code) in [
        (json!({"muted_rooms": [999_999]}), "VALIDATION_FAILED"),
        (
            json!({"kinds": {"POST_COMMENTED": {"in_app": false, "sms": true}}}),
            "UNKNOWN_FIELD",
        ),
        (json!({"kinds": {"NO_SUCH_KIND": {"in_app": false}}}), ""),
        (json!({"kinds": {"POST_COMMENTED": {"in_app": "no"}}}), ""),
        (json!({"muted_rooms": vec![1; 1001]}), "VALIDATION_FAILED"),
    ] {
        let response = app
            .send(Method::PATCH, path, Some(&member.token), Some(body.clone()))
            .await;
        let status = response.status().as_u16();
        assert!(
            status == 400 || status == 422,
            "{body}: {status} {}",
            response.text().await.unwrap()
        );
        if !code.is_empty() {
            let response = app
                .send(Method::PATCH, path, Some(&member.token), Some(body))
                .await;
            let problem: serde_json::Value = response.json().await.unwrap();
            let codes = [
                problem["code"].as_str().unwrap_or_default(),
                problem["errors"][0]["code"].as_str().unwrap_or_default(),
            ];
            assert!(codes.contains(&code), "{problem}");
        }
    }
    let settings = member.settings(&app).await;
    assert!(settings.kinds.values().all(|channels| channels.in_app));
    assert!(settings.muted_rooms.is_empty());
    assert_problem(
        app.send(Method::GET, path, None, None).await,
        401,
        "AUTHENTICATION_REQUIRED",
    )
    .await;
}

#[tokio::test]
async fn a_muted_room_notifies_of_nothing_and_the_others_still_do() {
    let app = TestApp::spawn().await;
    let Trade {
        seller,
        buyer,
        room,
        ..
    } = trade(&app).await;
    let seller = Member {
        id: seller.0,
        token: seller.1,
    };
    let settings = seller
        .change_settings(&app, json!({"muted_rooms": [room]}))
        .await;
    assert_eq!(settings.muted_rooms, [room]);
    // Only one's own rooms are muted: the buyer cannot see or mute the seller's choice.
    assert_eq!(
        Member {
            id: buyer.0,
            token: buyer.1.clone()
        }
        .settings(&app)
        .await
        .muted_rooms,
        Vec::<i64>::new()
    );
    let message = json!({"client_id": uuid::Uuid::new_v4(), "text": "아직 있나요?"});
    let response = app
        .post_json(
            &format!("/api/v1/chat/rooms/{room}/messages"),
            Some(&buyer.1),
            message,
        )
        .await;
    assert_eq!(response.status(), 201);
    app.relay_events().await;
    assert!(seller.notifications(&app).await.is_empty(), "muted");

    // Unmuted (the whole list is given), the next message notifies.
    let settings = seller
        .change_settings(&app, json!({"muted_rooms": []}))
        .await;
    assert!(settings.muted_rooms.is_empty());
    app.post_json(
        &format!("/api/v1/chat/rooms/{room}/messages"),
        Some(&buyer.1),
        json!({"client_id": uuid::Uuid::new_v4(), "text": "답장 주세요"}),
    )
    .await;
    app.relay_events().await;
    assert_eq!(kinds(&seller.notifications(&app).await), ["CHAT_MESSAGE"]);
}
