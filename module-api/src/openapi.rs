//! The OpenAPI document, collected from the routes themselves.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Petory API",
        description = "Pet owners' community, places, daily records and a supplement shop. \
            Errors are RFC 9457 problems (`application/problem+json`) with a stable `code`. \
            The answers every operation may give (`400`, `408`, `429`, `503`; `401` where a token \
            is accepted; `413`, `415` and `422` where a body is) are the shared responses under \
            `components/responses`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/", description = "This server")),
    components(schemas(
        Problem,
        FieldError,
        crate::routes::community::chat_socket::ClientFrame,
        crate::routes::community::chat_socket::Reply,
        crate::routes::community::chat::Event
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Sign-up, login and sessions"),
        (name = "users", description = "My account and addresses"),
        (name = "shop", description = "Catalog and cart"),
        (name = "daily", description = "The daily Q&A"),
        (name = "community", description = "Pets, the owner and trade boards, reports"),
        (name = "chat", description = "1:1 chat about a listing, and blocking users"),
        (name = "places", description = "Pet-friendly places near me, and their likes"),
        (name = "uploads", description = "Presigned image uploads"),
        (name = "notifications", description = "My notifications and their live stream"),
        (name = "admin", description = "Administration (role `ADMIN`)"),
    ),
)]
pub struct ApiDoc;

/// `Authorization: Bearer <access token>` from `POST /auth/login`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// A problem answer shared by many operations: `(status, component name, what it covers)`.
const COMMON: [(&str, &str, &str); 8] = [
    (
        "400",
        "BadRequest",
        "`INVALID_PATH`, `INVALID_QUERY` (a malformed, out-of-range or NUL-holding parameter), \
         `INVALID_CURSOR`, `MALFORMED_JSON`, `INVALID_IDEMPOTENCY_KEY`",
    ),
    (
        "401",
        "Unauthorized",
        "`AUTHENTICATION_REQUIRED`, `INVALID_TOKEN`, `TOKEN_EXPIRED`, `TOKEN_REVOKED` \
         (`WWW-Authenticate: Bearer`)",
    ),
    (
        "408",
        "RequestTimeout",
        "`REQUEST_TIMEOUT`: the request took too long and was abandoned",
    ),
    (
        "413",
        "PayloadTooLarge",
        "`PAYLOAD_TOO_LARGE`: the body is larger than allowed",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "`UNSUPPORTED_MEDIA_TYPE`: send `Content-Type: application/json`",
    ),
    (
        "422",
        "UnprocessableEntity",
        "`INVALID_BODY` (the JSON does not match the schema) or `VALIDATION_FAILED` with one entry \
         per field in `errors`",
    ),
    (
        "429",
        "TooManyRequests",
        "`RATE_LIMITED`, with `Retry-After`",
    ),
    (
        "503",
        "ServiceUnavailable",
        "`DATABASE_UNAVAILABLE`, `AUTH_UNAVAILABLE`, `STORAGE_UNAVAILABLE` or another dependency down, with `Retry-After`",
    ),
];

/// Declares the answers that middleware and extractors give, once, as shared responses, and
/// refers every operation to those that apply to it: all may answer 400, 408, 429 and 503;
/// those that accept a token (their `security` lists one) 401; those with a body 413, 415 and
/// 422. An operation's own entry for a status wins.
pub fn declare_common_responses(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON {
        let problem = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build();
        components.responses.insert(
            name.to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(crate::error::PROBLEM_CONTENT_TYPE, problem)
                    .build(),
            ),
        );
    }
    for item in openapi.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let has_body = operation.request_body.is_some();
            let takes_token = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            // Public operations say so: an empty requirement means "no token needed".
            operation.security.get_or_insert_with(|| {
                vec![utoipa::openapi::security::SecurityRequirement::default()]
            });
            for (status, name, _) in COMMON {
                let applies = match status {
                    "401" => takes_token,
                    "413" | "415" | "422" => has_body,
                    _ => true,
                };
                if applies {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| {
                            RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
                        });
                }
            }
        }
    }
}
