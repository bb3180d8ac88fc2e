//! Mailpit's search syntax (its "search filters"), the part a test uses:
//! plain words and `"quoted phrases"` anywhere in the message, `to:`,
//! `from:`, `cc:`, `bcc:`, `reply-to:`, `addressed:`, `subject:`,
//! `message-id:`, `tag:`, `inbox:` (ours: mail to an inbox's addresses), `is:read`, `is:unread`, `is:tagged`,
//! `has:attachment`, `has:inline`, `larger:` and `smaller:` (`10K`, `1.5MB`),
//! `before:` and `after:` (`YYYY-MM-DD`), each negated by a leading `-` or
//! `!`. All terms must hold; matching ignores case.
//! Unlike Mailpit, `to:` also matches the envelope recipients (so a message
//! without a `To` header is found by whom it was sent to).

use std::time::UNIX_EPOCH;

use super::mailpit::{Address, Parsed};
use super::text::{days_from_civil, days_in_month, html_to_text};
use crate::testing::{inbox_id, MessageMeta};
use crate::ReceivedMessage;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    To(String),
    From(String),
    Cc(String),
    Bcc(String),
    ReplyTo(String),
    Addressed(String),
    Subject(String),
    MessageId(String),
    Tag(String),
    /// Ours: a recipient of the envelope is an address of this inbox.
    Inbox(String),
    Read(bool),
    Tagged,
    Attachment,
    Inline,
    /// Bigger than this many bytes (Mailpit's `larger:10K`).
    Larger(u64),
    /// Smaller than this many bytes.
    Smaller(u64),
    /// Received before this day (days since 1970-01-01).
    Before(i64),
    /// Received on or after this day.
    After(i64),
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    kind: Kind,
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Search {
    terms: Vec<Term>,
}

/// Splits on whitespace outside double quotes; quotes are removed.
fn words(query: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    words.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(format!("unterminated quote in search {query:?}"));
    }
    if any {
        words.push(current);
    }
    Ok(words)
}

/// The last year a search date may name: `YYYY-MM-DD` has four digits.
const LAST_YEAR: u32 = 9999;

/// A `YYYY-MM-DD` date as days since 1970-01-01. Each field is decimal
/// digits only; a date that is not in the calendar (`2023-02-29`) or past
/// year 9999 is an error (a 400), never a day that wraps around.
fn day(text: &str) -> Result<i64, String> {
    let mut fields = text.splitn(3, '-');
    let mut number = || {
        fields
            .next()
            .filter(|field| !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit()))
            // Digits past u32 are a year far out of range as well.
            .map(|field| field.parse::<u32>().unwrap_or(u32::MAX))
    };
    match (number(), number(), number()) {
        (Some(year), Some(_), Some(_)) if year > LAST_YEAR => Err(format!(
            "`{text}` is out of range: the year is at most {LAST_YEAR}"
        )),
        (Some(year), Some(month @ 1..=12), Some(day))
            if day >= 1 && day <= days_in_month(year as i32, month) =>
        {
            Ok(days_from_civil(year as i32, month, day))
        }
        _ => Err(format!("`{text}` is not a date: want YYYY-MM-DD")),
    }
}

/// Mailpit's sizes: `2000`, `10k`, `1.5MB` (units of 1 024, case ignored).
fn size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .trim_end();
    let scale = match lower[digits.len()..].trim() {
        "" => 1.0,
        "k" | "kb" => 1024.0,
        "m" | "mb" => 1024.0 * 1024.0,
        _ => 0.0,
    };
    let starts_with_digit = digits.starts_with(|c: char| c.is_ascii_digit());
    match digits.parse::<f64>() {
        Ok(number) if starts_with_digit && scale > 0.0 && number * scale >= 1.0 => {
            Ok((number * scale) as u64)
        }
        _ => Err(format!("`{text}` is not a size: want e.g. 2000, 10K or 1.5MB")),
    }
}

