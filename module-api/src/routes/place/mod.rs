//! Pet-friendly places: finding them near a position, their details, likes, and admins' upkeep.

pub mod review;

use crate::error::ProblemCode;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveTime, Utc};
use petory_core::place::{
    self, Around, Hours, PetSize, PlaceCategory, PlaceCursor, PlaceDraft, PlaceId, PlaceItem,
    PlaceQuery, PlaceView,
};
use petory_core::platform::image::ImageUrls;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::app::{AppState, HasImages};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Path, Query, ValidJson};
use crate::pagination::{Page, PageQuery};
use crate::routes::community::{search_of, viewer_of};

#[derive(Debug, Serialize, ToSchema)]
pub struct PetPolicy {
    /// The sizes of pets welcome.
    pub sizes: Vec<PetSize>,
    pub indoor_allowed: bool,
    pub leash_required: bool,
    /// KRW per pet.
    pub extra_fee: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OpeningHours {
    /// ISO weekday: 1 is Monday, 7 Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: i16,
    /// Local time, `HH:MM`.
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    #[serde(with = "hh_mm")]
    pub opens: NaiveTime,
    /// Local time, `HH:MM`; before `opens` when the opening runs past midnight.
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    #[serde(with = "hh_mm")]
    pub closes: NaiveTime,
}

/// Times of day as `HH:MM`.
mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        NaiveTime::parse_from_str(&text, "%H:%M").map_err(serde::de::Error::custom)
    }
}

