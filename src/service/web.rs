//! The web page at `/`: static files embedded in the binary, no build step.
//! The message's HTML is shown in a sandboxed iframe (no scripts, no
//! remote loads), from `/view/{ID}.html`.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::request::ApiError;

/// The page's own policy: its scripts and styles only, the API on the same
/// origin, message HTML in frames from the same origin.
const PAGE_CSP: &str =
    "default-src 'self'; frame-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'";

const INDEX: &str = include_str!("web/index.html");
const ASSETS: [(&str, &str, &str); 2] = [
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("web/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("web/style.css"),
    ),
];

pub(crate) async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
        ],
        INDEX,
    )
        .into_response()
}

pub(crate) async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    let (_, content_type, body) = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .ok_or_else(|| ApiError::not_found(format!("no file {file:?}")))?;
    Ok(([(header::CONTENT_TYPE, *content_type)], *body).into_response())
}
