//! One-time codes: the "Your code is 493 201" a sign-in or confirmation
//! mail carries, the second thing a mail test reads after a link.
//!
//! A code is a number standing alone in the text a reader sees: 4 to 8
//! digits written together (`493201`), or in groups of equal length joined
//! by a single space or hyphen (`493 201`, `493-201`, `1234 5678`, one digit
//! per table cell). Numbers that are part of something else are not codes:
//! a date (`2026-12-07`: unequal groups), a time or amount (`10:30`,
//! `$1,000`), a number inside a word or URL, a phone number (`+1 555 123
//! 4567`), a year after `©`. Plain-text parts are read as they are; HTML
//! parts (when the message has no plain-text body) as their visible text,
//! with a real tokenizer (`<style>` and `<script>` skipped, tags that start a
//! block separating words).

use html5gum::{DefaultEmitter, Token, Tokenizer};
use mail_parser::PartType;

use super::links::is_plain;
use super::message::ReceivedMessage;

/// Fewest and most digits a code has.
const DIGITS: std::ops::RangeInclusive<usize> = 4..=8;

impl ReceivedMessage {
    /// The one-time codes in the message's text, digits only (separators
    /// removed), each once, in order of appearance. See
    /// [`code`](Self::code) for what counts as a code.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "\r\nYour code is 493 201. It expires at 10:30 on 2026-12-07.\r\nOr use 771-208.\r\n",
    /// );
    /// assert_eq!(message.codes(), ["493201", "771208"]);
    /// ```
    pub fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = Vec::new();
        for text in self.readable_texts() {
            for code in codes_in(&text) {
                if !codes.contains(&code) {
                    codes.push(code);
                }
            }
        }
        codes
    }

    /// The single one-time code in the message, digits only: 4 to 8 digits
    /// written together (`493201`) or in equal groups joined by a space or a
    /// hyphen (`493 201`, `493-201`), standing alone (not in a date, time,
    /// amount, phone number, URL or word, nor a year after `©`). The
    /// plain-text body is read; an HTML-only message is read as the text
    /// its reader sees. Alphanumeric codes are not recognised.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let text = ReceivedMessage::new(Envelope::default(), "\r\nYour code is 493 201\r\n");
    /// assert_eq!(text.code(), "493201");
    ///
    /// let html = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "Content-Type: text/html\r\n\r\n<style>.x{width:1200px}</style>\
    ///      <p>Your code:</p><p><b>493</b><b>201</b></p><p>&copy; 2026 Shop</p>\r\n",
    /// );
    /// assert_eq!(html.code(), "493201");
    /// ```
    ///
    /// # Panics
    ///
    /// When the message holds no code, or more than one, naming the
    /// candidates and the message.
    #[track_caller]
    pub fn code(&self) -> String {
        let mut codes = self.codes();
        if codes.len() == 1 {
            return codes.remove(0);
        }
        let found = if codes.is_empty() {
            "none".to_string()
        } else {
            codes.join(", ")
        };
        panic!(
            "smtp-fixture: expected exactly one one-time code (4 to 8 digits) in message {}, found {}: {found}",
            self.summary(),
            codes.len()
        )
    }

    /// The texts a reader sees: each plain-text body part, or, when there
    /// is none, the visible text of each HTML part.
    fn readable_texts(&self) -> Vec<String> {
        let Some(parsed) = self.parsed() else {
            return Vec::new();
        };
        let mut plain = Vec::new();
        let mut html = Vec::new();
        for (index, part) in parsed.parts.iter().enumerate() {
            if parsed.attachments.contains(&(index as u32)) {
                continue;
            }
            match &part.body {
                PartType::Html(markup) => html.push(visible_text(markup)),
                PartType::Text(text) if is_plain(part) => plain.push(text.to_string()),
                _ => {}
            }
        }
        if plain.is_empty() {
            html
        } else {
            plain
        }
    }
}

/// Tags a browser renders inline: words on either side stay joined.
const INLINE: &[&[u8]] = &[
    b"a", b"abbr", b"b", b"big", b"code", b"em", b"font", b"i", b"kbd", b"mark", b"s", b"samp", b"small",
    b"span", b"strong", b"sub", b"sup", b"tt", b"u", b"wbr",
];

/// Elements whose content is not shown.
const HIDDEN: &[&[u8]] = &[b"style", b"script", b"title", b"head"];

/// The text of an HTML document as a reader sees it, roughly: character
/// references decoded, hidden elements left out, block tags as spaces.
pub(crate) fn visible_text(html: &str) -> String {
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut text = String::new();
    let mut hidden_depth = 0usize;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) => {
                if HIDDEN.contains(&tag.name.as_slice()) && !tag.self_closing {
                    hidden_depth += 1;
                } else if !INLINE.contains(&tag.name.as_slice()) {
                    text.push(' ');
                }
            }
            Token::EndTag(tag) => {
                if HIDDEN.contains(&tag.name.as_slice()) {
                    hidden_depth = hidden_depth.saturating_sub(1);
                } else if !INLINE.contains(&tag.name.as_slice()) {
                    text.push(' ');
                }
            }
            Token::String(string) if hidden_depth == 0 => {
                text.push_str(&String::from_utf8_lossy(&string.value));
            }
            _ => {}
        }
    }
    // Markup's line breaks and indentation are one space to a reader.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The codes in `text`, digits only, in order (repeats kept).
