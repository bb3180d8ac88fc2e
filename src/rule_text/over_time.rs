//! The text form of the rules that unfold over time: `--greylist 5m`,
//! `--rate MESSAGE=10/1m`, `--quota 1MB`, `--per-connection 10`,
//! `--lose-reply MESSAGE` (and the same fields of `POST /api/v1/rules`).

use super::{parse_duration, parse_trigger, spell_duration, split_rule, RuleKind, RuleSyntaxError};
use crate::protocol::Reply;
use crate::testing::{ActionKind, TriggerKind};
use crate::{Action, Quota, Trigger};

/// Reads `text` as a rule of `kind`, one of the kinds of this file.
pub(super) fn parse(kind: RuleKind, text: &str) -> Result<(Trigger, Action), RuleSyntaxError> {
    match kind {
        RuleKind::Greylist => {
            let (trigger, delay) = maybe_trigger(text, "RCPT")?;
            Ok((trigger, Action::greylist(parse_duration(delay)?)))
        }
        RuleKind::Rate => {
            let (trigger, value) = split_rule(text, "TRIGGER=MAX/WINDOW")?;
            let bad = || RuleSyntaxError::BadValue {
                value: value.to_string(),
                wanted: "a rate: want MAX/WINDOW, e.g. 10/1m",
            };
            let (max, window) = value.split_once('/').ok_or_else(bad)?;
            let max = max.trim().parse().map_err(|_| bad())?;
            Ok((trigger, Action::rate_limit(max, parse_duration(window)?)))
        }
        RuleKind::Quota => {
            let (trigger, value) = maybe_trigger(text, "MESSAGE")?;
            let (limit, code) = match value.split_once(',') {
                Some((limit, code)) => (limit.trim(), code.trim()),
                None => (value, "452"),
            };
            let reply = quota_reply(code).ok_or_else(|| RuleSyntaxError::BadValue {
                value: code.to_string(),
                wanted: "a quota's reply code: want 452 or 552",
            })?;
            Ok((trigger, Action::quota(parse_quota(limit)?).with_reply(reply)))
        }
        RuleKind::PerConnection => {
            let (trigger, max) = maybe_trigger(text, "MAIL")?;
            let max = max.parse().map_err(|_| RuleSyntaxError::BadValue {
                value: max.to_string(),
                wanted: "a number of messages",
            })?;
            Ok((trigger, Action::per_connection(max)))
        }
        _ => Ok((parse_trigger(text)?, Action::lose_reply())),
    }
}

/// `TRIGGER=VALUE`, or `VALUE` alone for `default` (no `=`).
fn maybe_trigger<'a>(text: &'a str, default: &str) -> Result<(Trigger, &'a str), RuleSyntaxError> {
    if text.contains('=') {
        split_rule(text, "TRIGGER=VALUE")
    } else {
        Ok((parse_trigger(default)?, text.trim()))
    }
}

/// The reply of a full mailbox: `452 4.2.2` (try later) or `552 5.2.2`.
fn quota_reply(code: &str) -> Option<Reply> {
    match code {
        "452" => Some(Reply::new(452, "4.2.2 Mailbox full")),
        "552" => Some(Reply::new(552, "5.2.2 Mailbox full")),
        _ => None,
    }
}

/// `1MB`, `500KB`, `2048` (bytes), `1GB`, `10messages` (or `10msg`).
fn parse_quota(text: &str) -> Result<Quota, RuleSyntaxError> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let bad = || RuleSyntaxError::BadValue {
        value: text.to_string(),
        wanted: "a quota: want bytes (2048, 500KB, 1MB, 1GB) or messages (10messages)",
    };
    for suffix in ["messages", "message", "msgs", "msg"] {
        if let Some(count) = lower.strip_suffix(suffix) {
            return count.trim().parse().map(Quota::Messages).map_err(|_| bad());
        }
    }
    let (number, scale) = [("gb", 1_000_000_000), ("mb", 1_000_000), ("kb", 1_000), ("b", 1)]
        .into_iter()
        .find_map(|(suffix, scale)| lower.strip_suffix(suffix).map(|n| (n, scale)))
        .unwrap_or((lower.as_str(), 1));
    let number: u64 = number.trim().parse().map_err(|_| bad())?;
    number.checked_mul(scale).map(Quota::Bytes).ok_or_else(bad)
}