impl Search {
    /// Parses a search; an empty one or a malformed term is an error.
    pub(crate) fn parse(query: &str) -> Result<Search, String> {
        let mut terms = Vec::new();
        for word in words(query)? {
            let (negated, word) = match word.strip_prefix(['-', '!']) {
                Some(rest) if !rest.is_empty() => (true, rest.to_string()),
                _ => (false, word),
            };
            let lower = word.to_lowercase();
            let kind = match lower.split_once(':') {
                Some((key, value)) if !value.is_empty() => {
                    let value = value.to_string();
                    match key {
                        "to" => Kind::To(value),
                        "from" => Kind::From(value),
                        "cc" => Kind::Cc(value),
                        "bcc" => Kind::Bcc(value),
                        "reply-to" => Kind::ReplyTo(value),
                        "addressed" => Kind::Addressed(value),
                        "subject" => Kind::Subject(value),
                        "message-id" => Kind::MessageId(value.trim_matches(['<', '>']).to_string()),
                        "tag" => Kind::Tag(value),
                        "inbox" => Kind::Inbox(value),
                        "is" => match value.as_str() {
                            "read" => Kind::Read(true),
                            "unread" => Kind::Read(false),
                            "tagged" => Kind::Tagged,
                            _ => return Err(format!("unknown search term `is:{value}`")),
                        },
                        "has" => match value.as_str() {
                            "attachment" | "attachments" => Kind::Attachment,
                            "inline" | "inlines" => Kind::Inline,
                            _ => return Err(format!("unknown search term `has:{value}`")),
                        },
                        "larger" => Kind::Larger(size(&value)?),
                        "smaller" => Kind::Smaller(size(&value)?),
                        "before" => Kind::Before(day(&value)?),
                        "after" => Kind::After(day(&value)?),
                        _ => Kind::Word(lower),
                    }
                }
                _ => Kind::Word(lower),
            };
            terms.push(Term { negated, kind });
        }
        if terms.is_empty() {
            return Err("Error: no search query".to_string());
        }
        Ok(Search { terms })
    }

    /// Whether the message matches every term.
    pub(crate) fn matches(&self, message: &ReceivedMessage, meta: &MessageMeta, parsed: &Parsed) -> bool {
        let mut everything: Option<String> = None;
        self.terms.iter().all(|term| {
            let holds = match &term.kind {
                Kind::Word(word) => everything
                    .get_or_insert_with(|| searchable_text(message, parsed))
                    .contains(word.as_str()),
                Kind::To(v) => {
                    any_address(&parsed.to, v)
                        || message
                            .envelope
                            .rcpt_to
                            .iter()
                            .any(|r| r.to_lowercase().contains(v))
                }
                Kind::From(v) => {
                    parsed.from.iter().any(|a| address_contains(a, v))
                        || message.envelope.mail_from.to_lowercase().contains(v)
                }
                Kind::Cc(v) => any_address(&parsed.cc, v),
                Kind::Bcc(v) => any_address(&parsed.bcc, v),
                Kind::ReplyTo(v) => any_address(&parsed.reply_to, v),
                Kind::Addressed(v) => [&parsed.to, &parsed.cc, &parsed.bcc]
                    .iter()
                    .any(|list| any_address(list, v)),
                Kind::Subject(v) => parsed.subject.to_lowercase().contains(v.as_str()),
                Kind::MessageId(v) => parsed.message_id(meta).to_lowercase() == *v,
                Kind::Tag(v) => meta.tags.iter().any(|tag| tag.to_lowercase() == *v),
                Kind::Inbox(v) => message
                    .envelope
                    .rcpt_to
                    .iter()
                    .any(|r| inbox_id(r).is_some_and(|id| id.eq_ignore_ascii_case(v))),
                Kind::Read(read) => meta.read == *read,
                Kind::Tagged => !meta.tags.is_empty(),
                Kind::Attachment => parsed.attachment_count() > 0,
                Kind::Inline => parsed.inline_count() > 0,
                Kind::Larger(bytes) => message.data.len() as u64 > *bytes,
                Kind::Smaller(bytes) => (message.data.len() as u64) < *bytes,
                Kind::Before(day) => received_day(message) < *day,
                Kind::After(day) => received_day(message) >= *day,
            };
            holds != term.negated
        })
    }
}

