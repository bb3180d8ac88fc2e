//! Mailpit's chaos routes, `GET`/`PUT /api/v1/chaos`: random SMTP
//! failures at MAIL FROM (`Sender`), RCPT TO (`Recipient`) and AUTH
//! (`Authentication`), each `{"ErrorCode": 451, "Probability": 5}`.
//!
//! Each trigger with a probability above 0 is one of our rules (listed by
//! `GET /api/v1/rules`, after the rules added before it), firing on a
//! seeded draw ([`SeededChance`]). The seed is `SMTP_FIXTURE_CHAOS_SEED`
//! when the service starts, else random; `GET` shows it as `Seed`, and a
//! `PUT` may set it. Every `PUT` starts the draws again, so the same
//! triggers and seed fail the same commands of the same sequence of mail.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use super::request::{json_response, read_body, ApiError, ApiResult, Payload};
use super::Shared;
use crate::protocol::Reply;
use crate::rule_text::parse_trigger;
use crate::testing::SeededChance;
use crate::{Action, RuleHandle, Trigger};

/// The environment variable that fixes the chaos seed of a service.
pub(crate) const CHAOS_SEED_ENV: &str = "SMTP_FIXTURE_CHAOS_SEED";

/// One of Mailpit's three chaos triggers.
#[derive(Debug, Clone, Copy)]
struct ChaosTrigger {
    error_code: u16,
    probability: u8,
}

/// (name in the JSON, default code, what it fails, the reply's text).
const TRIGGERS: [(&str, u16, &str, &str); 3] = [
    ("Sender", 451, "MAIL", "Chaos sender error"),
    ("Recipient", 451, "RCPT", "Chaos recipient error"),
    ("Authentication", 535, "AUTH", "Chaos authentication error"),
];

/// The chaos settings of a service and the rules that carry them out.
#[derive(Debug)]
pub(crate) struct Chaos {
    state: Mutex<ChaosState>,
}

#[derive(Debug)]
struct ChaosState {
    seed: u64,
    triggers: [ChaosTrigger; 3],
    rules: Vec<RuleHandle>,
}

impl Chaos {
    /// No chaos yet; the seed from [`CHAOS_SEED_ENV`] or random.
    pub(crate) fn new() -> Chaos {
        let seed = std::env::var(CHAOS_SEED_ENV)
            .ok()
            .and_then(|seed| seed.trim().parse().ok())
            .unwrap_or_else(|| RandomState::new().hash_one(std::time::SystemTime::now()));
        Chaos {
            state: Mutex::new(ChaosState {
                seed,
                triggers: TRIGGERS.map(|(_, code, _, _)| ChaosTrigger {
                    error_code: code,
                    probability: 0,
                }),
                rules: Vec::new(),
            }),
        }
    }
}

fn lock(chaos: &Chaos) -> std::sync::MutexGuard<'_, ChaosState> {
    chaos.state.lock().unwrap_or_else(|p| p.into_inner())
}

fn chaos_json(state: &ChaosState) -> Value {
    let mut body = serde_json::Map::new();
    for ((name, ..), trigger) in TRIGGERS.iter().zip(state.triggers) {
        body.insert(
            name.to_string(),
            json!({ "ErrorCode": trigger.error_code, "Probability": trigger.probability }),
        );
    }
    body.insert("Seed".to_string(), json!(state.seed));
    Value::Object(body)
}

pub(crate) async fn get_chaos(State(shared): State<Arc<Shared>>) -> Response {
    json_response(&chaos_json(&lock(&shared.chaos)))
}

/// Reads one trigger of a `PUT` body: missing means the default code at
/// 0 %, a code of 0 the default code (as Mailpit).
fn read_trigger(body: &Value, name: &str, default_code: u16) -> Result<ChaosTrigger, ApiError> {
    let field = body
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v);
    let Some(field) = field.filter(|v| !v.is_null()) else {
        return Ok(ChaosTrigger {
            error_code: default_code,
            probability: 0,
        });
    };
    let number = |key: &str| -> Result<i64, ApiError> {
        match field
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        {
            None => Ok(0),
            Some((_, value)) => value
                .as_i64()
                .ok_or_else(|| ApiError::bad_request(format!("{name}.{key} must be an integer"))),
        }
    };
    if !field.is_object() {
        return Err(ApiError::bad_request(format!(
            "{name} must be an object: {{\"ErrorCode\": 451, \"Probability\": 5}}"
        )));
    }
    let code = match number("ErrorCode")? {
        0 => i64::from(default_code),
        code => code,
    };
    let probability = number("Probability")?;
    if !(400..=599).contains(&code) {
        return Err(ApiError::bad_request("error code must be between 400 and 599"));
    }
    if !(0..=100).contains(&probability) {
        return Err(ApiError::bad_request("probability must be between 0 and 100"));
    }
    Ok(ChaosTrigger {
        error_code: code as u16,
        probability: probability as u8,
    })
}

/// `PUT /api/v1/chaos`: sets all three triggers (a missing one is off)
/// and, with `"Seed"`, the seed; the draws start again.
pub(crate) async fn set_chaos(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let body = match read_body(&headers, body).await? {
        Payload::Json(value @ Value::Object(_)) => value,
        Payload::Empty => json!({}),
        _ => {
            return Err(ApiError::bad_request(
                "want a JSON object, e.g. {\"Sender\": {\"ErrorCode\": 451, \"Probability\": 5}}",
            ))
        }
    };
    let mut triggers = Vec::new();
    for (name, code, _, _) in TRIGGERS {
        triggers.push(read_trigger(&body, name, code)?);
    }
    let seed = match body.get("Seed") {
        None | Some(Value::Null) => None,
        Some(seed) => Some(
            seed.as_u64()
                .ok_or_else(|| ApiError::bad_request("Seed must be a non-negative integer"))?,
        ),
    };
    let mut state = lock(&shared.chaos);
    if let Some(seed) = seed {
        state.seed = seed;
    }
    for rule in state.rules.drain(..) {
        rule.remove();
    }
    for (index, ((name, _, verb, text), trigger)) in TRIGGERS.iter().zip(&triggers).enumerate() {
        state.triggers[index] = *trigger;
        if trigger.probability == 0 {
            continue;
        }
        let on: Trigger = parse_trigger(verb).map_err(|e| ApiError::bad_request(format!("{e}")))?;
        let chance = SeededChance::new(state.seed, name, trigger.probability);
        let reply = Reply::new(trigger.error_code, *text);
        let rule = shared.script.add_by_chance(on, Action::from(reply), chance);
        state.rules.push(rule);
    }
    Ok(json_response(&chaos_json(&state)))
}
