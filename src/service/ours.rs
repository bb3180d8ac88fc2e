//! Our routes beyond Mailpit's: scripted replies, a long poll, what the
//! fixture reads from a message (links, snapshot, lint, transcript), the
//! refused messages, and an event stream. Listed in `docs/service.md`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

use super::api::{self, find};
use super::mailpit::Parsed;
use super::request::{json_response, param, query_pairs, read_body, ApiError, ApiResult, Payload};
use super::rule_body::parse_rule;
use super::search::Search;
use super::text::rfc3339;
use super::Shared;
use crate::rule_text::{parse_duration, spell};
use crate::testing::{answers_only_recipients, Script, StoreEvent};
use crate::LinkSource;
use crate::RejectedMessage;

/// The longest a `wait` may be asked to wait.
const MAX_WAIT: Duration = Duration::from_secs(600);

fn text_response(text: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
}

/// The rules in the form `POST` takes (`{"reply": "DATA=451 Try later",
/// "times": 1}`), so a rule posted comes back equal, with its counters
/// (`Hits`, `TimesLeft`). A rule only the Rust API can make (a predicate,
/// raw bytes) is `{"rule": "respond(on::..., ...)"}` instead.
pub(crate) fn rules_json(script: &Script) -> Value {
    let rules: Vec<Value> = script
        .list()
        .into_iter()
        .map(|rule| {
            let spelled = spell(&rule.trigger, &rule.action).filter(|_| rule.chance.is_none());
            let mut json = match (spelled, &rule.chance) {
                (Some((kind, text)), _) => json!({ kind.name(): text }),
                (None, None) => json!({ "rule": format!("respond({}, {})", rule.trigger, rule.action) }),
                (None, Some(chance)) => {
                    json!({ "rule": format!("respond({}, {}), {chance}", rule.trigger, rule.action) })
                }
            };
            if let Some(times) = rule.times {
                json["times"] = json!(times);
            }
            json["ID"] = json!(rule.id);
            json["Hits"] = json!(rule.hits);
            json["TimesLeft"] = json!(rule.times.map(|times| times.saturating_sub(rule.hits)));
            json
        })
        .collect();
    json!({ "rules": rules })
}

pub(crate) async fn rules(State(shared): State<Arc<Shared>>) -> Response {
    json_response(&rules_json(&shared.script))
}

/// `POST /api/v1/rules`: one rule object or an array of them, added after
/// the existing rules (all or none: a bad one adds nothing).
pub(crate) async fn add_rules(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let sent = match read_body(&headers, body).await? {
        Payload::Json(Value::Array(items)) => items,
        Payload::Json(value) => vec![value],
        Payload::Empty | Payload::Form(_) => return Err(ApiError::bad_request(
            "want a JSON rule, e.g. {\"reply\": \"RCPT TO:x@example.com=550 No such user\", \"times\": 1}",
        )),
    };
    let rules = sent.iter().map(parse_rule).collect::<Result<Vec<_>, _>>()?;
    // `"inbox": "box1"`: the rules answer only that inbox's recipients.
    let script = match inbox_of(&sent)? {
        None => shared.script.clone(),
        Some(id) => {
            let inbox = shared.inboxes.get(&id).ok_or_else(|| {
                ApiError::not_found(format!("no inbox {id:?} (POST /api/v1/inboxes makes one)"))
            })?;
            if let Some((trigger, ..)) = rules
                .iter()
                .find(|(trigger, ..)| !answers_only_recipients(trigger))
            {
                return Err(ApiError::bad_request(format!(
                    "an inbox's rule answers only its own recipients, and {trigger} comes before any recipient"
                )));
            }
            inbox.script.clone()
        }
    };
    let mut added = Vec::new();
    for (trigger, response, times, chance) in rules {
        let mut rule = script.add(trigger, response);
        added.push(rule.id());
        if let Some(times) = times {
            rule = rule.times(times);
        }
        if let Some((percent, seed)) = chance {
            let _ = rule.by_chance(percent, seed);
        }
    }
    let mut json = rules_json(&script);
    json["Added"] = json!(added);
    let mut response = json_response(&json);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// The inbox the rules of one `POST` name (all the same one, or none).
fn inbox_of(rules: &[Value]) -> Result<Option<String>, ApiError> {
    let mut named = rules.iter().map(|rule| match rule.get("inbox") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(_) => Err(ApiError::bad_request(
            "`inbox` must be a string: an ID from POST /api/v1/inboxes",
        )),
    });
    let first = named.next().transpose()?.flatten();
    for other in named {
        if other? != first {
            return Err(ApiError::bad_request(
                "the rules of one request name one inbox (or none)",
            ));
        }
    }
    Ok(first)
}

