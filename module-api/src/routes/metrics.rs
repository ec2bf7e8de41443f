//! Prometheus scrape endpoint.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::app::AppState;

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Metrics", body = String, content_type = "text/plain; version=0.0.4")))]
pub async fn render(State(state): State<AppState>) -> impl IntoResponse {
    // The batch exports the same names (module-batch/src/metrics.rs).
    let pool = state.db.state();
    metrics::gauge!("db_pool_connections").set(f64::from(pool.connections));
    metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle_connections));
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.config.database.pool.max_size));
    metrics::counter!("db_pool_waits_total").absolute(pool.statistics.get_waited);
    metrics::counter!("db_pool_timeouts_total").absolute(pool.statistics.get_timed_out);
    let redis = state.redis.state();
    metrics::gauge!("redis_pool_connections").set(f64::from(redis.connections));
    metrics::gauge!("redis_pool_idle_connections").set(f64::from(redis.idle_connections));
    metrics::gauge!("redis_pool_max_connections").set(f64::from(state.config.redis.max_size));
    metrics::counter!("redis_pool_waits_total").absolute(redis.statistics.get_waited);
    metrics::counter!("redis_pool_timeouts_total").absolute(redis.statistics.get_timed_out);
    metrics::gauge!("petory_live_connections", "kind" => "chat")
        .set(state.chat.open_sockets() as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
