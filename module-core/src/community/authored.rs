//! What posts and listings share: one member writes each, with up to 10 images, and only they
//! change or delete it. One path does it for both: it checks that the writer may write,
//! verifies new images before any transaction (that calls the object store), then locks the
//! writer's own row, attaches the images and writes, all in one transaction. Each kind says
//! only what touches its own table ([`Authored`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection as _, AsyncPgConnection};

use super::{CommunityError, Viewer, ensure_can_publish, ensure_can_write};
use crate::identity::UserId;
use crate::platform::upload::{self, Purpose};
use crate::ports::ObjectStore;

/// One kind of authored content with images, as the board or the trade board keeps it.
#[async_trait]
pub trait Authored: Sync {
    type Id: Copy + Send + Sync;
    /// What a writer sends to create one.
    type Draft: Send + Sync;
    /// What a writer sends to change one: only the fields present change.
    type Changes: Send;
    /// What the writer reads back.
    type View: Send;

    /// What its images are uploaded for.
    const IMAGES: Purpose;

    fn draft_images(draft: &Self::Draft) -> &[String];

    /// The images after the change, when it changes them.
    fn changed_images(changes: &Self::Changes) -> Option<&[String]>;

    async fn insert(
        &self,
        conn: &mut AsyncPgConnection,
        author: UserId,
        draft: &Self::Draft,
        now: DateTime<Utc>,
    ) -> Result<Self::Id, CommunityError>;

    /// The author's own live item, locked: its images. Someone else's answers as the kind says
    /// (not found, or not yours).
    async fn lock_own(
        &self,
        conn: &mut AsyncPgConnection,
        author: UserId,
        id: Self::Id,
    ) -> Result<Vec<String>, CommunityError>;

    async fn apply(
        &self,
        conn: &mut AsyncPgConnection,
        id: Self::Id,
        changes: Self::Changes,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError>;

    /// Deletes the item as its author does: gone for readers, kept as moderation's evidence.
    async fn mark_deleted(
        &self,
        conn: &mut AsyncPgConnection,
        id: Self::Id,
        now: DateTime<Utc>,
    ) -> Result<(), CommunityError>;

    async fn view(
        &self,
        conn: &mut AsyncPgConnection,
        viewer: Viewer,
        id: Self::Id,
    ) -> Result<Self::View, CommunityError>;
}

/// A verified member (not suspended) writes a new item with its images.
pub async fn create<K: Authored>(
    kind: &K,
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    author: UserId,
    draft: K::Draft,
    now: DateTime<Utc>,
) -> Result<K::View, CommunityError> {
    ensure_can_publish(conn, author).await?;
    let images =
        upload::verify(conn, store, author, K::IMAGES, K::draft_images(&draft), &[]).await?;
    let id = conn
        .transaction(async |conn| {
            images.attach(conn, now).await?;
            kind.insert(conn, author, &draft, now).await
        })
        .await?;
    kind.view(conn, Viewer::user(author), id).await
}

/// The author changes their item; images it already holds stay without new checks.
pub async fn update<K: Authored>(
    kind: &K,
    conn: &mut AsyncPgConnection,
    store: &dyn ObjectStore,
    author: UserId,
    id: K::Id,
    changes: K::Changes,
    now: DateTime<Utc>,
) -> Result<K::View, CommunityError> {
    ensure_can_write(conn, author).await?;
    let held = kind.lock_own(conn, author, id).await?;
    let new_images = K::changed_images(&changes).unwrap_or_default();
    let images = upload::verify(conn, store, author, K::IMAGES, new_images, &held).await?;
    conn.transaction(async |conn| {
        kind.lock_own(conn, author, id).await?;
        images.attach(conn, now).await?;
        kind.apply(conn, id, changes, now).await
    })
    .await?;
    kind.view(conn, Viewer::user(author), id).await
}

/// The author deletes their item.
pub async fn delete<K: Authored>(
    kind: &K,
    conn: &mut AsyncPgConnection,
    author: UserId,
    id: K::Id,
    now: DateTime<Utc>,
) -> Result<(), CommunityError> {
    ensure_can_write(conn, author).await?;
    conn.transaction(async |conn| {
        kind.lock_own(conn, author, id).await?;
        kind.mark_deleted(conn, id, now).await
    })
    .await
}
