//! The command line's spelling of scripted replies, so suites in other
//! languages can script the binary: `--reply 'RCPT TO:x@example.com=550 No'`,
//! `--delay 'MAIL=2s'`, `--disconnect DATA`.

use std::time::Duration;

use super::rules::{Response, Trigger, TriggerKind};
use crate::protocol::Reply;

impl std::str::FromStr for Trigger {
    type Err = String;

    /// The command line's spelling of a trigger (case-insensitive):
    /// `CONNECT`, `HELO` (or `EHLO`, `LHLO`), `MAIL`, `MAIL FROM:addr`,
    /// `RCPT`, `RCPT TO:addr`, `DATA`, `MESSAGE` (the reply after the final
    /// dot), `MESSAGE TO:addr` (that recipient's final reply:
    /// [`on::delivery_to`](crate::on::delivery_to)), or any other verb
    /// (`VRFY`, `XCLIENT`) for that command.
    ///
    /// ```
    /// use smtp_fixture::testing::Trigger;
    /// let trigger: Trigger = "RCPT TO:bounce@example.com".parse().unwrap();
    /// assert_eq!(trigger.to_string(), r#"on::rcpt_to("bounce@example.com")"#);
    /// assert!("MAIL TO:x".parse::<Trigger>().is_err());
    /// let trigger: Trigger = "MESSAGE TO:b@example.com".parse().unwrap();
    /// assert_eq!(trigger.to_string(), r#"on::delivery_to("b@example.com")"#);
    /// ```
    fn from_str(text: &str) -> Result<Trigger, String> {
        let text = text.trim();
        let (verb, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        let verb = verb.to_ascii_uppercase();
        let rest = rest.trim();
        let address = |keyword: &str| -> Result<Option<String>, String> {
            if rest.is_empty() {
                return Ok(None);
            }
            let head = rest
                .get(..keyword.len())
                .filter(|h| h.eq_ignore_ascii_case(keyword));
            match head {
                Some(_) if rest.len() > keyword.len() => Ok(Some(rest[keyword.len()..].trim().to_string())),
                _ => Err(format!(
                    "expected `{verb} {keyword}<address>` or `{verb}`, got `{text}`"
                )),
            }
        };
        let kind = match verb.as_str() {
            "" => return Err("empty trigger".to_string()),
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
            _ => return Err(format!("not a trigger: `{text}`")),
        };
        Ok(Trigger { kind })
    }
}

/// `TRIGGER=CODE TEXT` (`--reply`); `\n` in the text starts a new line.
///
/// ```
/// use smtp_fixture::testing::parse_reply_rule;
/// let (trigger, response) = parse_reply_rule("DATA=451 4.3.0 Try later").unwrap();
/// assert_eq!(trigger.to_string(), "on::data()");
/// assert_eq!(response.to_string(), r#""451 4.3.0 Try later""#);
/// ```
pub fn parse_reply_rule(text: &str) -> Result<(Trigger, Response), String> {
    let (trigger, reply) = split_rule(text, "TRIGGER=CODE TEXT")?;
    let reply = Reply::parse(&reply.replace("\\n", "\n"))
        .map_err(|_| format!("`{reply}` is not a reply: want a code from 200 to 599 and a text"))?;
    Ok((trigger, Response::from(reply)))
}

/// `TRIGGER=DURATION` (`--delay`): the normal reply after `2s`, `500ms`, `1.5`.
pub fn parse_delay_rule(text: &str) -> Result<(Trigger, Response), String> {
    let (trigger, delay) = split_rule(text, "TRIGGER=DURATION")?;
    Ok((trigger, Response::delay(parse_duration(delay)?)))
}

/// `TRIGGER` (`--disconnect`): close the connection instead of replying.
pub fn parse_disconnect_rule(text: &str) -> Result<(Trigger, Response), String> {
    Ok((text.parse()?, Response::disconnect()))
}

/// `TRIGGER=BYTES_PER_SECOND` (`--throttle`): the normal reply trickles out.
pub fn parse_throttle_rule(text: &str) -> Result<(Trigger, Response), String> {
    let (trigger, rate) = split_rule(text, "TRIGGER=BYTES_PER_SECOND")?;
    let rate: u32 = rate
        .parse()
        .ok()
        .filter(|&rate| rate > 0)
        .ok_or_else(|| format!("`{rate}` is not a rate: want bytes per second, at least 1"))?;
    Ok((trigger, Response::throttle(rate)))
}

/// `TRIGGER=BYTES` (`--cut`): only the first bytes of the reply, then close.
pub fn parse_cut_rule(text: &str) -> Result<(Trigger, Response), String> {
    let (trigger, bytes) = split_rule(text, "TRIGGER=BYTES")?;
    let bytes = bytes
        .parse()
        .map_err(|_| format!("`{bytes}` is not a number of bytes"))?;
    Ok((trigger, Response::cut_after(bytes)))
}

/// `TRIGGER` (`--reset`): a TCP reset instead of the reply.
pub fn parse_reset_rule(text: &str) -> Result<(Trigger, Response), String> {
    Ok((text.parse()?, Response::reset()))
}

/// `TRIGGER` (`--stop-reading`): the reply, then no more reads.
pub fn parse_stop_reading_rule(text: &str) -> Result<(Trigger, Response), String> {
    Ok((text.parse()?, Response::stop_reading()))
}

/// `TRIGGER` (`--silence`): no reply and no reads (`--silence CONNECT`: a
/// connection that is never greeted).
pub fn parse_silence_rule(text: &str) -> Result<(Trigger, Response), String> {
    Ok((text.parse()?, Response::silence()))
}

fn split_rule<'a>(text: &'a str, shape: &str) -> Result<(Trigger, &'a str), String> {
    let (trigger, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: want {shape}"))?;
    Ok((trigger.parse()?, value.trim()))
}

/// `2s`, `500ms`, `1.5` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = match text.strip_suffix("ms") {
        Some(number) => (number, 0.001),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .and_then(|n| Duration::try_from_secs_f64(n * scale).ok())
        .ok_or_else(|| format!("`{text}` is not a duration: want e.g. 2s, 500ms or 1.5"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triggers() {
        let cases = [
            ("CONNECT", "on::connect()"),
            ("ehlo", "on::helo()"),
            ("MAIL", "on::any_mail_from()"),
            ("mail from:<a@b>", "on::mail_from(\"<a@b>\")"),
            ("RCPT", "on::any_rcpt_to()"),
            ("RCPT TO: x@y", "on::rcpt_to(\"x@y\")"),
            ("DATA", "on::data()"),
            ("message", "on::message()"),
            (".", "on::message()"),
            ("lhlo", "on::helo()"),
            ("MESSAGE TO:b@example.com", "on::delivery_to(\"b@example.com\")"),
            ("xclient", "on::command(\"XCLIENT\")"),
        ];
        for (text, shown) in cases {
            assert_eq!(
                text.parse::<Trigger>().map(|t| t.to_string()),
                Ok(shown.to_string()),
                "{text}"
            );
        }
        for bad in [
            "",
            "MAIL TO:x",
            "RCPT FROM:x",
            "DATA now",
            "two words",
            "RCPT TO:",
            "MESSAGE FROM:a@b",
            "MESSAGE TO:",
        ] {
            assert!(bad.parse::<Trigger>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn rules() {
        let (_, response) = parse_reply_rule("RCPT TO:a@b=550 5.1.1 No\\nsuch user").unwrap();
        assert_eq!(response, Response::from(Reply::new(550, "5.1.1 No\nsuch user")));
        assert!(parse_reply_rule("DATA=hello").is_err());
        assert!(parse_reply_rule("DATA").is_err());
        assert_eq!(
            parse_delay_rule("MAIL=250ms").unwrap().1,
            Response::delay(Duration::from_millis(250))
        );
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(parse_disconnect_rule("DATA").unwrap().1, Response::disconnect());
    }
}