/// For each query: whether it matches `message`, marked `read` and
/// tagged `tags`, or the error a malformed query gets (the message is
/// parsed once for all). For the fuzz target `search_query`.
#[cfg(feature = "fuzzing")]
pub fn search_matches(
    queries: &[&str],
    message: &ReceivedMessage,
    read: bool,
    tags: &[String],
) -> Vec<Result<bool, String>> {
    let meta = MessageMeta {
        read,
        tags: tags.to_vec(),
        ..MessageMeta::default()
    };
    let parsed = Parsed::of(message);
    queries
        .iter()
        .map(|query| Ok(Search::parse(query)?.matches(message, &meta, &parsed)))
        .collect()
}

/// The day a `before:`/`after:` date names (days since 1970-01-01), or
/// why it names none. For the fuzz target `search_query`.
#[cfg(feature = "fuzzing")]
pub fn search_day(date: &str) -> Result<i64, String> {
    day(date)
}

fn received_day(message: &ReceivedMessage) -> i64 {
    let seconds = message
        .received_at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    (seconds / 86_400) as i64
}

fn address_contains(address: &Address, needle: &str) -> bool {
    address.address.to_lowercase().contains(needle) || address.name.to_lowercase().contains(needle)
}

fn any_address(list: &[Address], needle: &str) -> bool {
    list.iter().any(|a| address_contains(a, needle))
}

/// What plain words are looked for in, lower-cased.
fn searchable_text(message: &ReceivedMessage, parsed: &Parsed) -> String {
    let mut text = String::new();
    let mut add = |part: &str| {
        text.push_str(&part.to_lowercase());
        text.push('\n');
    };
    add(&parsed.subject);
    add(&message.envelope.mail_from);
    for address in parsed
        .from
        .iter()
        .chain(&parsed.to)
        .chain(&parsed.cc)
        .chain(&parsed.bcc)
        .chain(&parsed.reply_to)
    {
        add(&address.name);
        add(&address.address);
    }
    add(&parsed.message_id);
    add(&parsed.text);
    add(&html_to_text(&parsed.html));
    for part in &parsed.parts {
        add(&part.summary.file_name);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Envelope;

    fn check(query: &str, data: &str, meta: &MessageMeta) -> bool {
        let message = ReceivedMessage::new(
            Envelope {
                mail_from: "app@example.com".into(),
                rcpt_to: vec!["ann@example.com".into()],
                ..Envelope::default()
            },
            data.to_string(),
        );
        let parsed = Parsed::of(&message);
        Search::parse(query).unwrap().matches(&message, meta, &parsed)
    }

    #[test]
    fn terms() {
        let data = "From: Shop <shop@example.com>\r\nTo: Ann <ann@example.com>\r\nSubject: Your order 42\r\n\r\nThanks for the order.\r\n";
        let meta = MessageMeta::default();
        for (query, expected) in [
            ("order", true),
            ("ORDER", true),
            ("\"for the order\"", true),
            ("\"the for\"", false),
            ("to:ann@example.com", true),
            ("to:bob", false),
            ("-to:bob", true),
            ("!to:ann", false),
            ("from:shop subject:\"order 42\"", true),
            ("subject:refund", false),
            ("is:unread", true),
            ("is:read", false),
            ("has:attachment", false),
            ("after:2000-01-01", true),
            ("before:2000-01-01", false),
            ("larger:10", true),
            ("larger:1k", false),
            ("smaller:1K", true),
            ("-smaller:1K", false),
            ("smaller:0.05kb", false),
            ("has:inline", false),
            ("-has:inline", true),
            ("after:2024-02-29", true),
            ("before:9999-12-31", true),
            ("after:9999-12-31", false),
            ("-after:9999-12-31", true),
            ("after:0000-01-01", true),
        ] {
            assert_eq!(check(query, data, &meta), expected, "{query}");
        }
    }

    #[test]
    fn malformed_searches_are_errors() {
        for bad in [
            "",
            "   ",
            "\"open",
            "is:purple",
            "has:nothing",
            "before:yesterday",
            "after:2020-13-01",
            "larger:big",
            "smaller:10gb",
            "larger:-5",
            "after:2023-02-29",
            "after:2024-04-31",
            "after:2024-01-00",
            "after:+2024-01-01",
            "after:2024-01-01x",
            "after:2024--01",
            "before:10000-01-01",
            "after:99999999999999999-01-01",
            "before:99999999999999999999999999-01-01",
        ] {
            assert!(Search::parse(bad).is_err(), "{bad:?}");
        }
    }
}
