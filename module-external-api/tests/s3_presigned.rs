//! The S3 adapter against a real S3-compatible server on loopback (s3s-fs, signatures checked).

use std::time::Duration;

use petory_core::ports::ObjectStore;
use petory_external_api::storage::local::{LocalS3, LocalS3Settings};
use petory_external_api::storage::s3::{S3ObjectStore, S3Settings};

const PNG_HEADER: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

struct Fixture {
    _root: tempfile::TempDir,
    _server: LocalS3,
    store: S3ObjectStore,
}

async fn fixture() -> Fixture {
    let root = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = LocalS3::serve(
        listener,
        &LocalS3Settings {
            root: root.path().to_owned(),
            bucket: "petory-test".into(),
            access_key_id: "test-key".into(),
            secret_access_key: "test-secret".into(),
        },
    )
    .expect("local s3");
    let store = S3ObjectStore::new(&S3Settings {
        endpoint: Some(server.endpoint()),
        bucket: "petory-test".into(),
        region: "us-east-1".into(),
        access_key_id: "test-key".into(),
        secret_access_key: "test-secret".into(),
        force_path_style: true,
        operation_timeout: Duration::from_secs(5),
    });
    Fixture {
        _root: root,
        _server: server,
        store,
    }
}

async fn upload(
    request: &petory_core::ports::PresignedRequest,
    body: &'static [u8],
) -> reqwest::StatusCode {
    let client = reqwest::Client::new();
    let mut put = client.put(&request.url).body(body);
    for (name, value) in &request.headers {
        put = put.header(name, value);
    }
    put.send().await.expect("upload request").status()
}

#[tokio::test]
async fn presigned_put_lands_an_object_that_head_sees() {
    let fixture = fixture().await;
    let key = "uploads/1/photo.png";
    assert_eq!(fixture.store.head(key).await.expect("head before"), None);

    let request = fixture
        .store
        .presign_put(
            key,
            "image/png",
            PNG_HEADER.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .expect("presign put");
    assert_eq!(request.method, "PUT");
    assert!(
        request.url.contains("X-Amz-Signature="),
        "url is signed: {}",
        request.url
    );

    let status = upload(&request, PNG_HEADER).await;
    assert!(status.is_success(), "upload answered {status}");

    let meta = fixture
        .store
        .head(key)
        .await
        .expect("head after")
        .expect("object exists");
    assert_eq!(meta.size, PNG_HEADER.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("image/png"));

    let get = fixture
        .store
        .presign_get(key, Duration::from_secs(60))
        .await
        .expect("presign get");
    let body = reqwest::get(&get.url)
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    assert_eq!(body.as_ref(), PNG_HEADER);
}

#[tokio::test]
async fn a_tampered_presigned_url_is_refused() {
    let fixture = fixture().await;
    let request = fixture
        .store
        .presign_put(
            "uploads/1/a.png",
            "image/png",
            PNG_HEADER.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .expect("presign put");
    let tampered = petory_core::ports::PresignedRequest {
        url: request.url.replace("uploads/1/a.png", "uploads/2/a.png"),
        ..request
    };
    let status = upload(&tampered, PNG_HEADER).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        fixture.store.head("uploads/2/a.png").await.expect("head"),
        None
    );
}

#[tokio::test]
async fn an_unreachable_store_reports_unavailable() {
    let store = S3ObjectStore::new(&S3Settings {
        endpoint: Some("http://127.0.0.1:1".into()),
        bucket: "petory-test".into(),
        region: "us-east-1".into(),
        access_key_id: "k".into(),
        secret_access_key: "s".into(),
        force_path_style: true,
        operation_timeout: Duration::from_secs(2),
    });
    let error = store.head("missing").await.expect_err("no server");
    assert!(
        matches!(error, petory_core::ports::ObjectStoreError::Unavailable(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_prefix_is_read_by_range_and_deleted_objects_are_gone() {
    let fixture = fixture().await;
    let key = "uploads/1/prefix.png";
    assert_eq!(fixture.store.read_prefix(key, 8).await.expect("read"), None);
    let request = fixture
        .store
        .presign_put(
            key,
            "image/png",
            PNG_HEADER.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .expect("presign put");
    assert!(upload(&request, PNG_HEADER).await.is_success());

    let prefix = fixture.store.read_prefix(key, 8).await.expect("read");
    assert_eq!(prefix.as_deref(), Some(&PNG_HEADER[..8]));
    let whole = fixture.store.read_prefix(key, 1024).await.expect("read");
    assert_eq!(whole.as_deref(), Some(PNG_HEADER));

    fixture.store.delete(key).await.expect("delete");
    assert_eq!(fixture.store.head(key).await.expect("head"), None);
    fixture
        .store
        .delete(key)
        .await
        .expect("deleting twice is fine");
}
