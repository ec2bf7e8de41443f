//! The `ObjectStore` port on Amazon S3 (or any S3-compatible server).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::presigning::PresigningConfig;
use petory_core::config::{self, ConfigError};
use petory_core::ports::{ObjectMeta, ObjectStore, ObjectStoreError, PresignedRequest};

#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `None` means AWS itself; otherwise an S3-compatible endpoint such as `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), which S3-compatible servers expect.
    pub force_path_style: bool,
    pub operation_timeout: Duration,
}

impl S3Settings {
    /// `S3_ENDPOINT` (unset or `aws` for AWS itself), `S3_BUCKET`, `S3_REGION`,
    /// `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`. Defaults match `petory-local-s3`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let endpoint = config::var_or_dev(
            "S3_ENDPOINT",
            "http://127.0.0.1:9000",
            "images live in S3 (`aws`) or an S3-compatible server, not the development one on \
             loopback",
        )?;
        let endpoint = (endpoint != "aws").then_some(endpoint);
        if let Some(url) = &endpoint {
            config::ensure(
                "S3_ENDPOINT",
                url,
                url.starts_with("http://") || url.starts_with("https://"),
                "must be an http(s) URL or `aws`",
            )?;
        }
        Ok(Self {
            force_path_style: endpoint.is_some(),
            endpoint,
            bucket: config::var_or("S3_BUCKET", "petory")?,
            region: config::var_or("S3_REGION", "us-east-1")?,
            access_key_id: config::var_or_dev(
                "S3_ACCESS_KEY_ID",
                "petory-dev",
                "the bucket's credentials are not the development server's",
            )?,
            secret_access_key: config::var_or_dev(
                "S3_SECRET_ACCESS_KEY",
                "petory-dev-secret",
                "the bucket's credentials are not the development server's",
            )?,
            operation_timeout: Duration::from_secs(config::parsed_or("S3_TIMEOUT_SECS", 10_u64)?),
        })
    }
}

#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
}

impl S3ObjectStore {
    /// Builds the client without contacting the server: S3 is needed only by the endpoints
    /// that use it, and those answer 503 while it is unreachable.
    pub fn new(settings: &S3Settings) -> Self {
        let credentials = Credentials::new(
            &settings.access_key_id,
            &settings.secret_access_key,
            None,
            None,
            "petory-config",
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region.clone()))
            .credentials_provider(credentials)
            .force_path_style(settings.force_path_style)
            // Checksums would become signed headers that browser uploads cannot reproduce.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            );
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, ObjectStoreError> {
    PresigningConfig::expires_in(expires_in)
        .map_err(|error| ObjectStoreError::Rejected(error.to_string()))
}

fn presigned(request: &aws_sdk_s3::presigning::PresignedRequest) -> PresignedRequest {
    PresignedRequest {
        method: request.method().to_owned(),
        url: request.uri().to_owned(),
        headers: request
            .headers()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    }
}

/// Transport failures and server errors mean "unavailable"; the rest are refusals.
fn classify<E: std::fmt::Debug>(error: &SdkError<E, HttpResponse>) -> ObjectStoreError {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            ObjectStoreError::Unavailable(format!("{error:?}"))
        }
        SdkError::ResponseError(_) => ObjectStoreError::Unavailable(format!("{error:?}")),
        SdkError::ServiceError(service) if service.raw().status().is_server_error() => {
            ObjectStoreError::Unavailable(format!("{error:?}"))
        }
        _ => ObjectStoreError::Rejected(format!("{error:?}")),
    }
}

impl S3ObjectStore {
    /// The object's bytes (of `range`, an HTTP `Range`, when given), or `None` when there is
    /// no such object.
    async fn get(
        &self,
        key: &str,
        range: Option<String>,
    ) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_range(range)
            .send()
            .await
        {
            Ok(output) => output,
            Err(SdkError::ServiceError(service)) if service.err().is_no_such_key() => {
                return Ok(None);
            }
            Err(error) => return Err(classify(&error)),
        };
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|error| ObjectStoreError::Unavailable(error.to_string()))?
            .into_bytes();
        Ok(Some(bytes.to_vec()))
    }
}

#[async_trait]
impl ObjectStore for S3ObjectStore {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, ObjectStoreError> {
        let length = i64::try_from(content_length)
            .map_err(|_| ObjectStoreError::Rejected("content length too large".into()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|error| classify(&error))?;
        Ok(presigned(&request))
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_in: Duration,
    ) -> Result<PresignedRequest, ObjectStoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|error| classify(&error))?;
        Ok(presigned(&request))
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, ObjectStoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectMeta {
                size: output
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: output.content_type().map(ToOwned::to_owned),
            })),
            Err(SdkError::ServiceError(service)) if service.err().is_not_found() => Ok(None),
            Err(error) => Err(classify(&error)),
        }
    }

    async fn read_prefix(&self, key: &str, len: u64) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        let last = len.saturating_sub(1);
        let bytes = self.get(key, Some(format!("bytes=0-{last}"))).await?;
        // A server that ignores the range still sends the whole object: keep the prefix only.
        Ok(bytes.map(|mut bytes| {
            bytes.truncate(usize::try_from(len).unwrap_or(usize::MAX));
            bytes
        }))
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, ObjectStoreError> {
        self.get(key, None).await
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), ObjectStoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(|error| classify(&error))?;
        Ok(())
    }

    async fn copy(&self, from: &str, to: &str) -> Result<bool, ObjectStoreError> {
        // `x-amz-copy-source` is `{bucket}/{key}`, its key URL-encoded (ours are plain ASCII).
        match self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(to)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(service))
                if service.raw().status().as_u16() == 404
                    || matches!(
                        service.err().meta().code(),
                        Some("NoSuchKey" | "NoSuchBucket")
                    ) =>
            {
                Ok(false)
            }
            Err(error) => Err(classify(&error)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), ObjectStoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| classify(&error))?;
        Ok(())
    }
}
