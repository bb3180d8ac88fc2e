//! Small text helpers of the service: HTML to plain text (for snippets and
//! search) and timestamps in RFC 3339.

use std::time::{SystemTime, UNIX_EPOCH};

use html5gum::{DefaultEmitter, Token, Tokenizer};

/// The text of an HTML document: character references decoded, the
/// contents of `<style>`, `<script>`, `<title>` and `<head>` left out.
pub(crate) fn html_to_text(html: &str) -> String {
    html_text(html, ' ')
}

/// The text of an HTML document as lines: a line ends at each block
/// element's edge and `<br>`; spaces inside a line are collapsed, blank
/// lines dropped (what a reader of an HTML-only message's `Text` wants).
pub(crate) fn html_to_lines(html: &str) -> String {
    let text = html_text(html, '\n');
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect();
    lines.join("\n")
}

/// The text of `html`, with `edge` where an element separates words.
fn html_text(html: &str, edge: char) -> String {
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut text = String::new();
    let mut skipping = 0usize;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) if is_hidden(&tag.name) && !tag.self_closing => skipping += 1,
            Token::EndTag(tag) if is_hidden(&tag.name) => skipping = skipping.saturating_sub(1),
            Token::StartTag(tag) if is_break(&tag.name) => text.push(edge),
            Token::EndTag(tag) if is_break(&tag.name) => text.push(edge),
            Token::String(chunk) if skipping == 0 => text.push_str(&String::from_utf8_lossy(&chunk.value)),
            _ => {}
        }
    }
    text
}

fn is_hidden(name: &[u8]) -> bool {
    matches!(name, b"style" | b"script" | b"title" | b"head")
}

/// Elements whose edges separate words.
fn is_break(name: &[u8]) -> bool {
    matches!(
        name,
        b"br" | b"p" | b"div" | b"li" | b"tr" | b"td" | b"th" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6"
    )
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g.
/// `2026-12-02T06:38:08.123Z` (Go's time format reads it).
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01 (the inverse of
/// [`civil_from_days`]). The year is an `i32`, so that no year can make
/// the arithmetic overflow (it once took any `i64` a search gave).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year);
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A raw header value unfolded: line breaks and the whitespace after them
/// become one space, ends trimmed (as Go's `net/textproto` reads them).
pub(crate) fn unfold(value: &str) -> String {
    value
        .split("\r\n")
        .flat_map(|line| line.split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Days in `month` (1-12) of `year`, by the Gregorian calendar.
pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps() {
        let time = UNIX_EPOCH + Duration::from_millis(1_764_657_488_123);
        assert_eq!(rfc3339(time), "2025-12-02T06:38:08.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        for days in [-1000, 0, 59, 60, 365, 11_016, 20_424, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y as i32, m, d), days);
        }
    }

    #[test]
    fn calendar_edges() {
        let cases = [
            ((1970, 1, 1), 0),
            ((1969, 12, 31), -1),
            ((2000, 2, 29), 11_016),
            ((2000, 3, 1), 11_017),
            ((1900, 3, 1), -25_508),
            ((0, 1, 1), -719_528),
            ((9999, 12, 31), 2_932_896),
            ((i32::MAX, 12, 31), 784_351_576_776),
            ((i32::MIN, 1, 1), -784_353_015_833),
        ];
        for ((y, m, d), days) in cases {
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        let lengths = [
            (2000, 2, 29),
            (1900, 2, 28),
            (2024, 2, 29),
            (2023, 2, 28),
            (2023, 4, 30),
            (2023, 12, 31),
        ];
        for (y, m, expected) in lengths {
            assert_eq!(days_in_month(y, m), expected, "{y}-{m}");
        }
    }

    #[test]
    fn html_text() {
        assert_eq!(
            html_to_text("<html><head><title>T</title><style>p{}</style></head><p>Hi&amp;bye</p><p>x</p>")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["Hi&bye", "x"]
        );
        assert_eq!(
            html_to_lines("<p>Hi  <b>Ann</b></p>\n\n<div>Your order<br>ships</div>"),
            "Hi Ann\nYour order\nships"
        );
    }
}
