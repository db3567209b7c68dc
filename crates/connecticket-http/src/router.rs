//! Every route of the contract in one place.

use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::access_log;
use crate::error::HttpError;
use crate::guard;
use crate::routes::{
    ack_page, attachments, authorize, categories, comments, events, gateway, notifications,
    operations, residents, tickets,
};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/api/authorize",
            // GET because the published reference spells it so; HEAD, which
            // axum would answer with it, must never issue a token.
            get(authorize::authorize)
                .post(authorize::authorize)
                .head(|| async { HttpError::MethodNotAllowed }),
        )
        .route("/api/{token}/tickets", get(tickets::list))
        .route("/api/{token}/ticket_detail", get(tickets::detail))
        .route("/api/{token}/all_residents", get(residents::list))
        .route("/api/{token}/provider_categories", get(categories::list))
        .route("/api/{token}/resident_contacts", get(residents::contacts))
        .route(
            "/api/{token}/update_status",
            axum::routing::post(tickets::update_status),
        )
        .route(
            "/api/{token}/create_ticket",
            // GET is accepted because the seed documents it; HEAD, which
            // axum would otherwise answer with the GET handler, must never
            // run a write.
            get(tickets::create)
                .post(tickets::create)
                .head(|| async { HttpError::MethodNotAllowed }),
        )
        .route(
            "/api/{token}/create_comment",
            axum::routing::post(comments::create),
        )
        .route("/api/{token}/attachments/{id}", get(attachments::download))
        .route("/api/{token}/notifications", get(notifications::list))
        .route("/api/{token}/changes", get(events::changes))
        .route(
            "/api/{token}/webhooks",
            get(events::list).post(events::register),
        )
        .route(
            "/api/{token}/webhooks/{id}",
            axum::routing::delete(events::delete),
        )
        .route(
            "/api/{token}/webhooks/{id}/rotate",
            axum::routing::post(events::rotate),
        )
        .route(
            "/api/{token}/webhooks/{id}/replay",
            axum::routing::post(events::replay),
        )
        .route(
            "/api/{token}/acknowledge",
            axum::routing::post(notifications::acknowledge),
        )
        .route("/sms/status", axum::routing::post(gateway::status))
        .route("/sms/inbound", axum::routing::post(gateway::inbound))
        .route(
            "/ack/{token}",
            get(ack_page::show).post(ack_page::acknowledge),
        )
        .route("/health", get(operations::alive))
        .route("/healthz", get(operations::alive))
        .route("/readyz", get(operations::ready))
        .route("/metrics", get(operations::metrics))
        .route("/openapi.json", get(operations::openapi))
        .route("/docs", get(crate::docs::page))
        .merge(crate::console::router())
        .merge(crate::fhir::router())
        .fallback(|| async { HttpError::NotFound })
        .method_not_allowed_fallback(|| async { HttpError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .with_state(state)
        .layer(CatchPanicLayer::custom(|_| {
            HttpError::Internal("a handler panicked".to_owned()).into_response()
        }))
        // Every answer may carry PHI: no cache may keep it, no browser may
        // reinterpret it.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(middleware::from_fn(access_log::log_request))
        // Outermost, so that every failure under /fhir/ (even the access
        // log's restated 500) reaches FHIR clients as an OperationOutcome.
        .layer(middleware::from_fn(crate::fhir::speak_fhir))
}

/// What the operators' own listener (`--metrics-listen`) serves: liveness,
/// readiness in full and the metrics, and nothing of the API.
pub fn operations_router(state: AppState) -> Router {
    let operations = crate::state::Operations {
        private_listener: true,
        ..state.operations.clone()
    };
    let state = state.with_operations(operations);
    Router::new()
        .route("/healthz", get(operations::alive))
        .route("/readyz", get(operations::ready))
        .route("/metrics", get(operations::metrics))
        .fallback(|| async { HttpError::NotFound })
        .with_state(state)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
