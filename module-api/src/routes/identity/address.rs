//! My delivery addresses.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::identity::AddressId;
use petory_core::identity::address::{self, Address, AddressChanges, NewAddress};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiResult, Problem};
use crate::extract::{Json, Path, ValidJson};
use crate::pagination::Page;

#[derive(Debug, Serialize, ToSchema)]
pub struct AddressResponse {
    pub id: i64,
    pub label: String,
    pub recipient: String,
    pub phone: String,
    pub zip_code: String,
    pub address1: String,
    pub address2: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Address> for AddressResponse {
    fn from(a: Address) -> Self {
        Self {
            id: a.id.into(),
            label: a.label,
            recipient: a.recipient,
            phone: a.phone,
            zip_code: a.zip_code,
            address1: a.address1,
            address2: a.address2,
            is_default: a.is_default,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AddressRequest {
    /// e.g. "Home"
    #[serde(default)]
    #[schema(max_length = 30)]
    pub label: String,
    #[schema(min_length = 1, max_length = 50)]
    pub recipient: String,
    #[schema(pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: String,
    #[schema(pattern = r"^[0-9]{5}$", example = "06236")]
    pub zip_code: String,
    #[schema(example = "서울특별시 강남구 테헤란로 123")]
    #[schema(min_length = 1, max_length = 200)]
    pub address1: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address2: String,
    /// Make this the default (the first address always is).
    #[serde(default)]
    pub is_default: bool,
}

impl From<AddressRequest> for NewAddress {
    fn from(r: AddressRequest) -> Self {
        Self {
            label: r.label,
            recipient: r.recipient,
            phone: r.phone,
            zip_code: r.zip_code,
            address1: r.address1,
            address2: r.address2,
            is_default: r.is_default,
        }
    }
}

/// My addresses, the default first.
#[utoipa::path(get, path = "/users/me/addresses", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "Addresses (one page: there are at most a few)", body = inline(Page<AddressResponse>)),
    ))]
pub async fn list_addresses(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Page<AddressResponse>>> {
    let mut conn = state.db().await?;
    let addresses = address::list(&mut conn, user.id).await?;
    Ok(Json(Page::all(addresses).map(Into::into)))
}

/// Add an address.
#[utoipa::path(post, path = "/users/me/addresses", tag = "users", security(("bearer" = [])), request_body = AddressRequest,
    responses(
        (status = 201, description = "Added", body = AddressResponse),
        (status = 409, description = "`TOO_MANY_ADDRESSES` (10 kept already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_address(
    State(state): State<AppState>,
    user: AuthUser,
    ValidJson(body): ValidJson<AddressRequest>,
) -> ApiResult<(StatusCode, Json<AddressResponse>)> {
    let mut conn = state.db().await?;
    let created = address::create(&mut conn, user.id, body.into(), state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One of my addresses.
#[utoipa::path(get, path = "/users/me/addresses/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Address", body = AddressResponse),
        (status = 404, description = "`ADDRESS_NOT_FOUND` (also for other users' addresses)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_address(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<AddressId>,
) -> ApiResult<Json<AddressResponse>> {
    let mut conn = state.db().await?;
    Ok(Json(address::get(&mut conn, user.id, id).await?.into()))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateAddressRequest {
    #[schema(max_length = 30)]
    pub label: Option<String>,
    #[schema(min_length = 1, max_length = 50)]
    pub recipient: Option<String>,
    #[schema(pattern = r"^[0-9+][0-9-]{7,19}$", example = "010-1234-5678")]
    pub phone: Option<String>,
    #[schema(pattern = r"^[0-9]{5}$", example = "06236")]
    pub zip_code: Option<String>,
    #[schema(min_length = 1, max_length = 200)]
    pub address1: Option<String>,
    #[schema(max_length = 200)]
    pub address2: Option<String>,
    /// `true` makes this the default address.
    #[serde(default)]
    pub is_default: bool,
}

/// Change one of my addresses.
#[utoipa::path(patch, path = "/users/me/addresses/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateAddressRequest,
    responses(
        (status = 200, description = "Updated", body = AddressResponse),
        (status = 404, description = "`ADDRESS_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_address(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<AddressId>,
    ValidJson(body): ValidJson<UpdateAddressRequest>,
) -> ApiResult<Json<AddressResponse>> {
    let changes = AddressChanges {
        label: body.label,
        recipient: body.recipient,
        phone: body.phone,
        zip_code: body.zip_code,
        address1: body.address1,
        address2: body.address2,
    };
    let mut conn = state.db().await?;
    Ok(Json(
        address::update(
            &mut conn,
            user.id,
            id,
            changes,
            body.is_default,
            state.clock.now(),
        )
        .await?
        .into(),
    ))
}

/// Delete one of my addresses; if it was the default, the newest other one becomes default.
#[utoipa::path(delete, path = "/users/me/addresses/{id}", tag = "users", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`ADDRESS_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_address(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<AddressId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    address::delete(&mut conn, user.id, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
