//! Mailpit's API v1, the routes a test needs, over the fixture's store.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::mailpit::{headers, Parsed};
use super::parse::Part;
use super::request::{json_response, number, param, query_pairs, read_body, ApiError, ApiResult};
use super::search::Search;
use super::Shared;
use crate::testing::MessageMeta;
use crate::ReceivedMessage;

fn ok_text() -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], "ok").into_response()
}

/// The message called `id` (`latest`: the newest), with its metadata.
pub(crate) fn find(shared: &Shared, id: &str) -> Result<(ReceivedMessage, MessageMeta), ApiError> {
    let records = shared.store.lock();
    let index = if id == "latest" {
        records.messages.len().checked_sub(1)
    } else {
        id.parse::<u64>().ok().and_then(|id| records.position(id))
    };
    index
        .map(|i| (records.messages[i].clone(), records.meta[i].clone()))
        .ok_or_else(|| ApiError::not_found(format!("message {id} not found")))
}

/// The attachment or inline part `part_id` of message `id`.
pub(crate) fn find_part(shared: &Shared, id: &str, part_id: &str) -> Result<Part, ApiError> {
    let (message, _) = find(shared, id)?;
    Parsed::of(&message)
        .parts
        .into_iter()
        .find(|part| part.summary.part_id == part_id)
        .ok_or_else(|| ApiError::not_found(format!("message {id} has no part {part_id}")))
}

fn mark_read(shared: &Shared, ids: &[u64], read: bool) {
    let mut records = shared.store.lock();
    for &id in ids {
        if let Some(index) = records.position(id) {
            records.meta[index].read = read;
        }
    }
}

fn all_tags(records: &crate::testing::Records) -> Vec<String> {
    let tags: BTreeSet<&String> = records.meta.iter().flat_map(|meta| &meta.tags).collect();
    tags.into_iter().cloned().collect()
}

pub(crate) async fn info(State(shared): State<Arc<Shared>>) -> Response {
    let records = shared.store.lock();
    let unread = records.meta.iter().filter(|meta| !meta.read).count();
    let mut tags = serde_json::Map::new();
    for tag in all_tags(&records) {
        let count = records.meta.iter().filter(|m| m.tags.contains(&tag)).count();
        tags.insert(tag, json!(count));
    }
    let size: usize = records.messages.iter().map(|m| m.data.len()).sum();
    let body = json!({
        "Version": concat!("smtp-fixture ", env!("CARGO_PKG_VERSION")),
        // Ours: where to send mail (`RemoteServer::host()`/`port()`).
        "SMTPAddress": shared.smtp.get().map(ToString::to_string),
        // Ours: long polls waiting for more messages, so a test can send
        // once its wait is in place.
        "Waiting": shared.waiting.load(std::sync::atomic::Ordering::SeqCst),
        "LatestVersion": "disabled",
        "Database": "memory",
        "DatabaseSize": size,
        "Messages": records.messages.len(),
        "Unread": unread,
        "Tags": tags,
        "RuntimeStats": {
            "Uptime": shared.started.elapsed().as_secs(),
            "Memory": size,
            "MessagesDeleted": records.deleted,
            "SMTPAccepted": records.accepted,
            "SMTPAcceptedSize": records.accepted_bytes,
            "SMTPRejected": records.rejected_total,
            "SMTPIgnored": 0,
        },
    });
    drop(records);
    json_response(&body)
}

pub(crate) async fn webui() -> Response {
    json_response(&json!({
        "Label": "smtp-fixture",
        "MessageRelay": { "Enabled": false, "SMTPServer": "", "ReturnPath": "", "AllowedRecipients": "",
            "BlockedRecipients": "", "OverrideFrom": "", "PreserveMessageIDs": false, "RecipientAllowlist": "" },
        "SpamAssassin": false,
        "ChaosEnabled": true,
        "DuplicatesIgnored": false,
        "HideDeleteAllButton": false,
    }))
}

