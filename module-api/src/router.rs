//! The whole HTTP surface: routes, documentation and the middleware stack.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{from_fn, from_fn_with_state};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;
use crate::middleware::idempotency::IDEMPOTENCY_KEY;
use crate::middleware::{idempotency, input, metrics, problem, rate_limit, security};
use crate::openapi::ApiDoc;
use crate::routes;

pub const OPENAPI_PATH: &str = "/api-docs/openapi.json";

/// Routes under `/api/v1`, with their documentation.
fn api_v1() -> OpenApiRouter<AppState> {
    use routes::calendar::{dday, event as calendar_event, ical};
    use routes::community::{board, chat, chat_socket, diary, pet, profile, trade};
    use routes::daily::{album, qna};
    use routes::identity::{address, admin, auth, me, oauth};
    use routes::moderation;
    use routes::notification;
    use routes::shop::{cart, catalog, order, payment, review, shipment, subscription};
    OpenApiRouter::new()
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::request_password_reset))
        .routes(routes!(auth::confirm_password_reset))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(oauth::google_authorize))
        .routes(routes!(oauth::google_callback))
        .routes(routes!(me::get_me, me::update_me, me::withdraw))
        .routes(routes!(me::complete_profile))
        .routes(routes!(me::change_password))
        .routes(routes!(me::resend_verification))
        .routes(routes!(auth::verify_email))
        .routes(routes!(address::list_addresses, address::create_address))
        .routes(routes!(
            address::get_address,
            address::update_address,
            address::delete_address
        ))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::suspend_user, admin::lift_suspension))
        .routes(routes!(admin::set_role))
        .routes(routes!(routes::run_log::list_runs))
        .routes(routes!(routes::run_log::list_idle_runs))
        .routes(routes!(routes::outbox::list_failed_events))
        .routes(routes!(routes::outbox::retry_failed_event))
        .routes(routes!(catalog::list_categories))
        .routes(routes!(catalog::create_category))
        .routes(routes!(catalog::update_category, catalog::delete_category))
        .routes(routes!(catalog::list_items))
        .routes(routes!(catalog::get_item))
        .routes(routes!(catalog::create_item, catalog::list_all_items))
        .routes(routes!(catalog::update_item, catalog::retire_item))
        .routes(routes!(cart::get_cart))
        .routes(routes!(cart::add_cart_item))
        .routes(routes!(cart::update_cart_item, cart::remove_cart_item))
        .routes(routes!(order::place_order, order::list_orders))
        .routes(routes!(order::get_order))
        .routes(routes!(order::cancel_order))
        .routes(routes!(order::advance_order))
        .routes(routes!(order::list_all_orders))
        .routes(routes!(order::get_any_order))
        .routes(routes!(shipment::list_couriers))
        .routes(routes!(shipment::ship_order))
        .routes(routes!(shipment::confirm_receipt))
        .routes(routes!(payment::start_payment))
        .routes(routes!(payment::kakaopay_approve))
        .routes(routes!(payment::kakaopay_cancel))
        .routes(routes!(payment::kakaopay_fail))
        .routes(routes!(subscription::list_subscriptions))
        .routes(routes!(subscription::list_all_subscriptions))
        .routes(routes!(subscription::get_any_subscription))
        .routes(routes!(
            subscription::get_subscription,
            subscription::update_subscription,
            subscription::cancel_subscription
        ))
        .routes(routes!(subscription::skip_subscription))
        .routes(routes!(subscription::pause_subscription))
        .routes(routes!(subscription::resume_subscription))
        .routes(routes!(qna::today))
        .routes(routes!(qna::create_answer))
        .routes(routes!(qna::update_answer, qna::delete_answer))
        .routes(routes!(qna::my_answers_to_question))
        .routes(routes!(qna::my_answers))
        .routes(routes!(qna::list_questions, qna::create_question))
        .routes(routes!(qna::update_question, qna::delete_question))
        .routes(routes!(album::put_album_photo, album::delete_album_photo))
        .routes(routes!(album::my_album))
        .routes(routes!(album::on_this_day))
        .routes(routes!(album::user_album))
        .routes(routes!(album::album_feed))
        .routes(routes!(dday::my_d_days))
        .routes(routes!(
            calendar_event::list_occurrences,
            calendar_event::create_event
        ))
        .routes(routes!(
            calendar_event::get_event,
            calendar_event::update_event,
            calendar_event::delete_event
        ))
        .routes(routes!(
            calendar_event::cancel_occurrence,
            calendar_event::edit_occurrence
        ))
        .routes(routes!(ical::import_events))
        .routes(routes!(
            ical::create_calendar_feed,
            ical::delete_calendar_feed
        ))
        .routes(routes!(ical::calendar_feed))
        .routes(routes!(notification::list_notifications))
        .routes(routes!(
            notification::settings::get_settings,
            notification::settings::change_settings
        ))
        .routes(routes!(notification::unread_count))
        .routes(routes!(notification::push::vapid_public_key))
        .routes(routes!(
            notification::push::create_push_subscription,
            notification::push::list_push_subscriptions
        ))
        .routes(routes!(notification::push::delete_push_subscription))
        .routes(routes!(notification::mark_read))
        .routes(routes!(notification::mark_all_read))
        .routes(routes!(notification::delete_notification))
        .routes(routes!(notification::stream_notifications))
        .routes(routes!(notification::create_stream_ticket))
        .routes(routes!(review::list_reviews, review::create_review))
        .routes(routes!(review::update_review, review::delete_review))
        .routes(routes!(routes::upload::create_upload))
        .routes(routes!(routes::upload::placeholder))
        .routes(routes!(profile::get_profile))
        .routes(routes!(routes::community::activity::my_comments))
        .routes(routes!(routes::community::saved::my_bookmarks))
        .routes(routes!(routes::community::saved::my_liked_posts))
        .routes(routes!(routes::community::wish::my_wishes))
        .routes(routes!(pet::list_pets, pet::create_pet))
        .routes(routes!(pet::get_pet, pet::update_pet, pet::delete_pet))
        .routes(routes!(pet::record_weight, pet::list_weights))
        .routes(routes!(pet::delete_weight))
        .routes(routes!(diary::list_diary, diary::write_diary_entry))
        .routes(routes!(
            diary::update_diary_entry,
            diary::delete_diary_entry
        ))
        .routes(routes!(diary::public_diary))
        .routes(routes!(board::list_posts, board::create_post))
        .routes(routes!(
            board::get_post,
            board::update_post,
            board::delete_post
        ))
        .routes(routes!(board::like_post, board::unlike_post))
        .routes(routes!(
            routes::community::saved::bookmark_post,
            routes::community::saved::unbookmark_post
        ))
        .routes(routes!(
            routes::community::wish::wish_listing,
            routes::community::wish::unwish_listing
        ))
        .routes(routes!(board::list_comments, board::create_comment))
        .routes(routes!(board::update_comment, board::delete_comment))
        .routes(routes!(trade::list_listings, trade::create_listing))
        .routes(routes!(
            trade::get_listing,
            trade::update_listing,
            trade::delete_listing
        ))
        .routes(routes!(trade::set_listing_status))
        .routes(routes!(moderation::create_report))
        .routes(routes!(moderation::list_reports))
        .routes(routes!(moderation::resolve_report))
        .routes(routes!(moderation::moderation_log))
        .routes(routes!(moderation::create_decision))
        .routes(routes!(moderation::content::list_admin_posts))
        .routes(routes!(moderation::content::list_admin_comments))
        .routes(routes!(moderation::content::list_admin_listings))
        .routes(routes!(moderation::record::get_member_record))
        .routes(routes!(chat::open_room, chat::list_rooms))
        .routes(routes!(chat::get_room))
        .routes(routes!(chat::list_messages, chat::post_message))
        .routes(routes!(chat::unsend_message))
        .routes(routes!(chat::read_room))
        .routes(routes!(chat::leave_room))
        .routes(routes!(chat::create_ticket))
        .routes(routes!(chat_socket::open_socket))
        .routes(routes!(chat::list_blocks))
        .routes(routes!(chat::block_user, chat::unblock_user))
        .routes(routes!(routes::place::list_places))
        .routes(routes!(routes::place::ranking))
        .routes(routes!(
            routes::place::review::list_place_reviews,
            routes::place::review::create_place_review
        ))
        .routes(routes!(
            routes::place::review::update_place_review,
            routes::place::review::delete_place_review
        ))
        .routes(routes!(routes::place::get_place))
        .routes(routes!(
            routes::place::like_place,
            routes::place::unlike_place
        ))
        .routes(routes!(routes::place::liked_places))
        .routes(routes!(
            routes::place::list_admin_places,
            routes::place::create_place
        ))
        .routes(routes!(routes::place::import_places))
        .routes(routes!(
            routes::place::update_place,
            routes::place::delete_place
        ))
}

