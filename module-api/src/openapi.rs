//! The OpenAPI document, collected from the routes themselves.

use utoipa::OpenApi;

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Petory API",
        description = "Pet owners' community, places, daily records and a supplement shop. \
            Errors are RFC 9457 problems (`application/problem+json`) with a stable `code`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "health", description = "Probes and metrics"),
    ),
)]
pub struct ApiDoc;
