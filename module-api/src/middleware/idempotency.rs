//! `Idempotency-Key` on POST: the first response to a key is stored and replayed for retries of
//! the same request; the same key on a different request is a 409.

use crate::error::ProblemCode;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use petory_core::platform::idempotency::{self, Claim, StoredResponse};
use sha2::{Digest as _, Sha256};

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Response headers worth replaying; the rest (dates, request ids) belong to each delivery.
const REPLAYED_HEADERS: [HeaderName; 2] = [
    axum::http::header::CONTENT_TYPE,
    axum::http::header::LOCATION,
];

pub async fn idempotent_post(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Auth answers carry credentials, which must never be stored for replay.
    if request.method() != Method::POST || request.uri().path().starts_with("/api/v1/auth/") {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if idempotency::is_valid_key(key) => key.to_owned(),
        _ => {
            return ApiError::bad_request(
                ProblemCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    // Keys are scoped per user. A guest has no scope of its own: storing its answers would let
    // any other guest replay them, so a guest's key is ignored (its requests just run).
    let Some(user) = request
        .extensions()
        .get::<Caller>()
        .and_then(|caller| caller.user)
    else {
        return next.run(request).await;
    };
    match run_once(&state, user, key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run_once(
    state: &AppState,
    user: petory_core::identity::UserId,
    key: String,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    // Keys are scoped per user, so one client cannot replay another's response.
    let owner = format!("user:{user}");
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, state.config.max_body_bytes)
        .await
        .map_err(|_| ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE).into_response())?;
    let hash = request_hash(&parts.method, &parts.uri, &parts.headers, &body);

    let claim = {
        let mut conn = state.db().await.map_err(IntoResponse::into_response)?;
        idempotency::claim(
            &mut conn,
            &owner,
            &key,
            &hash,
            state.clock.now(),
            state.config.idempotency,
        )
        .await
        .map_err(|error| ApiError::from(error).into_response())?
    };
    match claim {
        Claim::Acquired => {}
        Claim::Replay(stored) => return Ok(replay(stored)),
        Claim::KeyReused => {
            return Err(ApiError::conflict(
                ProblemCode::IdempotencyKeyReused,
                "this Idempotency-Key was already used for a different request",
            )
            .into_response());
        }
        Claim::InProgress => {
            return Err(ApiError::conflict(
                ProblemCode::IdempotencyRequestInProgress,
                "a request with this Idempotency-Key is still being processed",
            )
            .retry_after(1)
            .into_response());
        }
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::error!(%error, "response body failed; releasing idempotency key");
            release(state, &owner, &key).await;
            return Err(ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response());
        }
    };
    if parts.status.is_server_error() {
        // Our failure, not the request's: let a retry run it again.
        release(state, &owner, &key).await;
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = parts.headers.get(name)?.to_str().ok()?;
                    Some((name.as_str().to_owned(), value.to_owned()))
                })
                .collect(),
            body: body.to_vec(),
        };
        let completed = match state.db().await {
            Ok(mut conn) => idempotency::complete(&mut conn, &owner, &key, &stored)
                .await
                .map_err(ApiError::from),
            Err(error) => Err(error),
        };
        if let Err(error) = completed {
            // The request took effect; a retry after the lease will see the key in progress
            // and then re-run, which the domain's own unique constraints must absorb.
            tracing::error!(%error, "could not store idempotent response");
        }
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

async fn release(state: &AppState, owner: &str, key: &str) {
    let released = match state.db().await {
        Ok(mut conn) => idempotency::release(&mut conn, owner, key)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    if let Err(error) = released {
        tracing::warn!(%error, "could not release idempotency key; it frees itself when its lease ends");
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Bytes::from(stored.body)).into_response();
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

/// What makes two requests "the same": method, path with query, content type and body.
fn request_hash(
    method: &Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str());
    hasher.update([0]);
    hasher.update(uri.path_and_query().map_or("", |pq| pq.as_str()));
    hasher.update([0]);
    hasher.update(
        headers
            .get(axum::http::header::CONTENT_TYPE)
            .map_or(&b""[..], HeaderValue::as_bytes),
    );
    hasher.update([0]);
    hasher.update(body);
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_body_path_and_method() {
        let headers = HeaderMap::new();
        let uri: axum::http::Uri = "/api/v1/orders".parse().unwrap();
        let base = request_hash(&Method::POST, &uri, &headers, b"{\"a\":1}");
        assert_eq!(
            base,
            request_hash(&Method::POST, &uri, &headers, b"{\"a\":1}")
        );
        assert_ne!(
            base,
            request_hash(&Method::POST, &uri, &headers, b"{\"a\":2}")
        );
        assert_ne!(
            base,
            request_hash(&Method::PUT, &uri, &headers, b"{\"a\":1}")
        );
        let other: axum::http::Uri = "/api/v1/orders?x=1".parse().unwrap();
        assert_ne!(
            base,
            request_hash(&Method::POST, &other, &headers, b"{\"a\":1}")
        );
    }
}
