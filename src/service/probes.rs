//! What answers besides the routes: a clean-path redirect or a JSON 404
//! for an unknown path, a JSON 405 for a wrong method, and Mailpit's
//! health probes (`/livez`, `/readyz`) for docker-compose and CI waits.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::request::ApiError;
use super::Shared;

/// An unknown route is a 404, except a path that is not in its clean
/// form (`//view/1.html`, as `cypress-mailpit` asks): like Go's router
/// under Mailpit, a `301` to the clean path.
pub(crate) async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    let clean = clean_path(path);
    if clean != path {
        let location = match uri.query() {
            Some(query) => format!("{clean}?{query}"),
            None => clean,
        };
        if let Ok(location) = HeaderValue::from_str(&location) {
            return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, location)]).into_response();
        }
    }
    ApiError::not_found("no such route").into_response()
}

/// Go's `path.Clean` for a request path: no empty, `.` or `..` segments;
/// a trailing slash kept.
fn clean_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut clean = format!("/{}", segments.join("/"));
    if path.ends_with('/') && clean != "/" {
        clean.push('/');
    }
    clean
}

/// A known route asked with a method it does not take: JSON, as every
/// error.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        message: format!("{} does not take {method}", uri.path()),
    }
}

/// `GET /livez`: Mailpit's liveness probe, `200` with an empty body.
pub(crate) async fn live() -> StatusCode {
    StatusCode::OK
}

/// `GET /readyz`: Mailpit's readiness probe. The store is in memory and
/// the SMTP listener was bound before the HTTP one, so a service that
/// answers is ready: `200`, empty body; `503` once it is stopping.
pub(crate) async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    if *shared.closing.borrow() {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    } else {
        StatusCode::OK.into_response()
    }
}
