//! Reading replies: the one parser for reply lines, used for the wire (a
//! client reading a server, line by line) and for reply text
//! ([`Reply::parse`]).

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use super::code::{InvalidReplyCode, ReplyCode};
use super::Reply;

/// Why a line is not (part of) an SMTP reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyError {
    /// Shorter than the three digits of a code.
    TooShort,
    /// The line does not start with three digits.
    NotACode,
    /// Three digits, but not a reply code (200 to 599).
    BadCode(InvalidReplyCode),
    /// The code is followed by neither a space, a hyphen nor the end of the
    /// line.
    MissingSeparator,
    /// A line of a multi-line reply has another code than the first line.
    MixedCodes {
        /// The code of the first line.
        first: ReplyCode,
        /// The code of the line that differs.
        then: ReplyCode,
    },
    /// The reply goes on past 128 lines (the most a reply may have here).
    TooManyLines,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::TooShort => f.write_str("reply line shorter than a reply code"),
            ReplyError::NotACode => f.write_str("reply line does not start with three digits"),
            ReplyError::BadCode(invalid) => write!(f, "bad reply code: {invalid}"),
            ReplyError::MissingSeparator => {
                f.write_str("reply code followed by neither a space nor a hyphen")
            }
            ReplyError::MixedCodes { first, then } => {
                write!(f, "reply lines with different codes ({first}, then {then})")
            }
            ReplyError::TooManyLines => write!(
                f,
                "reply with too many lines (more than {})",
                ReplyParser::MAX_LINES
            ),
        }
    }
}

impl Error for ReplyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReplyError::BadCode(invalid) => Some(invalid),
            _ => None,
        }
    }
}

/// The code at the start of `line`, and the rest.
pub(super) fn split_code(line: &[u8]) -> Result<(ReplyCode, &[u8]), ReplyError> {
    let Some(digits) = line.get(..3) else {
        return Err(ReplyError::TooShort);
    };
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(ReplyError::NotACode);
    }
    let number = digits
        .iter()
        .fold(0u16, |code, digit| code * 10 + u16::from(digit - b'0'));
    let code = ReplyCode::new(number).map_err(ReplyError::BadCode)?;
    Ok((code, &line[3..]))
}

/// One reply line, CRLF removed: its code, whether it is the last line of
/// the reply (`250 text` or a bare `250`; `250-text` is not), and its text.
pub(super) fn split_line(line: &[u8]) -> Result<(ReplyCode, bool, &[u8]), ReplyError> {
    let (code, rest) = split_code(line)?;
    match rest.split_first() {
        None => Ok((code, true, rest)),
        Some((b' ', text)) => Ok((code, true, text)),
        Some((b'-', text)) => Ok((code, false, text)),
        Some(_) => Err(ReplyError::MissingSeparator),
    }
}

/// Reads a reply from the wire one line at a time, as a client does: each
/// line carries the code, all but the last with `-` after it (RFC 5321,
/// 4.2).
///
///
/// After a complete reply or an error the parser starts afresh. Text that
/// is not UTF-8 is read lossily; a CR inside a line becomes a space.
#[derive(Debug, Default, Clone)]
pub struct ReplyParser {
    code: Option<ReplyCode>,
    lines: Vec<Cow<'static, str>>,
}

impl ReplyParser {
    /// The most lines one reply may have (an EHLO reply has about twenty):
    /// a server cannot make the reader collect lines forever.
    pub const MAX_LINES: usize = 128;

    /// A parser waiting for the first line of a reply.
    pub fn new() -> ReplyParser {
        ReplyParser::default()
    }

    /// Takes the next line, its CRLF removed: `Ok(Some(reply))` when it was
    /// the last line of the reply, `Ok(None)` when more lines follow.
    pub fn line(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        let result = self.take(line);
        if !matches!(result, Ok(None)) {
            self.code = None;
            self.lines.clear();
        }
        result
    }

