use std::time::Duration;

use async_trait::async_trait;

/// Object storage (S3 in production). Clients upload and download directly with presigned
/// URLs; the server signs, inspects, and stores what it derives (the served versions).
#[async_trait]
pub trait ObjectStore: Send + Sync + 'static {
    /// A URL the client may `PUT` exactly this object to, with the returned headers.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, ObjectStoreError>;

    /// A URL the client may `GET` the object from.
    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, ObjectStoreError>;

    /// Metadata of a stored object, or `None` when there is no such object.
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, ObjectStoreError>;

    /// The object's first `len` bytes (fewer when it is shorter), or `None` when there is no
    /// such object: enough to tell what a file really is without downloading it.
    async fn read_prefix(&self, key: &str, len: u64) -> Result<Option<Vec<u8>>, ObjectStoreError>;

    /// The whole object, or `None` when there is no such object.
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError>;

    /// Stores an object the server made (replacing one of the same key).
    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ObjectStoreError>;

    /// Copies an object to another key (replacing what is there); `false` when there is no
    /// object at `from`.
    async fn copy(&self, from: &str, to: &str) -> Result<bool, ObjectStoreError>;

    /// Removes an object; removing one that is not there succeeds.
    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    /// Headers the client must send exactly as given for the signature to hold.
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ObjectStoreError {
    /// The store could not be reached or answered with a server error: worth a 503.
    #[error("object store unavailable: {0}")]
    Unavailable(String),
    #[error("object store rejected the request: {0}")]
    Rejected(String),
}
