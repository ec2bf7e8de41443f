//! A Kakao Local-compatible sandbox: `GET /v2/local/search/keyword.json` with Kakao's parameters,
//! limits, `KakaoAK` authorisation, answer and error format. Every keyword finds the same number
//! of made-up places spread around the centre (nearest first), with ids that stay the same for a
//! keyword, so imports can be repeated; the keyword's words choose Kakao's category.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, Clone)]
pub struct SandboxSettings {
    /// The REST API key that `Authorization: KakaoAK …` must carry.
    pub rest_api_key: String,
    /// How many places any keyword finds (Kakao pages through at most 45 of them).
    pub places_per_keyword: usize,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            rest_api_key: "DEV-KAKAO-REST-KEY".into(),
            places_per_keyword: 45,
        }
    }
}

/// Kakao's own limits: 15 documents a page, 45 pages, 20 km around the centre.
const MAX_SIZE: usize = 15;
const MAX_PAGE: usize = 45;
const MAX_RADIUS_M: f64 = 20_000.0;
/// Documents Kakao lets a client page through, whatever `total_count` is.
const PAGEABLE: usize = 45;
/// Where a search without a centre happens: Seoul City Hall.
const DEFAULT_CENTRE: (f64, f64) = (126.9779, 37.5663);

pub struct KakaoLocalSandbox {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl KakaoLocalSandbox {
    pub fn serve(listener: TcpListener, settings: SandboxSettings) -> std::io::Result<Self> {
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/v2/local/search/keyword.json", get(keyword))
            .with_state(Arc::new(settings));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "kakao local sandbox stopped");
            }
        });
        Ok(Self { addr, task })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn wait(self) {
        let task = &mut { self }.task;
        let _ = task.await;
    }
}

impl Drop for KakaoLocalSandbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Kakao's error answer: `{"errorType", "message"}`.
struct KakaoError {
    status: StatusCode,
    error_type: &'static str,
    message: String,
}

impl IntoResponse for KakaoError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"errorType": self.error_type, "message": self.message})),
        )
            .into_response()
    }
}

fn error(status: StatusCode, error_type: &'static str, message: &str) -> KakaoError {
    KakaoError {
        status,
        error_type,
        message: message.to_owned(),
    }
}

fn bad_argument(message: &str) -> KakaoError {
    error(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

/// A number parameter: absent is `default`, anything unreadable or outside `range` is Kakao's 400.
fn number<T: std::str::FromStr + PartialOrd>(
    params: &HashMap<String, String>,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, KakaoError> {
    match params.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .ok()
            .filter(|value| range.contains(value))
            .ok_or_else(|| bad_argument(&format!("{name} is invalid"))),
    }
}

async fn keyword(
    State(settings): State<Arc<SandboxSettings>>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("KakaoAK "))
        == Some(settings.rest_api_key.as_str());
    if !authorised {
        return error(
            StatusCode::UNAUTHORIZED,
            "AccessDeniedError",
            "cannot find appKey",
        )
        .into_response();
    }
    match answer(&settings, &params) {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

fn answer(
    settings: &SandboxSettings,
    params: &HashMap<String, String>,
) -> Result<Value, KakaoError> {
    let query = params.get("query").map(|query| query.trim()).unwrap_or("");
    if query.is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            "query parameter required",
        ));
    }
    let page = number(params, "page", 1, 1..=MAX_PAGE)?;
    let size = number(params, "size", MAX_SIZE, 1..=MAX_SIZE)?;
    let x = number(params, "x", f64::NAN, -180.0..=180.0).map(|x| (!x.is_nan()).then_some(x))?;
    let y = number(params, "y", f64::NAN, -90.0..=90.0).map(|y| (!y.is_nan()).then_some(y))?;
    let radius = number(params, "radius", MAX_RADIUS_M, 0.0..=MAX_RADIUS_M)?;
    if !matches!(
        params.get("sort").map(String::as_str),
        None | Some("accuracy" | "distance")
    ) {
        return Err(bad_argument("sort is invalid"));
    }
    let centre = x.zip(y);
    let (group_code, group_name, path) = category(query);
    let total = settings.places_per_keyword;
    let pageable = total.min(PAGEABLE);
    let documents: Vec<Value> = (0..pageable)
        .skip((page - 1) * size)
        .take(size)
        .map(|n| {
            let (lng, lat, distance) = spread(centre.unwrap_or(DEFAULT_CENTRE), radius, n, total);
            let id = place_id(query, n);
            json!({
                "id": id.to_string(),
                "place_name": format!("{query} {}호점", n + 1),
                "category_name": path,
                "category_group_code": group_code,
                "category_group_name": group_name,
                "phone": format!("02-{:03}-{:04}", 100 + n % 900, id % 10_000),
                "address_name": format!("서울 중구 태평로1가 {}", n + 1),
                "road_address_name": format!("서울 중구 세종대로 {}", 110 + n),
                "x": format!("{lng:.7}"),
                "y": format!("{lat:.7}"),
                "place_url": format!("http://place.map.kakao.com/{id}"),
                "distance": centre.map(|_| format!("{distance:.0}")).unwrap_or_default(),
            })
        })
        .collect();
    Ok(json!({
        "meta": {
            "total_count": total,
            "pageable_count": pageable,
            "is_end": page * size >= pageable,
            "same_name": {"region": [], "keyword": query, "selected_region": ""},
        },
        "documents": documents,
    }))
}

