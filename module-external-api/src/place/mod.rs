//! Kakao Local's keyword search (`GET /v2/local/search/keyword.json`, `Authorization: KakaoAK
//! {REST API key}`) as the place directory. The base URL is configuration, so tests and
//! `scripts/dev` use a local server that answers in Kakao's wire format (`sandbox`, behind the
//! `kakao-local-sandbox` feature).

#[cfg(feature = "kakao-local-sandbox")]
pub mod sandbox;

use std::time::Duration;

use async_trait::async_trait;
use petory_core::config::{self, ConfigError};
use petory_core::ports::{
    DirectoryError, DirectoryPage, DirectoryPlace, DirectoryQuery, PlaceDirectory,
};
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct KakaoLocalSettings {
    pub base_url: String,
    pub rest_api_key: String,
    pub timeout: Duration,
}

impl KakaoLocalSettings {
    /// `KAKAO_LOCAL_URL` (`https://dapi.kakao.com`) and `KAKAO_REST_API_KEY`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            base_url: config::var_or("KAKAO_LOCAL_URL", "https://dapi.kakao.com")?,
            rest_api_key: config::var_or("KAKAO_REST_API_KEY", "")?,
            timeout: Duration::from_secs(10),
        })
    }
}

pub struct KakaoLocal {
    settings: KakaoLocalSettings,
    http: reqwest::Client,
}

/// Places per page (Kakao's largest).
const PAGE_SIZE: u32 = 15;

#[derive(Deserialize)]
struct Answer {
    meta: Meta,
    documents: Vec<Document>,
}

#[derive(Deserialize)]
struct Meta {
    is_end: bool,
}

#[derive(Deserialize)]
struct Document {
    id: String,
    place_name: String,
    #[serde(default)]
    category_name: String,
    #[serde(default)]
    category_group_code: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    address_name: String,
    #[serde(default)]
    road_address_name: String,
    /// Longitude, as text.
    x: String,
    /// Latitude, as text.
    y: String,
    #[serde(default)]
    place_url: String,
}

impl KakaoLocal {
    pub fn new(settings: KakaoLocalSettings) -> Self {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default();
        Self { settings, http }
    }
}

#[async_trait]
impl PlaceDirectory for KakaoLocal {
    async fn search(&self, query: &DirectoryQuery) -> Result<DirectoryPage, DirectoryError> {
        let url = reqwest::Url::parse_with_params(
            &format!(
                "{}/v2/local/search/keyword.json",
                self.settings.base_url.trim_end_matches('/')
            ),
            &[
                ("query", query.query.clone()),
                ("x", query.x.to_string()),
                ("y", query.y.to_string()),
                ("radius", query.radius_m.to_string()),
                ("page", query.page.to_string()),
                ("size", PAGE_SIZE.to_string()),
                ("sort", "distance".to_owned()),
            ],
        )
        .map_err(|error| DirectoryError::Unavailable(format!("bad KAKAO_LOCAL_URL: {error}")))?;
        let response = self
            .http
            .get(url)
            .header(
                "Authorization",
                format!("KakaoAK {}", self.settings.rest_api_key),
            )
            .send()
            .await
            .map_err(|error| DirectoryError::Unavailable(error.to_string()))?;
        let status = response.status();
        if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
            let body = response.text().await.unwrap_or_default();
            return Err(DirectoryError::Refused(format!("{status}: {body}")));
        }
        if !status.is_success() {
            return Err(DirectoryError::Unavailable(format!(
                "Kakao Local answered {status}"
            )));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|error| DirectoryError::Unavailable(format!("unreadable answer: {error}")))?;
        let places = answer
            .documents
            .into_iter()
            .filter_map(|document| {
                Some(DirectoryPlace {
                    lat: document
                        .y
                        .parse()
                        .ok()
                        .filter(|lat: &f64| lat.abs() <= 90.0)?,
                    lng: document
                        .x
                        .parse()
                        .ok()
                        .filter(|lng: &f64| lng.abs() <= 180.0)?,
                    id: document.id,
                    name: document.place_name,
                    category_name: document.category_name,
                    category_group_code: document.category_group_code,
                    phone: document.phone,
                    address: document.address_name,
                    road_address: document.road_address_name,
                    url: document.place_url,
                })
            })
            .collect();
        Ok(DirectoryPage {
            places,
            is_end: answer.meta.is_end,
        })
    }
}
