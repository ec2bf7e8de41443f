//! Browsing the catalog, and its upkeep by admins.

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use petory_core::platform::image::ImageUrls;
use petory_core::shop::CategoryId;
use petory_core::shop::ItemId;
use petory_core::shop::catalog::{
    self, Category, CategoryChanges, Item, ItemChanges, ItemFilter, ItemSort, NewItem,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::AdminUser;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryResponse {
    pub id: i64,
    pub name: String,
    pub sort_order: i32,
}

impl From<Category> for CategoryResponse {
    fn from(c: Category) -> Self {
        Self {
            id: c.id.into(),
            name: c.name,
            sort_order: c.sort_order,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResponse {
    pub id: i64,
    pub category_id: i64,
    pub name: String,
    pub brand: String,
    pub description: String,
    /// List price in KRW.
    pub price: i64,
    /// Percent off the list price.
    pub discount_rate: i16,
    /// What one costs now, in KRW.
    pub sale_price: i64,
    pub stock: i32,
    /// Object keys of the images (see uploads).
    pub image_keys: Vec<String>,
    /// Where to read each image, in the order of `image_keys`.
    pub image_urls: Vec<ImageUrls>,
    /// Average stars, 0 when unreviewed.
    pub average_rating: f64,
    pub review_count: i32,
    pub sales_count: i64,
    /// False once an admin retired the item.
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<Item> for ItemResponse {
    fn from(i: Item) -> Self {
        Self {
            id: i.id.into(),
            category_id: i.category_id.into(),
            name: i.name,
            brand: i.brand,
            description: i.description,
            price: i.price,
            discount_rate: i.discount_rate,
            sale_price: i.sale_price,
            stock: i.stock,
            image_keys: i.image_keys,
            image_urls: Vec::new(),
            average_rating: f64::from(i.rating_centi) / 100.0,
            review_count: i.review_count,
            sales_count: i.sales_count,
            is_active: i.is_active,
            created_at: i.created_at,
        }
    }
}

/// All categories, in display order.
#[utoipa::path(get, path = "/categories", tag = "shop",
    responses((status = 200, description = "Categories (one page)", body = inline(Page<CategoryResponse>))))]
pub async fn list_categories(
    State(state): State<AppState>,
) -> ApiResult<Json<Page<CategoryResponse>>> {
    let mut conn = state.db().await?;
    let categories = catalog::list_categories(&mut conn).await?;
    Ok(Json(Page::all(categories).map(Into::into)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemListQuery {
    /// Only this category.
    pub category: Option<i64>,
    /// Part of the name or brand.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// `sales`, `price_asc`, `price_desc`, `rating` or `newest` (default).
    #[param(max_length = 20)]
    pub sort: Option<String>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Items on sale: filter by category, search by name or brand, sort, page.
#[utoipa::path(get, path = "/items", tag = "shop", params(ItemListQuery),
    responses(
        (status = 200, description = "A page of items", body = inline(Page<ItemResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_items(
    State(state): State<AppState>,
    Query(query): Query<ItemListQuery>,
) -> ApiResult<Json<Page<ItemResponse>>> {
    item_page(&state, query, Some(true)).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminItemListQuery {
    /// `true`: retired items only; `false`: items on sale only; absent: both.
    pub retired: Option<bool>,
    /// Only this category.
    pub category: Option<i64>,
    /// Part of the name or brand.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// `sales`, `price_asc`, `price_desc`, `rating` or `newest` (default).
    #[param(max_length = 20)]
    pub sort: Option<String>,
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Every item, retired ones too: filter, search, sort and page as on the public catalog.
#[utoipa::path(get, path = "/admin/items", tag = "admin", security(("bearer" = [])), params(AdminItemListQuery),
    responses(
        (status = 200, description = "A page of items", body = inline(Page<ItemResponse>)),
        (status = 400, description = "`INVALID_QUERY`, `INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_all_items(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminItemListQuery>,
) -> ApiResult<Json<Page<ItemResponse>>> {
    let on_sale = query.retired.map(|retired| !retired);
    let query = ItemListQuery {
        category: query.category,
        q: query.q,
        sort: query.sort,
        cursor: query.cursor,
        limit: query.limit,
    };
    item_page(&state, query, on_sale).await
}

async fn item_page(
    state: &AppState,
    query: ItemListQuery,
    on_sale: Option<bool>,
) -> ApiResult<Json<Page<ItemResponse>>> {
    let sort = match query.sort.as_deref() {
        None => ItemSort::default(),
        Some(sort) => ItemSort::parse(sort).ok_or_else(|| {
            ApiError::bad_request(
                ProblemCode::InvalidQuery,
                "sort must be sales, price_asc, price_desc, rating or newest",
            )
        })?,
    };
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let filter = ItemFilter {
        on_sale,
        category_id: query.category.map(Into::into),
        query: query.q,
        sort,
        cursor: page.cursor().map(str::to_owned),
    };
    let mut conn = state.db().await?;
    let items = catalog::list_items(&mut conn, &filter, page.fetch_limit()).await?;
    drop(conn);
    let mut page: Page<ItemResponse> =
        Page::new(items, page.limit(), |item| catalog::cursor_of(sort, item)).map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

impl HasImages for ItemResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

impl ItemResponse {
    /// The response for one item, with its image URLs.
    async fn of(state: &AppState, item: Item) -> ApiResult<Self> {
        let mut response = Self::from(item);
        state.link_images([&mut response]).await?;
        Ok(response)
    }
}

/// One item on sale.
#[utoipa::path(get, path = "/items/{id}", tag = "shop", params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The item", body = ItemResponse),
        (status = 404, description = "`ITEM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_item(
    State(state): State<AppState>,
    Path(id): Path<ItemId>,
) -> ApiResult<Json<ItemResponse>> {
    let mut conn = state.db().await?;
    let item = catalog::get_item(&mut conn, id, false).await?;
    Ok(Json(ItemResponse::of(&state, item).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CategoryRequest {
    #[schema(min_length = 1, max_length = 50)]
    pub name: String,
    #[serde(default)]
    pub sort_order: i32,
}

/// Add a category.
#[utoipa::path(post, path = "/admin/categories", tag = "admin", security(("bearer" = [])), request_body = CategoryRequest,
    responses(
        (status = 201, description = "Created", body = CategoryResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`CATEGORY_NAME_TAKEN`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_category(
    State(state): State<AppState>,
    _admin: AdminUser,
    ValidJson(body): ValidJson<CategoryRequest>,
) -> ApiResult<(StatusCode, Json<CategoryResponse>)> {
    let mut conn = state.db().await?;
    let category =
        catalog::create_category(&mut conn, &body.name, body.sort_order, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(category.into())))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateCategoryRequest {
    #[schema(min_length = 1, max_length = 50)]
    pub name: Option<String>,
    pub sort_order: Option<i32>,
}

/// Rename or reorder a category.
#[utoipa::path(patch, path = "/admin/categories/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateCategoryRequest,
    responses(
        (status = 200, description = "Updated", body = CategoryResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`CATEGORY_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`CATEGORY_NAME_TAKEN`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_category(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<CategoryId>,
    ValidJson(body): ValidJson<UpdateCategoryRequest>,
) -> ApiResult<Json<CategoryResponse>> {
    let mut conn = state.db().await?;
    let changes = CategoryChanges {
        name: body.name.map(|name| name.trim().to_owned()),
        sort_order: body.sort_order,
    };
    Ok(Json(
        catalog::update_category(&mut conn, id, changes)
            .await?
            .into(),
    ))
}

/// Delete an empty category.
#[utoipa::path(delete, path = "/admin/categories/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`CATEGORY_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`CATEGORY_NOT_EMPTY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_category(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<CategoryId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    catalog::delete_category(&mut conn, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct ItemRequest {
    pub category_id: i64,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub brand: String,
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub description: String,
    /// KRW.
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub price: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 90)]
    pub discount_rate: i16,
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub stock: i32,
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 10)]
    pub image_keys: Vec<String>,
}

/// Put an item on sale.
#[utoipa::path(post, path = "/admin/items", tag = "admin", security(("bearer" = [])), request_body = ItemRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Created", body = ItemResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`CATEGORY_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_item(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ValidJson(body): ValidJson<ItemRequest>,
) -> ApiResult<(StatusCode, Json<ItemResponse>)> {
    let new = NewItem {
        category_id: body.category_id.into(),
        name: body.name,
        brand: body.brand,
        description: body.description,
        price: body.price,
        discount_rate: body.discount_rate,
        stock: body.stock,
        image_keys: body.image_keys,
    };
    let mut conn = state.db().await?;
    let item = catalog::create_item(
        &mut conn,
        state.object_store.as_ref(),
        admin.id,
        new,
        state.clock.now(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ItemResponse::of(&state, item).await?),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateItemRequest {
    pub category_id: Option<i64>,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 50)]
    pub brand: Option<String>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub price: Option<i64>,
    #[schema(minimum = 0, maximum = 90)]
    pub discount_rate: Option<i16>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub stock: Option<i32>,
    #[schema(value_type = Option<Vec<crate::extract::ObjectKey>>, max_items = 10)]
    pub image_keys: Option<Vec<String>>,
    /// `true` puts a retired item back on sale.
    pub is_active: Option<bool>,
}

/// Change an item.
#[utoipa::path(patch, path = "/admin/items/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateItemRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "Updated", body = ItemResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ITEM_NOT_FOUND`, `CATEGORY_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_item(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<ItemId>,
    ValidJson(body): ValidJson<UpdateItemRequest>,
) -> ApiResult<Json<ItemResponse>> {
    let changes = ItemChanges {
        category_id: body.category_id.map(Into::into),
        name: body.name.map(|name| name.trim().to_owned()),
        brand: body.brand.map(|brand| brand.trim().to_owned()),
        description: body.description,
        price: body.price,
        discount_rate: body.discount_rate,
        stock: body.stock,
        image_keys: body.image_keys,
        is_active: body.is_active,
    };
    let mut conn = state.db().await?;
    let item = catalog::update_item(
        &mut conn,
        state.object_store.as_ref(),
        admin.id,
        id,
        changes,
        state.clock.now(),
    )
    .await?;
    Ok(Json(ItemResponse::of(&state, item).await?))
}

/// Retire an item: off sale, kept for past orders and reviews.
#[utoipa::path(delete, path = "/admin/items/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Retired"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`ITEM_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retire_item(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<ItemId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    catalog::retire_item(&mut conn, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
