//! The text form of scripted rules: how the command line (`--reply
//! 'RCPT TO:x@example.com=550 No'`, `--delay 'MAIL=2s'`, `--disconnect
//! DATA`) and the service's `POST /api/v1/rules` spell a rule, so that suites
//! in other languages can script the server. One entry point each way:
//! [`RuleKind::parse`] (and [`parse_trigger`]), failing with a
//! [`RuleSyntaxError`], and [`spell`], which writes a rule back in the same
//! form (what `GET /api/v1/rules` answers).
//!
//! Private: the binary and the service are its users, not a test.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use crate::protocol::{LinkFault, Reply};

mod over_time;
use crate::testing::{ActionKind, TriggerKind};
use crate::{Action, Trigger};

/// Why the text form of a rule or trigger was refused. Its `Display` is
/// the sentence the command line prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleSyntaxError {
    /// The trigger is empty.
    EmptyTrigger,
    /// Not a trigger at all (`two words`, `DATA now`).
    NotATrigger {
        /// The text given.
        text: String,
    },
    /// A verb that takes an address got something else after it
    /// (`MAIL TO:x`, `RCPT TO:`).
    BadAddress {
        /// The text given.
        text: String,
        /// What the verb takes before the address (`FROM:`, `TO:`).
        keyword: &'static str,
    },
    /// No `=` between the trigger and the value.
    MissingValue {
        /// The text given.
        text: String,
        /// The form wanted, e.g. `TRIGGER=CODE TEXT`.
        shape: &'static str,
    },
    /// The value after `=` is not what the rule kind takes.
    BadValue {
        /// The value given.
        value: String,
        /// What the rule kind takes, e.g. `a duration: want e.g. 2s, 500ms or 1.5`.
        wanted: &'static str,
    },
}

impl fmt::Display for RuleSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleSyntaxError::EmptyTrigger => f.write_str("empty trigger"),
            RuleSyntaxError::NotATrigger { text } => write!(f, "not a trigger: `{text}`"),
            RuleSyntaxError::BadAddress { text, keyword } => {
                let verb = text
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                write!(
                    f,
                    "expected `{verb} {keyword}<address>` or `{verb}`, got `{text}`"
                )
            }
            RuleSyntaxError::MissingValue { text, shape } => write!(f, "`{text}`: want {shape}"),
            RuleSyntaxError::BadValue { value, wanted } => write!(f, "`{value}` is not {wanted}"),
        }
    }
}

impl Error for RuleSyntaxError {}

/// The command line's spelling of a trigger (case-insensitive):
/// `CONNECT`, `HELO` (or `EHLO`, `LHLO`), `MAIL`, `MAIL FROM:addr`,
/// `RCPT`, `RCPT TO:addr`, `DATA`, `MESSAGE` (the reply after the final
/// dot), `MESSAGE TO:addr` (that recipient's final reply:
/// [`on::delivery_to`](crate::on::delivery_to)), or any other verb
/// (`VRFY`, `XCLIENT`) for that command.
pub(crate) fn parse_trigger(text: &str) -> Result<Trigger, RuleSyntaxError> {
    let text = text.trim();
    let (verb, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let verb = verb.to_ascii_uppercase();
    let rest = rest.trim();
    let address = |keyword: &'static str| -> Result<Option<String>, RuleSyntaxError> {
        if rest.is_empty() {
            return Ok(None);
        }
        let head = rest
            .get(..keyword.len())
            .filter(|h| h.eq_ignore_ascii_case(keyword));
        match head {
            Some(_) if rest.len() > keyword.len() => Ok(Some(rest[keyword.len()..].trim().to_string())),
            _ => Err(RuleSyntaxError::BadAddress {
                text: text.to_string(),
                keyword,
            }),
        }
    };
    let kind = match verb.as_str() {
        "" => return Err(RuleSyntaxError::EmptyTrigger),
        "CONNECT" if rest.is_empty() => TriggerKind::Connect,
        "HELO" | "EHLO" | "LHLO" if rest.is_empty() => TriggerKind::Helo,
        "MAIL" => TriggerKind::MailFrom(address("FROM:")?),
        "RCPT" => TriggerKind::RcptTo(address("TO:")?),
        "DATA" if rest.is_empty() => TriggerKind::Data,
        "AUTH" if rest.is_empty() => TriggerKind::Auth,
        "MESSAGE" | "." if rest.is_empty() => TriggerKind::Message(None),
        "MESSAGE" => match address("TO:")? {
            Some(address) => TriggerKind::DeliveryTo(address),
            None => TriggerKind::Message(None),
        },
        verb if rest.is_empty()
            && verb
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            TriggerKind::Command(verb.to_string())
        }
        _ => {
            return Err(RuleSyntaxError::NotATrigger {
                text: text.to_string(),
            })
        }
    };
    Ok(Trigger { kind })
}

