use async_trait::async_trait;

/// A keyword search around a point of an outside directory of places (Kakao Local).
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryQuery {
    pub query: String,
    /// Longitude of the centre.
    pub x: f64,
    /// Latitude of the centre.
    pub y: f64,
    /// Metres around the centre.
    pub radius_m: u32,
    /// From 1.
    pub page: u32,
}

/// A place as the directory describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryPlace {
    /// The directory's own id, which makes imports idempotent.
    pub id: String,
    pub name: String,
    /// The directory's category path, e.g. `음식점 > 카페`.
    pub category_name: String,
    /// The directory's category group code, e.g. `CE7` (cafés).
    pub category_group_code: String,
    pub phone: String,
    pub address: String,
    pub road_address: String,
    pub lat: f64,
    pub lng: f64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryPage {
    pub places: Vec<DirectoryPlace>,
    /// No page follows.
    pub is_end: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The directory refused our key (HTTP 401/403).
    #[error("the place directory refused our key: {0}")]
    Refused(String),
    #[error("the place directory is unavailable: {0}")]
    Unavailable(String),
}

/// Where places are imported from.
#[async_trait]
pub trait PlaceDirectory: Send + Sync + 'static {
    async fn search(&self, query: &DirectoryQuery) -> Result<DirectoryPage, DirectoryError>;
}
