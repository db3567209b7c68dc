//! For operators and load balancers: liveness, readiness and metrics. None
//! of them touches patient data. Liveness and whether the instance is
//! ready are anyone's; the metrics and the detail of readiness are the
//! operators' (their own listener, or a token).

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::envelope;
use crate::error::HttpError;
use crate::state::AppState;
use crate::wire::answers::Alive;

/// `/healthz` (and the older `/health`): the process is up.
pub(crate) async fn alive() -> Response {
    envelope::json(StatusCode::OK, &Alive { status: "ok" })
}

/// `/readyz`: 200 once the database answers and its migrations are
/// current, 503 before; to operators, with the database's and the
/// transports' state.
pub(crate) async fn ready(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let readiness = state.api.readiness().await;
    let (status, word) = if readiness.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    if !state.operations.allows(&headers) {
        return envelope::json(status, &json!({"status": word}));
    }
    let database = match &readiness.database {
        Ok(schema) => json!({
            "ok": schema.current == schema.expected,
            "schema_version": schema.current,
            "expected_schema_version": schema.expected,
        }),
        Err(error) => json!({"ok": false, "error": error}),
    };
    let mut transports = Map::new();
    for (channel, transport) in &readiness.transports {
        transports.insert(
            channel.as_str().to_owned(),
            serde_json::to_value(transport).unwrap_or(Value::Null),
        );
    }
    envelope::json(
        status,
        &json!({"status": word, "database": database, "transports": transports}),
    )
}

/// `/metrics`, in Prometheus' text format, for operators only: anyone else
/// finds nothing here.
pub(crate) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    if !state.operations.allows(&headers) {
        return Err(HttpError::NotFound);
    }
    let source = state.metrics.as_ref().ok_or(HttpError::NotFound)?;
    let mut response = source.render().await.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

/// `/openapi.json`: the contract's description (built once).
pub(crate) async fn openapi() -> Response {
    static DOCUMENT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(crate::openapi::document);
    let mut response = DOCUMENT.as_str().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
