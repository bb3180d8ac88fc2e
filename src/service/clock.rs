//! Ours: the rules' clock, `GET`/`POST /api/v1/clock`. With
//! `--manual-clock` it stands still until a client moves it, so a suite in
//! another language can test a five-minute greylist without waiting (as
//! `TestSmtpServer::advance` does in Rust); on a real clock an advance adds
//! to real time.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::request::{json_response, read_body, ApiError, ApiResult, Payload};
use super::Shared;
use crate::rule_text::parse_duration;

fn now_json(shared: &Shared) -> Value {
    json!({ "Seconds": shared.script.clock().now().as_secs_f64() })
}

/// `GET /api/v1/clock`: `{"Seconds": S}`, the rules' time since the start.
pub(crate) async fn show(State(shared): State<Arc<Shared>>) -> Response {
    json_response(&now_json(&shared))
}

/// `POST /api/v1/clock` with `{"advance": "5m"}`: moves the rules' clock
/// forward (greylisting delays, rate-limit windows); answers as `GET`.
pub(crate) async fn advance(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> ApiResult {
    let want = || ApiError::bad_request("want {\"advance\": \"DURATION\"}, e.g. {\"advance\": \"5m\"}");
    let by = match read_body(&headers, body).await? {
        Payload::Json(value) => value.get("advance").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
    .ok_or_else(want)?;
    let by = parse_duration(&by).map_err(|error| ApiError::bad_request(format!("advance: {error}")))?;
    shared.script.clock().advance(by);
    Ok(json_response(&now_json(&shared)))
}
