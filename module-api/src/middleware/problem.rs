//! Turns every bare error status produced outside our handlers (unknown route, wrong method,
//! body limit, timeout, panic) into a problem document, so clients see one error format.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, PROBLEM_CONTENT_TYPE};

pub async fn render_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            value
                .as_bytes()
                .starts_with(PROBLEM_CONTENT_TYPE.as_bytes())
        });
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut problem = ApiError::from_status(status).into_response();
    // Keep what the original carried besides its body: `Allow`, `Retry-After`, request id.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (name, value) in &parts.headers {
        problem.headers_mut().insert(name.clone(), value.clone());
    }
    problem
}