/// `messages` newest first, as Mailpit's `MessagesSummary`.
fn summaries(
    pairs: &[(String, String)],
    matching: Vec<(ReceivedMessage, MessageMeta, Parsed)>,
    total: usize,
    unread: usize,
    tags: Vec<String>,
) -> ApiResult {
    let start = number(pairs, "start", 0)?;
    let limit = number(pairs, "limit", 50)?;
    let matched = matching.len();
    let matched_unread = matching.iter().filter(|(_, meta, _)| !meta.read).count();
    let page: Vec<_> = matching
        .iter()
        .rev()
        .skip(start)
        .take(limit)
        .map(|(message, meta, parsed)| parsed.summary(message, meta))
        .collect();
    Ok(json_response(&json!({
        "total": total,
        "unread": unread,
        "count": page.len(),
        "messages_count": matched,
        "messages_unread": matched_unread,
        "start": start,
        "tags": tags,
        "messages": page,
    })))
}

/// Copies of the stored messages (bodies shared), oldest first, with
/// the mailbox's totals.
fn snapshot(shared: &Shared) -> (Vec<(ReceivedMessage, MessageMeta)>, usize, Vec<String>) {
    let records = shared.store.lock();
    let unread = records.meta.iter().filter(|meta| !meta.read).count();
    let all = records
        .messages
        .iter()
        .cloned()
        .zip(records.meta.iter().cloned())
        .collect();
    (all, unread, all_tags(&records))
}

pub(crate) async fn list(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> ApiResult {
    let pairs = query_pairs(&query);
    if param(&pairs, "query").is_some_and(|q| !q.trim().is_empty()) {
        // Ours: `?query=inbox:box1` scopes the list as `/search` does.
        return search(State(shared), RawQuery(query)).await;
    }
    let start = number(&pairs, "start", 0)?;
    let limit = number(&pairs, "limit", 50)?;
    let (page, total, unread, tags) = {
        let records = shared.store.lock();
        let total = records.messages.len();
        let unread = records.meta.iter().filter(|meta| !meta.read).count();
        // Only the page is copied and parsed, newest first.
        let page: Vec<_> = (0..total)
            .rev()
            .skip(start)
            .take(limit)
            .map(|i| (records.messages[i].clone(), records.meta[i].clone()))
            .collect();
        (page, total, unread, all_tags(&records))
    };
    let messages: Vec<_> = page
        .iter()
        .map(|(message, meta)| Parsed::of(message).summary(message, meta))
        .collect();
    Ok(json_response(&json!({
        "total": total,
        "unread": unread,
        "count": messages.len(),
        "messages_count": total,
        "messages_unread": unread,
        "start": start,
        "tags": tags,
        "messages": messages,
    })))
}

/// The stored messages a search matches, oldest first.
pub(crate) fn matching(shared: &Shared, search: &Search) -> Vec<(ReceivedMessage, MessageMeta, Parsed)> {
    let (all, _, _) = snapshot(shared);
    all.into_iter()
        .filter_map(|(message, meta)| {
            let parsed = Parsed::of(&message);
            search
                .matches(&message, &meta, &parsed)
                .then_some((message, meta, parsed))
        })
        .collect()
}

fn parse_search(pairs: &[(String, String)]) -> Result<Search, ApiError> {
    Search::parse(param(pairs, "query").unwrap_or_default()).map_err(ApiError::bad_request)
}

pub(crate) async fn search(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> ApiResult {
    let pairs = query_pairs(&query);
    let search = parse_search(&pairs)?;
    let (total, unread, tags) = {
        let records = shared.store.lock();
        (
            records.messages.len(),
            records.meta.iter().filter(|meta| !meta.read).count(),
            all_tags(&records),
        )
    };
    summaries(&pairs, matching(&shared, &search), total, unread, tags)
}

pub(crate) async fn delete_search(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> ApiResult {
    let pairs = query_pairs(&query);
    let search = parse_search(&pairs)?;
    let ids: BTreeSet<u64> = matching(&shared, &search)
        .iter()
        .map(|(_, meta, _)| meta.id)
        .collect();
    shared.store.delete_where(|_, meta| ids.contains(&meta.id));
    Ok(ok_text())
}

fn parse_ids(ids: &[String]) -> Result<Vec<u64>, ApiError> {
    // An id that names no message is skipped, as Mailpit does; one that
    // cannot be an id is a mistake worth a 400.
    ids.iter()
        .map(|id| {
            id.trim()
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("{id:?} is not a message ID")))
        })
        .collect()
}

pub(crate) async fn delete_messages(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let payload = read_body(&headers, body).await?;
    payload.is_object_or_empty()?;
    payload.only_fields(&["IDs"])?;
    let ids = parse_ids(&payload.strings("IDs")?)?;
    if ids.is_empty() {
        shared.store.clear_messages();
    } else {
        shared.store.delete_where(|_, meta| ids.contains(&meta.id));
    }
    Ok(ok_text())
}

pub(crate) async fn set_read(
    State(shared): State<Arc<Shared>>,
    RawQuery(_query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let payload = read_body(&headers, body).await?;
    payload.is_object_or_empty()?;
    payload.only_fields(&["IDs", "Read", "Search"])?;
    let ids = parse_ids(&payload.strings("IDs")?)?;
    let read = payload.boolean("Read")?;
    let search = payload.string("Search")?.filter(|s| !s.trim().is_empty());
    let targets: Vec<u64> = match (&search, ids.is_empty()) {
        (Some(_), false) => {
            return Err(ApiError::bad_request(
                "You may specify either IDs or a search query, not both",
            ))
        }
        (Some(search), true) => {
            let search = Search::parse(search).map_err(ApiError::bad_request)?;
            matching(&shared, &search)
                .iter()
                .map(|(_, meta, _)| meta.id)
                .collect()
        }
        (None, true) => shared.store.lock().meta.iter().map(|meta| meta.id).collect(),
        (None, false) => ids,
    };
    mark_read(&shared, &targets, read);
    Ok(ok_text())
}

pub(crate) async fn message(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, mut meta) = find(&shared, &id)?;
    mark_read(&shared, &[meta.id], true);
    meta.read = true;
    Ok(json_response(&Parsed::of(&message).message(&message, &meta)))
}

pub(crate) async fn message_headers(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    Ok(json_response(&headers(&message)))
}

pub(crate) async fn raw(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let (message, meta) = find(&shared, &id)?;
    let mut response = (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        Body::from(message.data.clone().into_vec()),
    )
        .into_response();
    if param(&query_pairs(&query), "dl") == Some("1") {
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}.eml\"", meta.id)) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
    }
    Ok(response)
}