/// The kinds of rule the text form has: one command-line flag each
/// (`--reply`, `--delay`, ...), and the field names of the service's
/// `POST /api/v1/rules` (which takes `reply`, `delay` and `disconnect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RuleKind {
    /// `TRIGGER=CODE TEXT`: that reply; `\n` in the text starts a new line.
    Reply,
    /// `TRIGGER=DURATION` (`2s`, `500ms`, `1.5`): the normal reply, late.
    Delay,
    /// `TRIGGER`: close the connection instead of replying.
    Disconnect,
    /// `TRIGGER=BYTES_PER_SECOND`: the normal reply trickles out.
    Throttle,
    /// `TRIGGER=BYTES`: only the first bytes of the reply, then close.
    Cut,
    /// `TRIGGER`: a TCP reset instead of the reply.
    Reset,
    /// `TRIGGER`: the reply, then no more reads.
    StopReading,
    /// `TRIGGER`: no reply and no reads (`CONNECT`: a connection that is
    /// never greeted).
    Silence,
    /// `[TRIGGER=]DURATION` (`5m`; RCPT unless given): greylisting.
    Greylist,
    /// `TRIGGER=MAX/WINDOW` (`MESSAGE=10/1m`): a rate limit.
    Rate,
    /// `[TRIGGER=]LIMIT[,CODE]` (`1MB`, `10messages,552`; MESSAGE unless
    /// given): a quota per recipient.
    Quota,
    /// `[TRIGGER=]MAX` (`10`; MAIL unless given): at most MAX per
    /// connection, then `421`.
    PerConnection,
    /// `TRIGGER`: store the message, lose the final reply, close.
    LoseReply,
}

impl RuleKind {
    /// Every kind, in the order the command line's help lists them.
    pub(crate) const ALL: [RuleKind; 13] = [
        RuleKind::Reply,
        RuleKind::Delay,
        RuleKind::Disconnect,
        RuleKind::Throttle,
        RuleKind::Cut,
        RuleKind::Reset,
        RuleKind::StopReading,
        RuleKind::Silence,
        RuleKind::Greylist,
        RuleKind::Rate,
        RuleKind::Quota,
        RuleKind::PerConnection,
        RuleKind::LoseReply,
    ];

    /// The flag's name without dashes: `reply`, `stop-reading`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuleKind::Reply => "reply",
            RuleKind::Delay => "delay",
            RuleKind::Disconnect => "disconnect",
            RuleKind::Throttle => "throttle",
            RuleKind::Cut => "cut",
            RuleKind::Reset => "reset",
            RuleKind::StopReading => "stop-reading",
            RuleKind::Silence => "silence",
            RuleKind::Greylist => "greylist",
            RuleKind::Rate => "rate",
            RuleKind::Quota => "quota",
            RuleKind::PerConnection => "per-connection",
            RuleKind::LoseReply => "lose-reply",
        }
    }

    /// Reads `text` as a rule of this kind: its trigger and its action.
    pub(crate) fn parse(self, text: &str) -> Result<(Trigger, Action), RuleSyntaxError> {
        match self {
            RuleKind::Reply => {
                let (trigger, reply) = split_rule(text, "TRIGGER=CODE TEXT")?;
                let reply =
                    Reply::parse(&reply.replace("\\n", "\n")).map_err(|_| RuleSyntaxError::BadValue {
                        value: reply.to_string(),
                        wanted: "a reply: want a code from 200 to 599 and a text",
                    })?;
                Ok((trigger, Action::from(reply)))
            }
            RuleKind::Delay => {
                let (trigger, delay) = split_rule(text, "TRIGGER=DURATION")?;
                Ok((trigger, Action::delay(parse_duration(delay)?)))
            }
            RuleKind::Throttle => {
                let (trigger, rate) = split_rule(text, "TRIGGER=BYTES_PER_SECOND")?;
                let rate: u32 =
                    rate.parse()
                        .ok()
                        .filter(|&rate| rate > 0)
                        .ok_or_else(|| RuleSyntaxError::BadValue {
                            value: rate.to_string(),
                            wanted: "a rate: want bytes per second, at least 1",
                        })?;
                Ok((trigger, Action::throttle(rate)))
            }
            RuleKind::Cut => {
                let (trigger, bytes) = split_rule(text, "TRIGGER=BYTES")?;
                let bytes = bytes.parse().map_err(|_| RuleSyntaxError::BadValue {
                    value: bytes.to_string(),
                    wanted: "a number of bytes",
                })?;
                Ok((trigger, Action::cut_after(bytes)))
            }
            RuleKind::Disconnect => Ok((parse_trigger(text)?, Action::disconnect())),
            RuleKind::Reset => Ok((parse_trigger(text)?, Action::reset())),
            RuleKind::StopReading => Ok((parse_trigger(text)?, Action::stop_reading())),
            RuleKind::Silence => Ok((parse_trigger(text)?, Action::silence())),
            RuleKind::Greylist
            | RuleKind::Rate
            | RuleKind::Quota
            | RuleKind::PerConnection
            | RuleKind::LoseReply => over_time::parse(self, text),
        }
    }
}