impl From<Hours> for OpeningHours {
    fn from(hours: Hours) -> Self {
        Self {
            weekday: hours.weekday,
            opens: hours.opens,
            closes: hours.closes,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceResponse {
    pub id: i64,
    pub name: String,
    pub category: PlaceCategory,
    pub address: String,
    pub road_address: String,
    pub lat: f64,
    pub lng: f64,
    pub phone: String,
    pub pet_policy: PetPolicy,
    /// Present on a place's own page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<Vec<OpeningHours>>,
    pub homepage: String,
    pub image_keys: Vec<String>,
    pub image_urls: Vec<ImageUrls>,
    /// The mean of the reviews' stars; absent before the first review.
    pub average_stars: Option<f64>,
    pub review_count: i32,
    pub like_count: i32,
    pub liked_by_me: bool,
    /// Metres from the position searched around (lists with `lat`/`lng` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Hidden by moderation (admins see it).
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
}

impl PlaceResponse {
    fn new(place: place::Place, liked_by_me: bool) -> Self {
        Self {
            average_stars: place.average_stars(),
            id: place.id.into(),
            name: place.name,
            category: place.category,
            address: place.address,
            road_address: place.road_address,
            lat: place.lat,
            lng: place.lng,
            phone: place.phone,
            pet_policy: PetPolicy {
                sizes: place.pet_sizes,
                indoor_allowed: place.indoor_allowed,
                leash_required: place.leash_required,
                extra_fee: place.extra_fee,
            },
            hours: None,
            homepage: place.homepage,
            image_keys: place.image_keys,
            image_urls: Vec::new(),
            review_count: place.review_count,
            like_count: place.like_count,
            liked_by_me,
            distance_m: None,
            hidden: place.hidden_at.is_some(),
            created_at: place.created_at,
        }
    }

    async fn of(state: &AppState, view: PlaceView) -> ApiResult<Self> {
        let mut response = Self::new(view.place, view.liked_by_me);
        response.hours = Some(view.hours.into_iter().map(Into::into).collect());
        state.link_images([&mut response]).await?;
        Ok(response)
    }
}

impl From<PlaceItem> for PlaceResponse {
    fn from(item: PlaceItem) -> Self {
        let mut response = Self::new(item.place, item.liked_by_me);
        response.distance_m = item.distance_m;
        response
    }
}

impl HasImages for PlaceResponse {
    fn images(&mut self) -> (&[String], &mut Vec<ImageUrls>) {
        (&self.image_keys, &mut self.image_urls)
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaceListQuery {
    /// Latitude of the position to search around (with `lng`): nearest first.
    #[param(minimum = -90, maximum = 90)]
    pub lat: Option<f64>,
    #[param(minimum = -180, maximum = 180)]
    pub lng: Option<f64>,
    /// Metres around the position, at most 20,000 (default 3,000).
    #[param(minimum = 1, maximum = 20000)]
    pub radius_m: Option<f64>,
    /// Words that must all occur in the name or address (Korean substrings too).
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    #[param(inline)]
    pub category: Option<PlaceCategory>,
    /// Only places that welcome pets of this size.
    #[param(inline)]
    pub pet_size: Option<PetSize>,
    /// Only places open now (in the business time zone).
    #[serde(default)]
    pub open_now: bool,
    #[param(max_length = 100)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

const DEFAULT_RADIUS_M: f64 = 3000.0;

fn place_cursor(cursor: &str) -> Option<PlaceCursor> {
    match cursor.split_once('_') {
        Some((chord, id)) => Some(PlaceCursor {
            chord_m: Some(
                chord
                    .parse()
                    .ok()
                    .filter(|d: &f64| d.is_finite() && *d >= 0.0)?,
            ),
            id: PlaceId(id.parse().ok().filter(|id| *id > 0)?),
        }),
        None => Some(PlaceCursor {
            chord_m: None,
            id: PlaceId(cursor.parse().ok().filter(|id| *id > 0)?),
        }),
    }
}

/// Places: around a position nearest first (`lat`, `lng`, `radius_m`), or newest first.
#[utoipa::path(get, path = "/places", tag = "places", security((), ("bearer" = [])), params(PlaceListQuery),
    responses(
        (status = 200, description = "A page of places", body = inline(Page<PlaceResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY` (`lat` without `lng` or the reverse, `radius_m` without a position, `q` without a letter)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_places(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Query(query): Query<PlaceListQuery>,
) -> ApiResult<Json<Page<PlaceResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    if [query.lat, query.lng, query.radius_m]
        .into_iter()
        .flatten()
        .any(|number| !number.is_finite())
    {
        return Err(ApiError::bad_request(
            ProblemCode::InvalidQuery,
            "lat, lng and radius_m are finite numbers",
        ));
    }
    let around = match (query.lat, query.lng, query.radius_m) {
        (Some(lat), Some(lng), radius) => Some(Around {
            lat,
            lng,
            radius_m: radius.unwrap_or(DEFAULT_RADIUS_M),
        }),
        (None, None, None) => None,
        _ => {
            return Err(ApiError::bad_request(
                ProblemCode::InvalidQuery,
                "lat and lng go together, and radius_m needs them",
            ));
        }
    };
    let after = page
        .parsed_cursor(place_cursor)?
        .filter(|cursor| cursor.chord_m.is_some() == around.is_some());
    if page.cursor().is_some() && after.is_none() {
        return Err(ApiError::invalid_cursor());
    }
    let now = state.clock.now().with_timezone(&state.calendar.zone());
    let filter = PlaceQuery {
        around,
        search: search_of(query.q.as_deref())?,
        category: query.category,
        pet_size: query.pet_size,
        open_at: query.open_now.then(|| place::local_weekday_and_time(now)),
        after,
    };
    let mut conn = state.db().await?;
    let items = place::search(
        &mut conn,
        state.place_index.as_deref(),
        viewer_of(user.as_ref()),
        &filter,
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    let mut page: Page<PlaceResponse> = Page::new(items, page.limit(), |item| match item.chord_m {
        Some(chord) => format!("{chord}_{}", item.place.id),
        None => item.place.id.to_string(),
    })
    .map(Into::into);
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

/// One place, with its hours, rating and my like.
#[utoipa::path(get, path = "/places/{id}", tag = "places", security((), ("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "The place", body = PlaceResponse),
        (status = 404, description = "`PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_place(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Path(id): Path<PlaceId>,
) -> ApiResult<Json<PlaceResponse>> {
    let mut conn = state.db().await?;
    let view = place::get(&mut conn, viewer_of(user.as_ref()), id).await?;
    drop(conn);
    Ok(Json(PlaceResponse::of(&state, view).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceLikeResponse {
    pub liked: bool,
    pub like_count: i32,
}

/// Like a place (again is harmless).
#[utoipa::path(put, path = "/places/{id}/like", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Liked", body = PlaceLikeResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND` (also hidden or deleted places)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn like_place(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PlaceId>,
) -> ApiResult<Json<PlaceLikeResponse>> {
    let mut conn = state.db().await?;
    let like_count = place::like(
        &mut conn,
        state.place_ranking.as_ref(),
        user.id,
        id,
        state.clock.now(),
    )
    .await?;
    Ok(Json(PlaceLikeResponse {
        liked: true,
        like_count,
    }))
}

/// Take my like of a place back (none is harmless).
#[utoipa::path(delete, path = "/places/{id}/like", tag = "places", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, description = "Not liked", body = PlaceLikeResponse),
        (status = 403, description = "`EMAIL_NOT_VERIFIED` (the mailed link not followed yet), `ACCOUNT_SUSPENDED`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unlike_place(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<PlaceId>,
) -> ApiResult<Json<PlaceLikeResponse>> {
    let mut conn = state.db().await?;
    let like_count = place::unlike(&mut conn, state.place_ranking.as_ref(), user.id, id).await?;
    Ok(Json(PlaceLikeResponse {
        liked: false,
        like_count,
    }))
}

/// The places I like, the latest like first.
#[utoipa::path(get, path = "/users/me/liked-places", tag = "places", security(("bearer" = [])), params(PageQuery),
    responses(
        (status = 200, description = "A page of places", body = inline(Page<PlaceResponse>)),
        (status = 400, description = "`INVALID_CURSOR`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn liked_places(
    State(state): State<AppState>,
    user: AuthUser,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<PlaceResponse>>> {
    let after = page.parsed_cursor(|cursor| {
        let (liked_at, place) = crate::pagination::parse_instant_id_cursor(cursor)?;
        Some(place::LikeCursor { liked_at, place })
    })?;
    let mut conn = state.db().await?;
    let liked = place::liked_by(&mut conn, user.id, after, page.fetch_limit()).await?;
    drop(conn);
    let mut page: Page<PlaceResponse> = Page::new(liked, page.limit(), |(place, liked_at)| {
        crate::pagination::instant_id_cursor(*liked_at, place.id)
    })
    .map(|(place, _)| PlaceResponse::new(place, true));
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PlaceRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    pub category: PlaceCategory,
    #[schema(min_length = 1, max_length = 200)]
    pub address: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub road_address: String,
    #[schema(minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    pub lng: f64,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: String,
    #[serde(default)]
    #[schema(max_items = 3)]
    pub pet_sizes: Vec<PetSize>,
    #[serde(default)]
    pub indoor_allowed: bool,
    #[serde(default = "leash_by_default")]
    pub leash_required: bool,
    /// KRW per pet.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000)]
    pub extra_fee: i32,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub homepage: String,
    #[serde(default)]
    #[schema(value_type = Vec<crate::extract::ObjectKey>, max_items = 10)]
    pub image_keys: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 21)]
    pub hours: Vec<OpeningHours>,
}

fn leash_by_default() -> bool {
    true
}

impl From<PlaceRequest> for PlaceDraft {
    fn from(body: PlaceRequest) -> Self {
        let mut pet_sizes = body.pet_sizes;
        pet_sizes.sort();
        pet_sizes.dedup();
        Self {
            name: body.name,
            category: body.category,
            address: body.address,
            road_address: body.road_address,
            lat: body.lat,
            lng: body.lng,
            phone: body.phone,
            pet_sizes,
            indoor_allowed: body.indoor_allowed,
            leash_required: body.leash_required,
            extra_fee: body.extra_fee,
            homepage: body.homepage,
            image_keys: body.image_keys,
            hours: body
                .hours
                .into_iter()
                .map(|hours| Hours {
                    weekday: hours.weekday,
                    opens: hours.opens,
                    closes: hours.closes,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminPlaceListQuery {
    /// Only hidden places (`true`, by reports or an admin's decision) or only shown ones.
    pub hidden: Option<bool>,
    /// Words that must all occur in the name or address (Korean substrings too).
    #[param(min_length = 1, max_length = 100)]
    pub q: Option<String>,
    /// `next_cursor` of the previous page; empty or absent for the first page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
    #[param(inline)]
    pub limit: Option<crate::pagination::Limit>,
}

/// Places as admins see them, newest first: hidden ones too (each with `hidden`), never those
/// taken down.
#[utoipa::path(get, path = "/admin/places", tag = "admin", security(("bearer" = [])), params(AdminPlaceListQuery),
    responses(
        (status = 200, description = "A page of places", body = inline(Page<PlaceResponse>)),
        (status = 400, description = "`INVALID_CURSOR`, `INVALID_QUERY`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "`AUTHENTICATION_REQUIRED`", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_admin_places(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(query): Query<AdminPlaceListQuery>,
) -> ApiResult<Json<Page<PlaceResponse>>> {
    let page = PageQuery {
        cursor: query.cursor,
        limit: query.limit,
    };
    let before = page.before_id::<PlaceId>()?;
    let search = search_of(query.q.as_deref())?;
    let mut conn = state.db().await?;
    let places = place::admin_list(
        &mut conn,
        query.hidden,
        search.as_ref(),
        before,
        page.fetch_limit(),
    )
    .await?;
    drop(conn);
    let mut page: Page<PlaceResponse> = Page::by_id(places, page.limit(), |place| place.id)
        .map(|place| PlaceResponse::new(place, false));
    state.link_images(&mut page.items).await?;
    Ok(Json(page))
}

/// Add a place (admins).
#[utoipa::path(post, path = "/admin/places", tag = "admin", security(("bearer" = [])), request_body = PlaceRequest,
    responses(
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 201, description = "Added", body = PlaceResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key of purpose `PLACE`)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_place(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ValidJson(body): ValidJson<PlaceRequest>,
) -> ApiResult<(StatusCode, Json<PlaceResponse>)> {
    let mut conn = state.db().await?;
    let view = place::create(
        &mut conn,
        state.object_store.as_ref(),
        admin.id,
        body.into(),
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok((
        StatusCode::CREATED,
        Json(PlaceResponse::of(&state, view).await?),
    ))
}

/// Rewrite a place (admins).
#[utoipa::path(put, path = "/admin/places/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PlaceRequest,
    responses(
        (status = 200, description = "Rewritten", body = PlaceResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`UPLOAD_IN_USE` (the image belongs to other content; upload it again)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`; `UPLOAD_NOT_FOUND`, `UPLOAD_NOT_UPLOADED`, `UPLOAD_SIZE_MISMATCH`, `UPLOAD_NOT_AN_IMAGE`, `UPLOAD_TOO_LARGE_IMAGE` (an image key; `context.key` names it)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_place(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<PlaceId>,
    ValidJson(body): ValidJson<PlaceRequest>,
) -> ApiResult<Json<PlaceResponse>> {
    let mut conn = state.db().await?;
    let view = place::update(
        &mut conn,
        state.object_store.as_ref(),
        admin.id,
        id,
        body.into(),
        state.clock.now(),
    )
    .await?;
    drop(conn);
    Ok(Json(PlaceResponse::of(&state, view).await?))
}

/// Take a place down (admins).
#[utoipa::path(delete, path = "/admin/places/{id}", tag = "admin", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 204, description = "Taken down"),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`PLACE_NOT_FOUND`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_place(
    State(state): State<AppState>,
    _admin: AdminUser,
    Path(id): Path<PlaceId>,
) -> ApiResult<StatusCode> {
    let mut conn = state.db().await?;
    place::delete(&mut conn, id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which ranking.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RankingPeriodParam {
    /// All likes.
    #[default]
    All,
    /// Likes of the last 7 days.
    Week,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// How many places, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    #[param(inline)]
    pub category: Option<PlaceCategory>,
    #[param(inline)]
    pub period: Option<RankingPeriodParam>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankedPlace {
    pub id: i64,
    pub name: String,
    pub category: PlaceCategory,
    /// The first photo, per size, if any.
    pub image_urls: Option<ImageUrls>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingEntry {
    /// 1 for the most liked.
    pub rank: usize,
    /// Likes (of the period).
    pub like_count: i64,
    pub place: RankedPlace,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankingResponse {
    pub items: Vec<RankingEntry>,
}

/// The most-liked places, from Redis; from PostgreSQL in the same order while Redis cannot
/// answer (the `X-Ranking-Source` header says which). The weekly ranking counts likes of the
/// last 7 days and is rebuilt every 10 minutes.
#[utoipa::path(get, path = "/places/ranking", tag = "places", params(RankingQuery),
    responses(
        (status = 200, description = "The ranking", body = RankingResponse,
            headers(("X-Ranking-Source" = String, description = "`redis`, or `database` when Redis could not answer"))),
    ))]
pub async fn ranking(
    State(state): State<AppState>,
    Query(query): Query<RankingQuery>,
) -> ApiResult<(
    [(axum::http::HeaderName, &'static str); 1],
    Json<RankingResponse>,
)> {
    let period = match query.period.unwrap_or_default() {
        RankingPeriodParam::All => petory_core::place::ranking::RankingPeriod::AllTime,
        RankingPeriodParam::Week => petory_core::place::ranking::RankingPeriod::Week,
    };
    let limit = usize::try_from(query.limit.unwrap_or(10).clamp(1, 100)).unwrap_or(10);
    let ranking = state
        .place_rankings
        .top(&state, period, query.category, limit)
        .await?;
    let (ranked, source) = ranking.as_ref();
    // One look at the uploads for every first photo of the page.
    let firsts: Vec<String> = ranked
        .iter()
        .filter_map(|entry| entry.place.image_keys.first().cloned())
        .collect();
    let mut first_urls = state.image_urls(&firsts).await?.into_iter();
    let mut items = Vec::with_capacity(ranked.len());
    for entry in ranked {
        let image_urls = if entry.place.image_keys.is_empty() {
            None
        } else {
            first_urls.next()
        };
        items.push(RankingEntry {
            rank: entry.rank,
            like_count: entry.likes,
            place: RankedPlace {
                id: entry.place.id.into(),
                name: entry.place.name.clone(),
                category: entry.place.category,
                image_urls,
            },
        });
    }
    let source = match source {
        place::ranking::Source::Store => "redis",
        place::ranking::Source::Database => "database",
    };
    Ok((
        [(
            axum::http::HeaderName::from_static("x-ranking-source"),
            source,
        )],
        Json(RankingResponse { items }),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct PlaceImportRequest {
    /// Kakao Local's keyword, e.g. `애견카페`.
    #[schema(min_length = 1, max_length = 100)]
    pub query: String,
    /// Longitude of the centre.
    #[schema(minimum = -180, maximum = 180)]
    pub x: f64,
    /// Latitude of the centre.
    #[schema(minimum = -90, maximum = 90)]
    pub y: f64,
    /// Metres around the centre.
    #[schema(minimum = 0, maximum = 20000)]
    pub radius: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceImportResponse {
    /// Kakao pages read.
    pub pages: u32,
    /// Places new to Petory.
    pub created: usize,
    /// Places imported before, brought up to date.
    pub updated: usize,
}

/// Import places from Kakao Local's keyword search around a point (admins); every page of it,
/// idempotent by Kakao's place id.
#[utoipa::path(post, path = "/admin/places/import", tag = "admin", security(("bearer" = [])), request_body = PlaceImportRequest,
    responses(
        (status = 200, description = "Imported", body = PlaceImportResponse),
        (status = 403, description = "`ADMIN_ONLY`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED` (also a blank keyword)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "`PLACE_DIRECTORY_REFUSED` (Kakao refused the REST API key)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "`PLACES_UNAVAILABLE` (Kakao Local cannot be reached)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import_places(
    State(state): State<AppState>,
    _admin: AdminUser,
    ValidJson(body): ValidJson<PlaceImportRequest>,
) -> ApiResult<Json<PlaceImportResponse>> {
    let counts = place::import::import(
        &state.db,
        state.place_directory.as_ref(),
        petory_core::ports::DirectoryQuery {
            query: body.query,
            x: body.x,
            y: body.y,
            radius_m: body.radius,
            page: 1,
        },
        state.clock.now(),
    )
    .await?;
    Ok(Json(PlaceImportResponse {
        pages: counts.pages,
        created: counts.created,
        updated: counts.updated,
    }))
}