pub(crate) async fn part(
    State(shared): State<Arc<Shared>>,
    Path((id, part_id)): Path<(String, String)>,
) -> ApiResult {
    let part = find_part(&shared, &id, &part_id)?;
    let content_type = HeaderValue::from_str(&part.summary.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let name: String = url::form_urlencoded::byte_serialize(part.summary.file_name.as_bytes()).collect();
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("inline"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        part.content,
    )
        .into_response())
}

pub(crate) async fn tags(State(shared): State<Arc<Shared>>) -> Response {
    let tags = all_tags(&shared.store.lock());
    json_response(&tags)
}

pub(crate) async fn set_tags(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> ApiResult {
    let payload = read_body(&headers, body).await?;
    payload.is_object_or_empty()?;
    payload.only_fields(&["IDs", "Tags"])?;
    let ids = parse_ids(&payload.strings("IDs")?)?;
    let mut tags: Vec<String> = Vec::new();
    for tag in payload.strings("Tags")? {
        let tag = tag.trim().to_string();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags.sort();
    let mut records = shared.store.lock();
    for id in ids {
        if let Some(index) = records.position(id) {
            records.meta[index].tags.clone_from(&tags);
        }
    }
    Ok(ok_text())
}

pub(crate) async fn rename_tag(
    State(shared): State<Arc<Shared>>,
    Path(tag): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let payload = read_body(&headers, body).await?;
    let name = payload
        .string("Name")?
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::bad_request("want {\"Name\": \"new name\"}"))?;
    let mut records = shared.store.lock();
    for meta in &mut records.meta {
        if let Some(t) = meta.tags.iter_mut().find(|t| **t == tag) {
            t.clone_from(&name);
            meta.tags.sort();
            meta.tags.dedup();
        }
    }
    Ok(ok_text())
}

pub(crate) async fn delete_tag(State(shared): State<Arc<Shared>>, Path(tag): Path<String>) -> ApiResult {
    let mut records = shared.store.lock();
    for meta in &mut records.meta {
        meta.tags.retain(|t| *t != tag);
    }
    Ok(ok_text())
}
