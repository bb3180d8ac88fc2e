//! Client lint: the RFC 5321/5322 mistakes the *client* made in a message,
//! so users catch their mailer's bugs before a real MTA rejects the mail.

use std::fmt;

use super::message::ReceivedMessage;

/// Longest line RFC 5322 (2.1.1) and RFC 5321 (4.5.3.1.6) allow, CRLF excluded.
const MAX_LINE: usize = 998;

/// One mistake the client made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A line ended with LF alone (RFC 5321, 2.3.8): line `line`, 1-based.
    BareLf {
        /// The line number, 1-based.
        line: usize,
    },
    /// A CR not followed by LF (RFC 5321, 2.3.8).
    BareCr {
        /// The line number, 1-based.
        line: usize,
    },
    /// A line longer than 998 characters (RFC 5322, 2.1.1).
    LineTooLong {
        /// The line number, 1-based.
        line: usize,
        /// Its length without CRLF.
        length: usize,
    },
    /// Bytes above 127 without `BODY=8BITMIME` (or `SMTPUTF8`) in MAIL
    /// (RFC 6152).
    EightBitWithoutBody,
    /// Non-ASCII bytes in the header section without `SMTPUTF8` (RFC 6532).
    NonAsciiHeaderWithoutSmtpUtf8,
    /// A header RFC 5322 requires (`Date`, `From`) or that every real MTA
    /// expects (`Message-ID`) is missing.
    MissingHeader(&'static str),
    /// A header appears more often than RFC 5322 (3.6) allows.
    DuplicateHeader(&'static str),
    /// Lines that began with a dot the client did not double (RFC 5321,
    /// 4.5.2): each lost its dot on the way.
    UnstuffedDot {
        /// How many such lines.
        lines: usize,
    },
}
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::BareLf { line } => {
                write!(f, "line {line} ends with a bare LF (RFC 5321 2.3.8 wants CRLF)")
            }
            Violation::BareCr { line } => write!(f, "line {line} holds a bare CR (RFC 5321 2.3.8)"),
            Violation::LineTooLong { line, length } => {
                write!(
                    f,
                    "line {line} is {length} characters long (RFC 5322 2.1.1 allows 998)"
                )
            }
            Violation::EightBitWithoutBody => {
                f.write_str("8-bit data sent without BODY=8BITMIME in MAIL FROM (RFC 6152)")
            }
            Violation::NonAsciiHeaderWithoutSmtpUtf8 => f.write_str(
                "non-ASCII bytes in the headers without SMTPUTF8 (RFC 6532; use RFC 2047 encoded words)",
            ),
            Violation::MissingHeader(name) => write!(f, "no {name} header (RFC 5322 3.6)"),
            Violation::DuplicateHeader(name) => write!(f, "more than one {name} header (RFC 5322 3.6)"),
            Violation::UnstuffedDot { lines } => {
                write!(f, "{lines} line(s) began with a dot the client did not double (RFC 5321 4.5.2); the dot was lost")
            }
        }
    }
}

/// Headers that must appear exactly once (RFC 5322, 3.6); `Message-ID` is
/// only "SHOULD", but mail without one is widely treated as spam.
const REQUIRED: [&str; 3] = ["Date", "From", "Message-ID"];
const AT_MOST_ONCE: [&str; 8] = [
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Message-ID",
    "Subject",
];

