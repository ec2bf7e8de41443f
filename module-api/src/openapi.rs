//! The OpenAPI document, collected from the routes themselves.

use std::collections::BTreeSet;

use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, ArrayItems, Object, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, PROBLEM_CONTENT_TYPE, Problem, ProblemCode};

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
        ProblemCode,
        FieldError,
        crate::routes::community::chat_socket::ClientFrame,
        crate::routes::community::chat_socket::Reply,
        crate::routes::community::chat::ChatUpdate
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Sign-up, login and sessions"),
        (name = "users", description = "My account and addresses"),
        (name = "shop", description = "Catalog and cart"),
        (name = "daily", description = "The daily Q&A and album"),
        (name = "calendar", description = "My pet calendar, its feed and import, and pets' D-days"),
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
        "`INVALID_BODY` (the JSON does not match the schema), `UNKNOWN_FIELD` (a property the \
         schema does not name, in `errors`) or `VALIDATION_FAILED` with one entry per field in \
         `errors`",
    ),
    (
        "429",
        "TooManyRequests",
        "`RATE_LIMITED`, with `Retry-After`",
    ),
    (
        "503",
        "ServiceUnavailable",
        "`DATABASE_UNAVAILABLE`, `AUTH_UNAVAILABLE` (the session store), with `Retry-After`; \
         `SHUTTING_DOWN` while an instance stops",
    ),
];

/// What a signed-in POST with an `Idempotency-Key` may answer besides its own conflicts.
const IDEMPOTENCY_CONFLICT: &str = "`IDEMPOTENCY_KEY_REUSED` (the `Idempotency-Key` was used for \
    a different request), `IDEMPOTENCY_REQUEST_IN_PROGRESS` (the first request with it still runs; \
    `Retry-After`)";

/// The problem codes a response's description names (`` `CODE` ``); other words in backticks
/// (field rules such as `BLANK`) are not problem codes.
pub fn codes_named_in(description: &str) -> BTreeSet<ProblemCode> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(ProblemCode::parse)
        .collect()
}

/// `Problem` with its `code` narrowed to the codes this answer can carry.
fn problem_with_codes(codes: &BTreeSet<ProblemCode>) -> RefOr<Schema> {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|code| code.as_str())));
    AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(ObjectBuilder::new().property("code", code))
        .into()
}

/// Narrows a problem answer's schema to the codes named in its description and `also`.
fn narrow_problem(response: &mut Response, also: &BTreeSet<ProblemCode>) {
    let mut codes = codes_named_in(&response.description);
    codes.extend(also);
    if let Some(content) = response.content.get_mut(PROBLEM_CONTENT_TYPE)
        && !codes.is_empty()
    {
        content.schema = Some(problem_with_codes(&codes));
    }
}

/// Declares the answers that middleware and extractors give, once, as shared responses, and
/// refers every operation to those that apply to it: all may answer 400, 408, 429 and 503;
/// those that accept a token (their `security` lists one) 401; those with a body 413, 415 and
/// 422. An operation's own entry for a status wins, and may also carry the shared codes. Every
/// problem answer's `code` is narrowed to the codes its description names, so that a client
/// (and the tests' response check) knows exactly what each operation answers.
pub fn declare_common_responses(openapi: &mut utoipa::openapi::OpenApi) {
    let components = openapi.components.get_or_insert_with(Default::default);
    for (_, name, description) in COMMON {
        let problem = ContentBuilder::new()
            .schema(Some(problem_with_codes(&codes_named_in(description))))
            .build();
        components.responses.insert(
            name.to_owned(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(PROBLEM_CONTENT_TYPE, problem)
                    .build(),
            ),
        );
    }
    components.responses.insert(
        "IdempotencyConflict".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description(IDEMPOTENCY_CONFLICT)
                .content(
                    PROBLEM_CONTENT_TYPE,
                    ContentBuilder::new()
                        .schema(Some(problem_with_codes(&codes_named_in(
                            IDEMPOTENCY_CONFLICT,
                        ))))
                        .build(),
                )
                .build(),
        ),
    );
    for (path, item) in openapi.paths.paths.iter_mut() {
        // A signed-in POST outside `/auth/` may carry an `Idempotency-Key` (the middleware).
        let keyed_path = !path.starts_with("/api/v1/auth/");
        for (operation, is_post) in [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, false),
            (&mut item.patch, false),
            (&mut item.delete, false),
        ] {
            let Some(operation) = operation else {
                continue;
            };
            let has_body = operation.request_body.is_some();
            let takes_token = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            let keyed = is_post && keyed_path && takes_token;
            // Public operations say so: an empty requirement means "no token needed".
            operation.security.get_or_insert_with(|| {
                vec![utoipa::openapi::security::SecurityRequirement::default()]
            });
            let mut narrowed = BTreeSet::new();
            for (status, name, description) in COMMON {
                let applies = match status {
                    "401" => takes_token,
                    "413" | "415" | "422" => has_body,
                    _ => true,
                };
                if !applies {
                    continue;
                }
                match operation.responses.responses.get_mut(status) {
                    Some(RefOr::T(own)) => {
                        narrow_problem(own, &codes_named_in(description));
                        narrowed.insert(status);
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        operation.responses.responses.insert(
                            status.to_owned(),
                            RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
                        );
                    }
                }
            }
            if keyed {
                operation
                    .responses
                    .responses
                    .entry("409".to_owned())
                    .or_insert_with(|| {
                        RefOr::Ref(Ref::new("#/components/responses/IdempotencyConflict"))
                    });
            }
            for (status, response) in operation.responses.responses.iter_mut() {
                if let RefOr::T(own) = response
                    && !narrowed.contains(status.as_str())
                {
                    let also = if keyed && status == "409" {
                        codes_named_in(IDEMPOTENCY_CONFLICT)
                    } else {
                        BTreeSet::new()
                    };
                    narrow_problem(own, &also);
                }
            }
        }
    }
}