/// The rule numbered `id`, the service's or an inbox's.
fn rule_by_id(shared: &Shared, id: &str) -> Result<crate::RuleHandle, ApiError> {
    let missing = || ApiError::not_found(format!("no rule {id:?}"));
    let id: u64 = id.parse().map_err(|_| missing())?;
    shared
        .script
        .rule(id)
        .or_else(|| {
            shared
                .inboxes
                .all()
                .iter()
                .find_map(|inbox| inbox.script.rule(id))
        })
        .ok_or_else(missing)
}

/// `GET /api/v1/rules/{ID}`: `{"ID", "Hits", "TimesLeft"}`; `PATCH` with
/// `{"times": N}` sets how often it may still fire in all (ours: how
/// `RemoteServer`'s `.times(n)` reaches a rule already added).
pub(crate) async fn rule(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let rule = rule_by_id(&shared, &id)?;
    Ok(json_response(&json!({ "ID": rule.id(), "Hits": rule.hits() })))
}

pub(crate) async fn patch_rule(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let rule = rule_by_id(&shared, &id)?;
    let times = match read_body(&headers, body).await? {
        Payload::Json(value) => value.get("times").and_then(Value::as_u64),
        _ => None,
    };
    let times = times
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ApiError::bad_request("want {\"times\": N}"))?;
    let rule = rule.times(times);
    Ok(json_response(&json!({ "ID": rule.id(), "Hits": rule.hits() })))
}

/// `DELETE /api/v1/rules/{ID}`: that rule alone is removed.
pub(crate) async fn delete_rule(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    rule_by_id(&shared, &id)?.remove();
    Ok(json_response(&json!({ "ID": id })))
}

pub(crate) async fn delete_rules(State(shared): State<Arc<Shared>>) -> Response {
    shared.script.clear();
    json_response(&rules_json(&shared.script))
}

/// `GET /api/v1/wait?count=N&timeout=5s[&query=...]`: answers as
/// `/api/v1/messages` (or `/search`) once at least `count` messages (that
/// match `query`) are stored, or `408` after the timeout.
pub(crate) async fn wait(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> ApiResult {
    let pairs = query_pairs(&query);
    let count = super::request::number(&pairs, "count", 1)?;
    let timeout = match param(&pairs, "timeout") {
        None | Some("") => Duration::from_secs(5),
        Some(text) => parse_duration(text).map_err(|e| ApiError::bad_request(e.to_string()))?,
    };
    if timeout > MAX_WAIT {
        return Err(ApiError::bad_request(format!(
            "`timeout` is at most {}s",
            MAX_WAIT.as_secs()
        )));
    }
    let search = match param(&pairs, "query").filter(|q| !q.trim().is_empty()) {
        Some(q) => Some(Search::parse(q).map_err(ApiError::bad_request)?),
        None => None,
    };
    let deadline = Instant::now() + timeout;
    // Subscribed before the first look, so no message slips in between.
    let mut events = shared.store.subscribe();
    let mut counted: Option<Waiting> = None;
    loop {
        let found = match &search {
            Some(search) => api::matching(&shared, search).len(),
            None => shared.store.lock().messages.len(),
        };
        if found >= count {
            return match &search {
                Some(_) => api::search(State(shared), RawQuery(query)).await,
                None => api::list(State(shared), RawQuery(query)).await,
            };
        }
        if counted.is_none() {
            counted = Some(Waiting::count(shared.clone()));
        }
        tokio::select! {
            event = tokio::time::timeout_at(deadline, events.recv()) => match event {
                Err(_) => {
                    return Err(ApiError {
                        status: StatusCode::REQUEST_TIMEOUT,
                        message: format!("{found} of {count} messages after {timeout:?}"),
                    })
                }
                Ok(Err(RecvError::Closed)) => return Err(ApiError::not_found("the store is gone")),
                Ok(_) => {}
            },
            () = shared.closed() => {
                return Err(ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: "the service is stopping".into() })
            }
        }
    }
}

/// One long poll counted in [`Shared::waiting`] until it answers or its
/// client goes away (the handler's future is dropped).
struct Waiting(Arc<Shared>);