pub(crate) fn codes_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut codes = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if !chars[at].is_ascii_digit() {
            at += 1;
            continue;
        }
        let (groups, end) = digit_chain(&chars, at);
        let before = at.checked_sub(1).map(|i| chars[i]);
        let after = chars.get(end).copied();
        if stands_alone(before, after, &chars[..at]) {
            if let Some(code) = as_code(&groups) {
                codes.push(code);
            }
        }
        at = end;
    }
    codes
}

/// The digit groups from `start`, joined by single spaces or hyphens, and
/// where the chain ends.
fn digit_chain(chars: &[char], start: usize) -> (Vec<String>, usize) {
    let mut groups = Vec::new();
    let mut at = start;
    loop {
        let from = at;
        while at < chars.len() && chars[at].is_ascii_digit() {
            at += 1;
        }
        groups.push(chars[from..at].iter().collect::<String>());
        let joined = at + 1 < chars.len() && is_joiner(chars[at]) && chars[at + 1].is_ascii_digit();
        if !joined {
            return (groups, at);
        }
        at += 1;
    }
}

fn is_joiner(c: char) -> bool {
    matches!(c, ' ' | '-' | '\u{a0}' | '\u{2009}' | '\u{202f}')
}

/// A chain is a code when it is one group of 4 to 8 digits, or several
/// groups of one length whose digits add up to 4 to 8.
fn as_code(groups: &[String]) -> Option<String> {
    let digits: String = groups.concat();
    if !DIGITS.contains(&digits.len()) {
        return None;
    }
    let first = groups[0].len();
    if groups.len() > 1 && (first > 4 || groups.iter().any(|group| group.len() != first)) {
        return None;
    }
    Some(digits)
}

/// What may surround a code: the start or end of the text, white space,
/// brackets, quotes, and (after it) the punctuation that ends a sentence;
/// not a digit, a letter, `$`, `/`, `:`, `.`, `,` before it, nor `+` (a
/// phone number) or `©` (a year).
fn stands_alone(before: Option<char>, after: Option<char>, preceding: &[char]) -> bool {
    let before_ok =
        before.is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '"' | '\'' | '*' | '>' | '«'));
    let after_ok = after.is_none_or(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | ';' | '!' | '?' | ')' | ']' | '"' | '\'' | '*' | '<' | '»'
            )
    });
    before_ok && after_ok && !after_copyright(preceding)
}

/// `© 2026`, `(c) 2026`, `Copyright 2026`: the footer's year.
fn after_copyright(preceding: &[char]) -> bool {
    let tail: String = preceding
        .iter()
        .rev()
        .take(12)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let tail = tail.trim_end().to_lowercase();
    tail.ends_with('©') || tail.ends_with("(c)") || tail.ends_with("copyright")
}

#[cfg(test)]
mod tests {
    use super::{codes_in, visible_text};

    #[test]
    fn codes_stand_alone_in_equal_groups() {
        let cases: &[(&str, &[&str])] = &[
            ("Your code is 493 201", &["493201"]),
            ("Your code is 493201.", &["493201"]),
            ("Code: 493-201!", &["493201"]),
            ("(1234 5678)", &["12345678"]),
            ("4 9 3 2", &["4932"]),
            ("on 2026-12-07 at 10:30", &[]),
            ("it costs $1000 or 1,000.00 EUR", &[]),
            ("call +1 555 123 4567", &[]),
            ("see https://a.test/v/493201 or order A493201", &[]),
            ("© 2026 Shop, (c) 2025, Copyright 2024", &[]),
            ("123", &[]),
            ("123456789", &[]),
            ("ids 1234 and 5678", &["1234", "5678"]),
            ("version 1.2345", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(codes_in(text), *expected, "in {text:?}");
        }
    }

    #[test]
    fn html_is_read_as_its_reader_sees_it() {
        let html = "<html><head><title>1234</title><style>p{width:5678px}</style></head>\
                    <body><table><tr><td>4</td><td>9</td><td>3</td><td>2</td></tr></table>\
                    <p>code <b>49</b><b>32</b>&nbsp;ok</p><script>var x = 9999;</script></body></html>";
        let text = visible_text(html);
        assert!(
            !text.contains("1234") && !text.contains("5678") && !text.contains("9999"),
            "{text}"
        );
        assert_eq!(codes_in(&text), ["4932", "4932"]);
    }
}