/// Text of a request without NUL characters: the server refuses them everywhere.
pub const NO_NUL: &str = r"^[^\u0000]*$";
/// Text of a request that must say something: not only spaces (the server trims it), no NUL.
pub const NOT_BLANK: &str = r"^[^\u0000]*[^\s\u0000][^\u0000]*$";

/// Writes the rules the server applies to every request into the schemas that request bodies
/// reach, so that what the document calls valid is what the server accepts, and the reverse:
/// objects are `additionalProperties: false` (a property the schema does not name is refused
/// with `422 UNKNOWN_FIELD`, see `validation.rs`, so a client's typo or a newer version's field
/// is never silently ignored); free text has no NUL characters, and text that must not be empty
/// must not be only spaces either (`NOT_BLANK`).
pub fn close_request_schemas(openapi: &mut utoipa::openapi::OpenApi) {
    let document = serde_json::to_value(&*openapi).unwrap_or_default();
    let mut reached = BTreeSet::new();
    for item in document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
    {
        for operation in item.as_object().into_iter().flat_map(|item| item.values()) {
            if let Some(content) = operation["requestBody"]["content"].as_object() {
                for media in content.values() {
                    reach(&document, &media["schema"], &mut reached);
                }
            }
        }
    }
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    for name in reached {
        // A named text type (an object key, a local time) keeps the text rules too.
        if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
            write_text_rules(schema);
        }
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name)
            && !object.properties.is_empty()
        {
            if object.additional_properties.is_none() {
                object.additional_properties =
                    Some(Box::new(AdditionalProperties::FreeForm(false)));
            }
            for property in object.properties.values_mut() {
                if let RefOr::T(schema) = property {
                    write_text_rules(schema);
                }
            }
        }
    }
}

/// The NUL and not-blank rules on a free-text property (or a list of them).
fn write_text_rules(schema: &mut Schema) {
    match schema {
        Schema::Object(text) if is_free_text(text) => {
            let must_say_something = text.min_length.is_some_and(|min| min > 0)
                || text.pattern.as_deref() == Some(r"\S");
            if text.pattern.is_none() || must_say_something {
                text.pattern = Some(
                    if must_say_something {
                        NOT_BLANK
                    } else {
                        NO_NUL
                    }
                    .to_owned(),
                );
            }
        }
        Schema::Array(list) => {
            if let ArrayItems::RefOrSchema(items) = &mut list.items
                && let RefOr::T(item) = items.as_mut()
            {
                write_text_rules(item);
            }
        }
        _ => {}
    }
}

/// A string that is neither an enum nor of a format (dates, emails), whose own pattern, if any,
/// is only "not blank".
fn is_free_text(schema: &Object) -> bool {
    let text = match &schema.schema_type {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    text && schema.enum_values.is_none()
        && schema.format.is_none()
        && schema
            .pattern
            .as_deref()
            .is_none_or(|pattern| pattern == r"\S")
}

/// The component schemas `schema` refers to, directly or through others.
fn reach(document: &serde_json::Value, schema: &serde_json::Value, reached: &mut BTreeSet<String>) {
    match schema {
        serde_json::Value::Object(fields) => {
            if let Some(name) = fields
                .get("$ref")
                .and_then(|reference| reference.as_str())
                .and_then(|reference| reference.strip_prefix("#/components/schemas/"))
                && reached.insert(name.to_owned())
            {
                reach(document, &document["components"]["schemas"][name], reached);
            }
            for value in fields.values() {
                reach(document, value, reached);
            }
        }
        serde_json::Value::Array(values) => {
            for value in values {
                reach(document, value, reached);
            }
        }
        _ => {}
    }
}