impl Waiting {
    fn count(shared: Arc<Shared>) -> Waiting {
        shared.waiting.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Waiting(shared)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

pub(crate) async fn links(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    let links: Vec<Value> = message
        .links()
        .into_iter()
        .map(|link| {
            let source = match link.source {
                LinkSource::Html => "html",
                _ => "text",
            };
            json!({ "URL": link.url, "Text": link.text, "Source": source })
        })
        .collect();
    Ok(json_response(&links))
}

/// `GET /api/v1/message/{ID}/envelope`: what the SMTP session said, beside
/// the headers: `{"From": MAIL FROM, "To": [RCPT TO...], "Peer", "Helo"}`.
pub(crate) async fn envelope(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    Ok(json_response(&json!({
        "From": message.envelope.mail_from,
        "To": message.envelope.rcpt_to,
        "Peer": message.peer.to_string(),
        "Helo": message.helo,
    })))
}

pub(crate) async fn snapshot(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    Ok(text_response(message.snapshot()))
}

pub(crate) async fn lint(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    let violations: Vec<String> = message.lint().iter().map(ToString::to_string).collect();
    Ok(json_response(
        &json!({ "Clean": violations.is_empty(), "Violations": violations }),
    ))
}

pub(crate) async fn transcript(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    let transcript = message
        .transcript()
        .ok_or_else(|| ApiError::not_found(format!("message {id} has no transcript")))?;
    Ok(text_response(transcript.to_string()))
}

fn rejected_json(rejected: &RejectedMessage) -> Value {
    let message = &rejected.message;
    json!({
        "From": message.envelope.mail_from,
        "To": message.envelope.rcpt_to,
        "Subject": message.subject().unwrap_or_default(),
        "Created": rfc3339(message.received_at),
        "Size": message.data.len(),
        "Code": rejected.reply.as_ref().map(|r| r.code()),
        "Reply": rejected.reply.as_ref().map(|r| r.to_string().trim_end().to_string()),
    })
}

/// `GET /api/v1/rejected`: messages refused at their final reply and
/// recipients refused at `RCPT TO`, oldest first.
pub(crate) async fn rejected(State(shared): State<Arc<Shared>>) -> Response {
    let records = shared.store.lock();
    let messages: Vec<Value> = records.rejected.iter().map(rejected_json).collect();
    let recipients: Vec<Value> = records
        .refused_recipients
        .iter()
        .map(|r| {
            json!({
                "Address": r.address,
                "Code": r.reply.as_ref().map(|r| r.code()),
                "Reply": r.reply.as_ref().map(|r| r.to_string().trim_end().to_string()),
                "Session": r.session_id,
                "AfterData": r.after_data,
            })
        })
        .collect();
    drop(records);
    json_response(&json!({ "messages": messages, "recipients": recipients }))
}

/// The SSE event for a store change, `None` when there is nothing to say
/// (a message deleted before it could be described).
fn event_for(shared: &Shared, event: StoreEvent) -> Option<Event> {
    let (name, data) = match event {
        StoreEvent::Accepted(id) => {
            let (message, meta) = find(shared, &id.to_string()).ok()?;
            let summary = Parsed::of(&message).summary(&message, &meta);
            ("accepted", serde_json::to_string(&summary).ok()?)
        }
        StoreEvent::Rejected(rejected) => ("rejected", rejected_json(&rejected).to_string()),
        StoreEvent::Deleted(ids) => {
            let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
            ("deleted", json!({ "IDs": ids }).to_string())
        }
        StoreEvent::Cleared => ("cleared", "{}".to_string()),
    };
    Some(Event::default().event(name).data(data))
}

/// `GET /api/v1/events`: Server-Sent Events `accepted` (a message
/// summary), `rejected`, `deleted` (`{"IDs": [...]}`), `cleared`, and
/// `lagged` when a slow reader missed some.
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = shared.store.subscribe();
    let stream = stream::unfold((receiver, shared), |(mut receiver, shared)| async move {
        loop {
            let received = tokio::select! {
                received = receiver.recv() => received,
                () = shared.closed() => return None,
            };
            let event = match received {
                Ok(event) => event_for(&shared, event),
                Err(RecvError::Lagged(missed)) => Some(
                    Event::default()
                        .event("lagged")
                        .data(json!({ "Missed": missed }).to_string()),
                ),
                Err(RecvError::Closed) => return None,
            };
            if let Some(event) = event {
                return Some((Ok(event), (receiver, shared)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
