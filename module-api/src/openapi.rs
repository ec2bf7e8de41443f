//! The OpenAPI document, collected from the routes themselves.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Petory API",
        description = "Pet owners' community, places, daily records and a supplement shop. \
            Errors are RFC 9457 problems (`application/problem+json`) with a stable `code`. \
            Every route may also answer `429 RATE_LIMITED` (with `Retry-After`), `408 REQUEST_TIMEOUT`, \
            `413 PAYLOAD_TOO_LARGE` and `503` when a dependency is down.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Sign-up, login and sessions"),
        (name = "users", description = "My account and addresses"),
        (name = "shop", description = "Catalog and cart"),
        (name = "daily", description = "The daily Q&A"),
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
