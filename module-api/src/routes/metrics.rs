//! Prometheus scrape endpoint.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::AppState;

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.db.state();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.connections));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle_connections));
    let redis = state.redis.state();
    metrics::gauge!("redis_pool_connections").set(f64::from(redis.connections));
    metrics::gauge!("redis_pool_idle_connections").set(f64::from(redis.idle_connections));
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
