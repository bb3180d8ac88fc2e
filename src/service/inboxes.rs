//! Ours: inboxes over HTTP, one per test of a suite sharing one service.
//! `POST /api/v1/inboxes` makes one; its messages are found with the
//! search term `inbox:ID`, its rules are posted with `"inbox": "ID"`, and
//! `DELETE /api/v1/inboxes/{ID}` removes its messages and rules.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::ours::rules_json;
use super::request::{json_response, ApiError, ApiResult};
use super::Shared;
use crate::testing::{inbox_id, InboxParts};

/// What a client needs to use an inbox: its ID (for `inbox:ID` and rules'
/// `"inbox"`), the domain of its addresses (any local part), an example.
fn inbox_json(inbox: &InboxParts) -> Value {
    let example = inbox.address("test");
    let domain = example.rsplit_once('@').map(|(_, domain)| domain.to_string());
    json!({
        "ID": inbox.id,
        "Domain": domain,
        "Address": example,
        "Query": format!("inbox:{}", inbox.id),
        "Messages": inbox.store.lock().messages.len(),
        "Rules": rules_json(&inbox.script)["rules"],
    })
}

/// `POST /api/v1/inboxes`: a new inbox, `201` with its ID and domain.
pub(crate) async fn create(State(shared): State<Arc<Shared>>) -> Response {
    let inbox = shared.inboxes.open();
    let mut response = json_response(&inbox_json(&inbox));
    *response.status_mut() = StatusCode::CREATED;
    response
}

/// `GET /api/v1/inboxes/{ID}`: as `POST` answered, with its message count
/// and rules.
pub(crate) async fn show(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let inbox = shared.inboxes.get(&id).ok_or_else(|| no_inbox(&id))?;
    Ok(json_response(&inbox_json(&inbox)))
}

/// `DELETE /api/v1/inboxes/{ID}`: the inbox's rules go, and every stored
/// message to one of its addresses; its addresses are ordinary ones again.
pub(crate) async fn delete(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let inbox = shared.inboxes.close(&id).ok_or_else(|| no_inbox(&id))?;
    let deleted = shared.store.delete_where(|message, _| {
        message
            .envelope
            .rcpt_to
            .iter()
            .any(|r| inbox_id(r).is_some_and(|own| own.eq_ignore_ascii_case(&inbox.id)))
    });
    Ok(json_response(
        &json!({ "ID": inbox.id, "Deleted": deleted.len() }),
    ))
}

fn no_inbox(id: &str) -> ApiError {
    ApiError::not_found(format!("no inbox {id:?} (POST /api/v1/inboxes makes one)"))
}