/// The routes and the OpenAPI document describing them.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(routes::health::live))
        .routes(routes!(routes::health::ready))
        .routes(routes!(routes::metrics::render))
        .nest("/api/v1", api_v1())
        .split_for_parts();
    crate::openapi::declare_common_responses(&mut openapi);
    crate::openapi::close_request_schemas(&mut openapi);
    (router, openapi)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The application as served: every route, Swagger UI, and the middleware stack.
pub fn build(state: AppState) -> Router {
    let (router, openapi) = routes();
    let router = router.merge(SwaggerUi::new("/swagger-ui").url(OPENAPI_PATH, openapi));
    with_middleware(router, state)
}

/// Wraps routes in the production middleware stack.
pub fn with_middleware(router: Router<AppState>, state: AppState) -> Router {
    let config = &state.config;
    router
        .fallback(|| async { ApiError::from_status(StatusCode::NOT_FOUND) })
        .layer(from_fn_with_state(state.clone(), idempotency::idempotent_post))
        .layer(from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(from_fn_with_state(state.clone(), auth::identify_caller))
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(CatchPanicLayer::new())
        // Per route, so the route template is known; sees timeouts and panics as statuses.
        .layer(from_fn(metrics::track_requests))
        .layer(
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &axum::http::Request<_>| {
                            let request_id = request
                                .headers()
                                .get("x-request-id")
                                .and_then(|value| value.to_str().ok())
                                .unwrap_or_default();
                            let path = logged_path(request.uri().path());
                            let span = tracing::info_span!("request", %request_id, method = %request.method(), %path);
                            // A client's W3C trace context: this request joins its trace.
                            let parent = request
                                .headers()
                                .get("traceparent")
                                .and_then(|value| value.to_str().ok());
                            petory_core::platform::trace::adopt(&span, parent);
                            span
                        })
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(from_fn(security::headers))
                .layer(from_fn(problem::render_bare_errors))
                .layer(from_fn(input::reject_nul))
                .layer(cors(&config.cors_allowed_origins))
                .layer(CompressionLayer::new()),
        )
        .with_state(state)
}

/// A request's path as logs keep it: the calendar feed's address is its secret, so its token
/// is left out (logs travel further than the database, which keeps only a digest).
fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    const FEEDS: &str = "/api/v1/calendar/";
    if path.starts_with(FEEDS) {
        std::borrow::Cow::Owned(format!("{FEEDS}[redacted]"))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

fn cors(allowed_origins: &[String]) -> CorsLayer {
    let origins = if allowed_origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            IDEMPOTENCY_KEY,
        ])
        .expose_headers([
            HeaderName::from_static("x-request-id"),
            header::RETRY_AFTER,
            header::LOCATION,
            idempotency::IDEMPOTENT_REPLAYED,
        ])
        .max_age(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::logged_path;

    #[test]
    fn calendar_feed_tokens_never_reach_the_logs() {
        assert_eq!(
            logged_path("/api/v1/calendar/q8Zk2sTdPZbq1Yw0_secret.ics"),
            "/api/v1/calendar/[redacted]"
        );
        assert_eq!(logged_path("/api/v1/items/42"), "/api/v1/items/42");
    }
}