/// A rule in the text form, as `(kind, text)`: `(Reply, "DATA=451 Try
/// later")`, so that [`RuleKind::parse`] of it gives the rule back. `None`
/// for rules the text form cannot say (a predicate, raw bytes, a reply that
/// is late or over a faulty link), which only the Rust API makes.
pub(crate) fn spell(trigger: &Trigger, action: &Action) -> Option<(RuleKind, String)> {
    let rule = trigger;
    let trigger = spell_trigger(&trigger.kind)?;
    let delayed = !action.delay.is_zero();
    let (kind, value) = match (&action.kind, action.fault, delayed) {
        (ActionKind::Reply(reply), None, false) => {
            let text = reply.lines().join("\\n");
            (RuleKind::Reply, Some(format!("{} {text}", reply.code())))
        }
        (ActionKind::Proceed, None, true) => (RuleKind::Delay, Some(spell_duration(action.delay))),
        (ActionKind::Disconnect, None, false) => (RuleKind::Disconnect, None),
        (ActionKind::Proceed, Some(fault), false) => match fault {
            LinkFault::Throttle { bytes_per_second } => {
                (RuleKind::Throttle, Some(bytes_per_second.to_string()))
            }
            LinkFault::CutAfter { bytes } => (RuleKind::Cut, Some(bytes.to_string())),
            LinkFault::Reset => (RuleKind::Reset, None),
            LinkFault::StopReading => (RuleKind::StopReading, None),
            LinkFault::Silence => (RuleKind::Silence, None),
            LinkFault::ReplyLost { bytes: 0 } => (RuleKind::LoseReply, None),
            _ => return None,
        },
        (_, None, false) => return over_time::spell(rule, trigger, action),
        _ => return None,
    };
    Some(match value {
        Some(value) => (kind, format!("{trigger}={value}")),
        None => (kind, trigger),
    })
}

fn spell_trigger(kind: &TriggerKind) -> Option<String> {
    let with_address = |verb: &str, address: &Option<String>| match address {
        Some(address) => format!("{verb}:{address}"),
        None => verb.split(' ').next().unwrap_or(verb).to_string(),
    };
    Some(match kind {
        TriggerKind::Connect => "CONNECT".to_string(),
        TriggerKind::Helo => "HELO".to_string(),
        TriggerKind::MailFrom(address) => with_address("MAIL FROM", address),
        TriggerKind::RcptTo(address) => with_address("RCPT TO", address),
        TriggerKind::Data => "DATA".to_string(),
        TriggerKind::Auth => "AUTH".to_string(),
        TriggerKind::Message(None) => "MESSAGE".to_string(),
        TriggerKind::DeliveryTo(address) => format!("MESSAGE TO:{address}"),
        TriggerKind::Command(verb) => verb.clone(),
        TriggerKind::Message(Some(_)) | TriggerKind::CommandMatching(_) => return None,
    })
}

/// A duration as [`parse_duration`] reads it back exactly: whole
/// milliseconds as `250ms`, anything finer as seconds.
fn spell_duration(duration: Duration) -> String {
    if duration.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{}", duration.as_secs_f64())
    }
}

fn split_rule<'a>(text: &'a str, shape: &'static str) -> Result<(Trigger, &'a str), RuleSyntaxError> {
    let (trigger, value) = text
        .split_once('=')
        .ok_or_else(|| RuleSyntaxError::MissingValue {
            text: text.to_string(),
            shape,
        })?;
    Ok((parse_trigger(trigger)?, value.trim()))
}

/// `30` or `30@42`: how often a rule fires by chance, as a percentage (at
/// most 100) and a seed (default 0): `--chance` and the `chance` field of
/// `POST /api/v1/rules`.
pub(crate) fn parse_chance(text: &str) -> Option<(u8, u64)> {
    let (percent, seed) = text.split_once('@').unwrap_or((text, "0"));
    let percent: u8 = percent.trim().trim_end_matches('%').parse().ok()?;
    (percent <= 100).then_some(())?;
    Some((percent, seed.trim().parse().ok()?))
}

/// `2s`, `500ms`, `5m`, `1h`, `1d`, `1.5` (seconds): the durations of `--delay` and of the
/// service's `timeout` parameters.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, RuleSyntaxError> {
    let text = text.trim();
    let (number, scale) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60.0)
    } else if let Some(number) = text.strip_suffix('h') {
        (number, 3600.0)
    } else if let Some(number) = text.strip_suffix('d') {
        (number, 86_400.0)
    } else {
        (text.strip_suffix('s').unwrap_or(text), 1.0)
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .ok_or_else(|| RuleSyntaxError::BadValue {
            value: text.to_string(),
            wanted: "a duration: want e.g. 2s, 500ms, 5m, 1h, 1d or 1.5 (seconds)",
        })
}

#[cfg(test)]
mod tests;