/// Kakao's category group (code, name) and path for a keyword, as its words suggest.
fn category(query: &str) -> (&'static str, &'static str, &'static str) {
    if query.contains("카페") {
        ("CE7", "카페", "음식점 > 카페")
    } else if query.contains("병원") {
        ("", "", "가정,생활 > 반려동물 > 동물병원")
    } else if query.contains("식당") || query.contains("맛집") {
        ("FD6", "음식점", "음식점 > 한식")
    } else if query.contains("펜션") || query.contains("호텔") || query.contains("숙소") {
        ("AD5", "숙박", "여행 > 숙박 > 펜션")
    } else if query.contains("공원") {
        ("", "", "여행 > 공원")
    } else {
        ("", "", "가정,생활 > 반려동물 > 애견용품")
    }
}

/// A stable id for the keyword's `n`th place (FNV-1a of the keyword, then `n`).
fn place_id(query: &str, n: usize) -> u64 {
    let hash = query.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    10_000_000 + (hash % 1_000_000) * 1_000 + n as u64
}

/// The `n`th of `total` places on a sunflower spiral within `radius` metres of `(lng, lat)`,
/// nearer for smaller `n`: its position and distance in metres.
fn spread(centre: (f64, f64), radius: f64, n: usize, total: usize) -> (f64, f64, f64) {
    const GOLDEN_ANGLE: f64 = 2.399_963_229_728_653;
    const METRES_PER_DEGREE: f64 = 111_320.0;
    let distance = radius.min(5_000.0) * ((n as f64 + 0.5) / total.max(1) as f64).sqrt();
    let angle = n as f64 * GOLDEN_ANGLE;
    let (lng, lat) = centre;
    let lat_offset = distance * angle.sin() / METRES_PER_DEGREE;
    let lng_offset =
        distance * angle.cos() / (METRES_PER_DEGREE * lat.to_radians().cos().max(0.01));
    (
        (lng + lng_offset).clamp(-180.0, 180.0),
        (lat + lat_offset).clamp(-90.0, 90.0),
        distance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_stay_inside_the_radius_and_nearest_first() {
        let mut last = -1.0;
        for n in 0..45 {
            let (_, _, distance) = spread(DEFAULT_CENTRE, 2_000.0, n, 45);
            assert!(distance <= 2_000.0 && distance > last);
            last = distance;
        }
    }

    #[test]
    fn ids_are_stable_per_keyword() {
        assert_eq!(place_id("애견카페", 3), place_id("애견카페", 3));
        assert_ne!(place_id("애견카페", 3), place_id("애견카페", 4));
        assert_ne!(place_id("애견카페", 3), place_id("동물병원", 3));
    }
}
