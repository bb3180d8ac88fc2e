//! The `search_query` target: the service's search syntax (Mailpit's
//! filters) on a message built from the input.
//!
//! Oracles: a term negated with `-` or `!` parses exactly when the term
//! does, and matches exactly when the term does not; a query of several
//! terms parses when each does and matches when each does; a
//! `before:`/`after:` date is accepted exactly when the reference calendar
//! (`crate::calendar`) has it (year 0000-9999, a real month and day), names
//! the day it counts, and compares with the day the message was received.

use std::time::{Duration, UNIX_EPOCH};

use arbitrary::Arbitrary;
use smtp_fixture::fuzzing::{search_day, search_matches};
use smtp_fixture::{Envelope, ReceivedMessage};

use crate::calendar;

/// A test case.
#[derive(Arbitrary, Debug)]
pub struct SearchInput {
    from: String,
    to: String,
    subject: String,
    body: String,
    read: bool,
    tags: Vec<String>,
    /// Seconds since 1970 the message was received (up to year 9999).
    received: u64,
    terms: Vec<Term>,
}

#[derive(Arbitrary, Debug)]
enum Term {
    Word(String),
    /// A key of [`KEYS`] and a value.
    Keyed(u8, String),
    /// `before:` (or `after:`) with the numbers of a date, zero-padded
    /// or not.
    Date {
        before: bool,
        year: u64,
        month: u16,
        day: u16,
        padded: bool,
    },
    /// `before:` (or `after:`) with any text.
    DateText(bool, String),
}

const KEYS: [&str; 15] = [
    "to",
    "from",
    "cc",
    "bcc",
    "reply-to",
    "addressed",
    "subject",
    "message-id",
    "tag",
    "is",
    "has",
    "before",
    "after",
    "x-other",
    "TO",
];
/// The last second of 9999-12-31.
const LAST_SECOND: u64 = 253_402_300_799;

/// Text without the characters that would change the term's shape: white
/// space and quotes split or join words, CR and LF would end a header.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && !c.is_control())
        .take(64)
        .collect()
}

impl Term {
    /// The term as a search word (never negated, never empty).
    fn text(&self) -> Option<String> {
        let text = match self {
            Term::Word(word) => plain(word),
            Term::Keyed(key, value) => format!("{}:{}", KEYS[usize::from(*key) % KEYS.len()], plain(value)),
            Term::Date {
                before,
                year,
                month,
                day,
                padded,
            } => {
                let key = if *before { "before" } else { "after" };
                if *padded {
                    format!("{key}:{year:04}-{month:02}-{day:02}")
                } else {
                    format!("{key}:{year}-{month}-{day}")
                }
            }
            Term::DateText(before, text) => {
                format!("{}:{}", if *before { "before" } else { "after" }, plain(text))
            }
        };
        let negated_already = text.starts_with(['-', '!']);
        (!text.is_empty() && !negated_already).then_some(text)
    }
}

/// The day a date's text names by the reference calendar: `None` when it
/// names none (not three fields of ASCII digits, no such day, past 9999).
fn reference_day(text: &str) -> Option<i64> {
    let fields: Vec<&str> = text.splitn(3, '-').collect();
    let [year, month, day] = fields[..] else {
        return None;
    };
    let number = |field: &str| -> Option<u64> {
        if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let significant = field.trim_start_matches('0');
        if significant.len() > 12 {
            return Some(u64::MAX);
        }
        Some(significant.parse().unwrap_or(0))
    };
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    if year > 9999 || !(1..=12).contains(&month) {
        return None;
    }
    let (year, month) = (year as i64, month as u32);
    if day < 1 || day > u64::from(calendar::month_length(year, month)) {
        return None;
    }
    Some(calendar::days_since_epoch(year, month, day as u32))
}

/// Runs the test case; panics when an oracle fails.
pub fn check(input: &SearchInput) {
    let header = |text: &str| plain(text).replace(':', "");
    let data = format!(
        "From: {0}@example.com\r\nTo: {1}@example.com\r\nSubject: {2}\r\n\r\n{3}\r\n",
        header(&input.from),
        header(&input.to),
        input.subject.replace(['\r', '\n'], " "),
        input.body.replace('\r', ""),
    );
    let envelope = Envelope {
        mail_from: format!("{}@example.com", header(&input.from)),
        rcpt_to: vec![format!("{}@example.com", header(&input.to))],
        ..Envelope::default()
    };
    let mut message = ReceivedMessage::new(envelope, data);
    let received = input.received % (LAST_SECOND + 1);
    message.received_at = UNIX_EPOCH + Duration::from_secs(received);
    let received_day = (received / 86_400) as i64;

    let terms: Vec<String> = input.terms.iter().filter_map(Term::text).take(8).collect();
    if terms.is_empty() {
        return;
    }
    // Each term, negated both ways, and all of them together: one parse
    // of the message for all the queries.
    let mut queries: Vec<String> = Vec::new();
    for term in &terms {
        queries.push(term.clone());
        queries.push(format!("-{term}"));
        queries.push(format!("!{term}"));
    }
    queries.push(terms.join(" "));
    let query_refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let results = search_matches(&query_refs, &message, input.read, &input.tags);
    assert_eq!(results.len(), queries.len());

    for (i, term) in terms.iter().enumerate() {
        let [plain_term, minus, bang] = &results[3 * i..3 * i + 3] else {
            unreachable!()
        };
        match plain_term {
            Ok(holds) => {
                assert_eq!(minus, &Ok(!holds), "-{term} against {term} matching {holds}");
                assert_eq!(bang, &Ok(!holds), "!{term} against {term} matching {holds}");
            }
            Err(_) => assert!(
                minus.is_err() && bang.is_err(),
                "{term} refused, its negation accepted"
            ),
        }
        check_date(term, plain_term, received_day);
    }
    let all: Result<Vec<bool>, String> = results[..3 * terms.len()].iter().step_by(3).cloned().collect();
    let together = results.last().expect("the joined query");
    match all {
        Ok(each) => assert_eq!(
            together,
            &Ok(each.iter().all(|&holds| holds)),
            "{:?} together, each {each:?}",
            terms.join(" ")
        ),
        Err(_) => assert!(
            together.is_err(),
            "{:?} accepted, a term of it refused",
            terms.join(" ")
        ),
    }
}

/// A `before:`/`after:` term: accepted exactly for a date of the reference
/// calendar, on the day it names, compared with the day received.
fn check_date(term: &str, result: &Result<bool, String>, received_day: i64) {
    let lower = term.to_lowercase();
    let (before, date) = match (lower.strip_prefix("before:"), lower.strip_prefix("after:")) {
        (Some(date), _) => (true, date),
        (_, Some(date)) => (false, date),
        _ => return,
    };
    if date.is_empty() {
        // `before:` alone is a plain word.
        return;
    }
    let expected = reference_day(date);
    let day = search_day(date);
    match (expected, &day) {
        (Some(expected), Ok(day)) => assert_eq!(*day, expected, "{date:?}"),
        (None, Err(_)) => {}
        (expected, day) => panic!("{date:?}: the reference calendar says {expected:?}, the search {day:?}"),
    }
    let Some(expected) = expected else {
        assert!(
            result.is_err(),
            "{term:?} is no date, yet the search was accepted"
        );
        return;
    };
    let holds = if before {
        received_day < expected
    } else {
        received_day >= expected
    };
    assert_eq!(result, &Ok(holds), "{term:?} for a message of day {received_day}");
}