/// The text form of `action` on `trigger` (already spelled), for the kinds
/// of this file; `None` for other actions or a reply the form cannot say.
pub(super) fn spell(trigger: &Trigger, spelled: String, action: &Action) -> Option<(RuleKind, String)> {
    Some(match &action.kind {
        ActionKind::Greylist { delay } => (
            RuleKind::Greylist,
            format!("{spelled}={}", spell_duration(*delay)),
        ),
        ActionKind::RateLimit { max, window, .. } => {
            // The default reply, as parsed or as a connect rule has it.
            let parsed = Action::rate_limit(*max, *window);
            let on_connect =
                matches!(trigger.kind, TriggerKind::Connect).then(|| parsed.clone().for_connect());
            if parsed != *action && on_connect.as_ref() != Some(action) {
                return None;
            }
            (
                RuleKind::Rate,
                format!("{spelled}={max}/{}", spell_duration(*window)),
            )
        }
        ActionKind::Quota { quota, reply } => {
            let code = reply.code().to_string();
            if quota_reply(&code).as_ref() != Some(reply) {
                return None;
            }
            let limit = match quota {
                Quota::Bytes(bytes) => bytes.to_string(),
                Quota::Messages(count) => format!("{count}messages"),
            };
            (RuleKind::Quota, format!("{spelled}={limit},{code}"))
        }
        ActionKind::PerConnection { max, .. } => {
            if Action::per_connection(*max) != *action {
                return None;
            }
            (RuleKind::PerConnection, format!("{spelled}={max}"))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{spell, RuleKind};
    use crate::{Action, Quota, Reply};

    #[test]
    fn the_forms_read_as_the_rust_api_builds() {
        let minute = Duration::from_secs(60);
        let cases = [
            (
                RuleKind::Greylist,
                "5m",
                "on::any_rcpt_to()",
                Action::greylist(5 * minute),
            ),
            (
                RuleKind::Greylist,
                "RCPT TO:a@b=1h",
                "on::rcpt_to(\"a@b\")",
                Action::greylist(60 * minute),
            ),
            (
                RuleKind::Rate,
                "MESSAGE=10/1m",
                "on::message()",
                Action::rate_limit(10, minute),
            ),
            (
                RuleKind::Quota,
                "1MB",
                "on::message()",
                Action::quota(Quota::Bytes(1_000_000)),
            ),
            (
                RuleKind::Quota,
                "MESSAGE=3messages,552",
                "on::message()",
                Action::quota(Quota::Messages(3)).with_reply(Reply::new(552, "5.2.2 Mailbox full")),
            ),
            (
                RuleKind::PerConnection,
                "10",
                "on::any_mail_from()",
                Action::per_connection(10),
            ),
            (
                RuleKind::LoseReply,
                "MESSAGE",
                "on::message()",
                Action::lose_reply(),
            ),
        ];
        for (kind, text, trigger, action) in cases {
            let (parsed_trigger, parsed_action) = kind.parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(parsed_trigger.to_string(), trigger, "{text}");
            assert_eq!(parsed_action, action, "{text}");
        }
        for (kind, bad) in [
            (RuleKind::Rate, "MESSAGE=10"),
            (RuleKind::Rate, "MESSAGE=ten/1m"),
            (RuleKind::Quota, "1XB"),
            (RuleKind::Quota, "1MB,550"),
            (RuleKind::Greylist, "soon"),
            (RuleKind::PerConnection, "many"),
        ] {
            assert!(kind.parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn every_spelled_rule_parses_back_to_itself() {
        let texts = [
            (RuleKind::Greylist, "RCPT=300000ms"),
            (RuleKind::Rate, "MESSAGE=10/60000ms"),
            (RuleKind::Rate, "CONNECT=3/1000ms"),
            (RuleKind::Quota, "MESSAGE=1000000,452"),
            (RuleKind::Quota, "MESSAGE=5messages,552"),
            (RuleKind::PerConnection, "MAIL=10"),
            (RuleKind::LoseReply, "MESSAGE"),
        ];
        for (kind, text) in texts {
            let (trigger, action) = kind.parse(text).unwrap();
            let (spelled_kind, spelled) = spell(&trigger, &action).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((spelled_kind, spelled.as_str()), (kind, text));
        }
    }
}