    fn take(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        let (code, last, text) = split_line(line)?;
        if let Some(first) = self.code.filter(|&first| first != code) {
            return Err(ReplyError::MixedCodes { first, then: code });
        }
        self.code = Some(code);
        let text = String::from_utf8_lossy(text);
        let text = if text.contains(['\r', '\n']) {
            text.replace(['\r', '\n'], " ")
        } else {
            text.into_owned()
        };
        self.lines.push(Cow::Owned(text));
        if last {
            return Ok(Some(Reply::from_lines(code, std::mem::take(&mut self.lines))));
        }
        if self.lines.len() >= ReplyParser::MAX_LINES {
            return Err(ReplyError::TooManyLines);
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(code: u16) -> ReplyCode {
        ReplyCode::new(code).unwrap()
    }

    #[test]
    fn lines() {
        assert_eq!(split_line(b"250 OK"), Ok((code(250), true, &b"OK"[..])));
        assert_eq!(split_line(b"250-mx"), Ok((code(250), false, &b"mx"[..])));
        assert_eq!(split_line(b"354"), Ok((code(354), true, &b""[..])));
        assert_eq!(split_line(b"250 "), Ok((code(250), true, &b""[..])));
        assert_eq!(split_line(b"250  two"), Ok((code(250), true, &b" two"[..])));
    }

    #[test]
    fn bad_lines() {
        let cases: &[(&[u8], ReplyError)] = &[
            (b"", ReplyError::TooShort),
            (b"25", ReplyError::TooShort),
            (b"abc def", ReplyError::NotACode),
            (b"+25 x", ReplyError::NotACode),
            (b"25O x", ReplyError::NotACode),
            (b"199 x", ReplyError::BadCode(ReplyCode::new(199).unwrap_err())),
            (b"600 x", ReplyError::BadCode(ReplyCode::new(600).unwrap_err())),
            (b"250xOK", ReplyError::MissingSeparator),
            (b"2500 x", ReplyError::MissingSeparator),
        ];
        for (line, error) in cases {
            assert_eq!(
                split_line(line),
                Err(*error),
                "{:?}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(ReplyParser::new().line(line), Err(*error));
        }
    }

    #[test]
    fn a_multi_line_reply_comes_with_its_last_line() {
        let mut parser = ReplyParser::new();
        assert_eq!(parser.line(b"250-mx.test"), Ok(None));
        assert_eq!(parser.line(b"250-SIZE 1000"), Ok(None));
        let reply = parser.line(b"250 HELP").unwrap().unwrap();
        assert_eq!(reply.code(), 250);
        assert_eq!(reply.lines(), ["mx.test", "SIZE 1000", "HELP"]);
        // Then the next reply starts afresh.
        let reply = parser.line(b"221 Bye").unwrap().unwrap();
        assert_eq!(reply.to_wire(), b"221 Bye\r\n");
    }

    #[test]
    fn a_code_that_changes_mid_reply_is_an_error_and_a_fresh_start() {
        let mut parser = ReplyParser::new();
        assert_eq!(parser.line(b"250-a"), Ok(None));
        assert_eq!(
            parser.line(b"251 b"),
            Err(ReplyError::MixedCodes {
                first: code(250),
                then: code(251)
            })
        );
        assert_eq!(parser.line(b"251 b").unwrap().unwrap().lines(), ["b"]);
    }

    #[test]
    fn the_number_of_lines_is_bounded() {
        let mut parser = ReplyParser::new();
        for _ in 1..ReplyParser::MAX_LINES {
            assert_eq!(parser.line(b"250-x"), Ok(None));
        }
        assert_eq!(parser.line(b"250-x"), Err(ReplyError::TooManyLines));
        // Exactly MAX_LINES lines, the last one final, are a reply.
        for _ in 1..ReplyParser::MAX_LINES {
            assert_eq!(parser.line(b"250-x"), Ok(None));
        }
        let reply = parser.line(b"250 x").unwrap().unwrap();
        assert_eq!(reply.lines().len(), ReplyParser::MAX_LINES);
    }

    #[test]
    fn text_is_kept_on_its_line() {
        let mut parser = ReplyParser::new();
        let reply = parser.line(b"550 bare\rcr \xff").unwrap().unwrap();
        assert_eq!(reply.lines(), ["bare cr \u{fffd}"]);
        assert_eq!(reply.to_wire(), "550 bare cr \u{fffd}\r\n".as_bytes());
    }

    /// The examples that were its documentation when the type was public.
    #[test]
    fn former_doc_examples() {
        {
            let mut parser = ReplyParser::new();
            assert_eq!(parser.line(b"250-mx.example"), Ok(None));
            let reply = parser.line(b"250 SIZE 1000").unwrap().unwrap();
            assert_eq!(reply.lines(), ["mx.example", "SIZE 1000"]);
            assert!(parser.line(b"25O oops").is_err());
        }
    }
}