impl ReceivedMessage {
    /// The client's RFC violations in this message, in the order found.
    ///
    /// ```
    /// use smtp_fixture::Violation;
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(Envelope::default(), b"Subject: hi\r\n\r\nbare\nlf\r\n".to_vec());
    /// let found = message.lint();
    /// assert!(found.contains(&Violation::BareLf { line: 3 }));
    /// assert!(found.contains(&Violation::MissingHeader("Date")));
    /// ```
    pub fn lint(&self) -> Vec<Violation> {
        let mut found = Vec::new();
        let data = &self.data;
        let mut number = 1;
        let mut start = 0;
        while start < data.len() {
            let end = data[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |i| start + i);
            let line = &data[start..end];
            let has_lf = end < data.len();
            let (content, has_cr) = match line.strip_suffix(b"\r") {
                Some(content) if has_lf => (content, true),
                _ => (line, false),
            };
            if has_lf && !has_cr {
                found.push(Violation::BareLf { line: number });
            }
            if content.contains(&b'\r') {
                found.push(Violation::BareCr { line: number });
            }
            if content.len() > MAX_LINE {
                found.push(Violation::LineTooLong {
                    line: number,
                    length: content.len(),
                });
            }
            number += 1;
            start = end + 1;
        }
        if self.unstuffed_dot_lines > 0 {
            found.push(Violation::UnstuffedDot {
                lines: self.unstuffed_dot_lines,
            });
        }
        let smtputf8 = self.envelope.smtputf8();
        if !self.data.is_ascii() && !self.envelope.eight_bit_mime() && !smtputf8 {
            found.push(Violation::EightBitWithoutBody);
        }
        let header_end = memchr::memmem::find(data, b"\r\n\r\n").map_or(data.len(), |i| i + 2);
        if !data[..header_end].is_ascii() && !smtputf8 {
            found.push(Violation::NonAsciiHeaderWithoutSmtpUtf8);
        }
        let headers = self.headers();
        let count = |name: &str| {
            headers
                .iter()
                .filter(|(h, _)| h.eq_ignore_ascii_case(name))
                .count()
        };
        for name in REQUIRED {
            if count(name) == 0 {
                found.push(Violation::MissingHeader(name));
            }
        }
        for name in AT_MOST_ONCE {
            if count(name) > 1 {
                found.push(Violation::DuplicateHeader(name));
            }
        }
        found
    }

    /// Fails unless the client made no RFC mistake in this message (see
    /// [`lint`](Self::lint)).
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let clean = b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nFrom: a@example.com\r\n\
    ///               Message-ID: <1@example.com>\r\n\r\nHello\r\n";
    /// ReceivedMessage::new(Envelope::default(), clean.to_vec()).assert_rfc_clean();
    /// ```
    #[track_caller]
    pub fn assert_rfc_clean(&self) -> &Self {
        let found = self.lint();
        if !found.is_empty() {
            let list: Vec<String> = found.iter().map(|v| format!("  - {v}")).collect();
            self.fail(&format!(
                "the client broke the RFCs in this message:\n{}",
                list.join("\n")
            ));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Envelope;

    fn lint(data: &[u8], options: &[&str]) -> Vec<Violation> {
        let envelope = Envelope {
            mail_options: options.iter().map(|o| o.to_string()).collect(),
            ..Envelope::default()
        };
        ReceivedMessage::new(envelope, data.to_vec()).lint()
    }

    const HEADERS: &str =
        "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nFrom: a@example.com\r\nMessage-ID: <1@x>\r\n";

    #[test]
    fn clean_messages_have_no_violations() {
        assert_eq!(lint(format!("{HEADERS}\r\nbody\r\n").as_bytes(), &[]), []);
        assert_eq!(
            lint(
                format!("{HEADERS}\r\nh\u{e9}llo\r\n").as_bytes(),
                &["BODY=8BITMIME"]
            ),
            []
        );
        assert_eq!(
            lint(
                format!("{HEADERS}Subject: \u{e9}\r\n\r\n\u{e9}\r\n").as_bytes(),
                &["SMTPUTF8"]
            ),
            []
        );
    }

    #[test]
    fn each_violation_is_found() {
        let long = "x".repeat(999);
        let cases: Vec<(String, &[&str], Violation)> = vec![
            (
                format!("{HEADERS}\r\na\nb\r\n"),
                &[],
                Violation::BareLf { line: 5 },
            ),
            (
                format!("{HEADERS}\r\na\rb\r\n"),
                &[],
                Violation::BareCr { line: 5 },
            ),
            (
                format!("{HEADERS}\r\n{long}\r\n"),
                &[],
                Violation::LineTooLong { line: 5, length: 999 },
            ),
            (
                format!("{HEADERS}\r\nh\u{e9}llo\r\n"),
                &[],
                Violation::EightBitWithoutBody,
            ),
            (
                format!("{HEADERS}Subject: \u{e9}\r\n\r\nx\r\n"),
                &["BODY=8BITMIME"],
                Violation::NonAsciiHeaderWithoutSmtpUtf8,
            ),
            (
                "From: a@example.com\r\n\r\n".to_string(),
                &[],
                Violation::MissingHeader("Date"),
            ),
            (
                format!("{HEADERS}From: b@example.com\r\n\r\n"),
                &[],
                Violation::DuplicateHeader("From"),
            ),
        ];
        for (data, options, violation) in cases {
            let found = lint(data.as_bytes(), options);
            assert!(found.contains(&violation), "{violation:?} not in {found:?}");
        }
    }
}
