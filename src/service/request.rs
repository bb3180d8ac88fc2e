//! Reading requests and writing errors: query parameters, bodies (JSON,
//! forms, nothing) within a size limit, and Mailpit's JSON error.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

/// Largest request body read; beyond it, `413`.
pub(crate) const MAX_BODY: usize = 1 << 20;

/// An error answered as Mailpit's JSON error, `{"Error": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = json_response(&json!({ "Error": self.message }));
        *response.status_mut() = self.status;
        response
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn json_response<T: Serialize + ?Sized>(value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The query string's pairs, decoded.
pub(crate) fn query_pairs(query: &Option<String>) -> Vec<(String, String)> {
    query
        .as_deref()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

/// An optional non-negative integer parameter.
pub(crate) fn number(pairs: &[(String, String)], name: &str, default: usize) -> Result<usize, ApiError> {
    match param(pairs, name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a non-negative integer, got {text:?}"))
        }),
    }
}

/// A request body: JSON, an HTML form (the PyPI client sends its IDs so),
/// or nothing.
pub(crate) enum Payload {
    Empty,
    Json(Value),
    Form(Vec<(String, String)>),
}

pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Payload, ApiError> {
    let too_large = || ApiError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("request body over {MAX_BODY} bytes"),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY as u64) {
        return Err(too_large());
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| too_large())?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    // `curl -d '{...}'` labels JSON as a form: a body that starts like
    // JSON is read as JSON whatever its label.
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none() {
        Ok(Payload::Empty)
    } else if form && !matches!(first, Some(b'{' | b'[')) {
        Ok(Payload::Form(
            url::form_urlencoded::parse(&bytes).into_owned().collect(),
        ))
    } else {
        serde_json::from_slice(&bytes)
            .map(Payload::Json)
            .map_err(|error| ApiError::bad_request(format!("malformed JSON body: {error}")))
    }
}

impl Payload {
    /// The strings under `key` (any case): a JSON array or repeated form fields.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, ApiError> {
        match self {
            Payload::Empty => Ok(Vec::new()),
            Payload::Form(pairs) => Ok(pairs
                .iter()
                .filter(|(k, _)| k.trim_end_matches("[]").eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
                .collect()),
            Payload::Json(value) => match json_field(value, key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(n) => Ok(n.to_string()),
                        _ => Err(ApiError::bad_request(format!(
                            "`{key}` must be an array of strings"
                        ))),
                    })
                    .collect(),
                Some(_) => Err(ApiError::bad_request(format!(
                    "`{key}` must be an array of strings"
                ))),
            },
        }
    }

    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self {
            Payload::Empty => Ok(None),
            Payload::Form(pairs) => Ok(pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())),
            Payload::Json(value) => match json_field(value, key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ApiError::bad_request(format!("`{key}` must be a string"))),
            },
        }
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<bool, ApiError> {
        match self {
            Payload::Empty => Ok(false),
            Payload::Form(pairs) => Ok(pairs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .is_some_and(|(_, v)| v.eq_ignore_ascii_case("true") || v == "1")),
            Payload::Json(value) => match json_field(value, key) {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(_) => Err(ApiError::bad_request(format!("`{key}` must be true or false"))),
            },
        }
    }

    /// Refuses a form with a field the route does not take: `curl -X
    /// DELETE -d garbage` sends the form `garbage=`, which must not read as
    /// "no IDs given" (and delete everything). JSON objects, as Go's
    /// decoder, may carry other keys.
    pub(crate) fn only_fields(&self, known: &[&str]) -> Result<(), ApiError> {
        let Payload::Form(pairs) = self else {
            return Ok(());
        };
        match pairs.iter().find(|(key, _)| {
            let key = key.trim_end_matches("[]");
            !known.iter().any(|k| k.eq_ignore_ascii_case(key))
        }) {
            None => Ok(()),
            Some((key, _)) => Err(ApiError::bad_request(format!(
                "unknown field {key:?}: want a JSON object with {}",
                known.join(", ")
            ))),
        }
    }

    pub(crate) fn is_object_or_empty(&self) -> Result<(), ApiError> {
        match self {
            Payload::Json(Value::Object(_)) | Payload::Empty | Payload::Form(_) => Ok(()),
            Payload::Json(_) => Err(ApiError::bad_request("the body must be a JSON object")),
        }
    }
}

/// `IDs` or `ids`: Mailpit's names match keys in any case (Go's JSON).
fn json_field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}
