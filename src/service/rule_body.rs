//! The body of `POST /api/v1/rules`: one rule object in the command
//! line's text form, with its `times` and `chance`.

use serde_json::Value;

use super::request::ApiError;
use crate::rule_text::{parse_chance, RuleKind};
use crate::{Action, Trigger};

/// The names of the rule kinds, for error messages.
fn rule_kinds() -> String {
    RuleKind::ALL.map(RuleKind::name).join(", ")
}

/// One rule of a `POST /api/v1/rules` body, in the command line's syntax:
/// `{"reply": "RCPT TO:x@example.com=550 No such user", "times": 1}`,
/// `{"delay": "MAIL=2s"}`, `{"disconnect": "DATA"}`.
pub(super) fn parse_rule(value: &Value) -> Result<PostedRule, ApiError> {
    let object = value.as_object().ok_or_else(|| {
        ApiError::bad_request("a rule is a JSON object, e.g. {\"reply\": \"DATA=451 Try later\"}")
    })?;
    let mut found = None;
    for (key, value) in object {
        if key == "times" || key == "inbox" || key == "chance" {
            continue;
        }
        // The command line's flags, by the same names: reply, delay,
        // disconnect, throttle, cut, reset, stop-reading, silence.
        let kind = RuleKind::ALL
            .into_iter()
            .find(|kind| kind.name() == key)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "unknown rule field `{key}`: want one of {}, and times",
                    rule_kinds()
                ))
            })?;
        if found.is_some() {
            return Err(ApiError::bad_request(format!("one of {} per rule", rule_kinds())));
        }
        let text = value
            .as_str()
            .ok_or_else(|| ApiError::bad_request(format!("`{key}` must be a string")))?;
        found = Some(
            kind.parse(text)
                .map_err(|e| ApiError::bad_request(format!("{key} {text:?}: {e}")))?,
        );
    }
    let (trigger, response) =
        found.ok_or_else(|| ApiError::bad_request(format!("a rule needs one of {}", rule_kinds())))?;
    let times = match object.get("times") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            value
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ApiError::bad_request("`times` must be a non-negative integer"))?,
        ),
    };
    // `"chance": "30@42"`: the rule fires on 30 % of its matches, by seed 42.
    let chance = match object.get("chance") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_str().and_then(parse_chance).ok_or_else(|| {
            ApiError::bad_request("`chance` must be \"PERCENT\" or \"PERCENT@SEED\", e.g. \"30@42\"")
        })?),
    };
    Ok((trigger, response, times, chance))
}

/// A rule of a `POST /api/v1/rules` body: trigger, action, `times`, and
/// `chance` (percent and seed).
pub(super) type PostedRule = (Trigger, Action, Option<usize>, Option<(u8, u64)>);
