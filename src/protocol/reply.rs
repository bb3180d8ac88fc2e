//! SMTP replies: a code and one or more text lines.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

mod code;
mod parser;
#[cfg(test)]
mod tests;

pub use code::{InvalidReplyCode, ReplyCode};
pub use parser::{ReplyError, ReplyParser};

/// An SMTP reply: a three-digit code and one or more lines of text.
///
/// The wire form puts the code on every line, with `-` after it on all lines
/// but the last (RFC 5321, section 4.2).
///
/// ```
/// use smtp_fixture::Reply;
///
/// let reply = Reply::new(250, "mail.example\nSIZE 1000\nHELP");
/// assert_eq!(reply.code(), 250);
/// assert_eq!(
///     reply.to_wire(),
///     b"250-mail.example\r\n250-SIZE 1000\r\n250 HELP\r\n".to_vec()
/// );
/// ```
///
/// The code is checked when the reply is made: [`Reply::new`] panics for a
/// number that is no reply code (a mistake in the program), and
/// [`Reply::try_new`] returns the error for codes that come from outside.
#[derive(Clone)]
pub struct Reply {
    code: ReplyCode,
    lines: Lines,
}

/// The text lines. Each line is free of CR and LF. Borrowed lines let a
/// fixed reply live in a `const` or `static` without allocating; `Many`
/// always holds two lines or more, so that each reply has one
/// representation.
#[derive(Clone)]
enum Lines {
    One(Cow<'static, str>),
    Many(Cow<'static, [Cow<'static, str>]>),
}

impl Reply {
    /// A reply with `code` and `text`; a `\n` in `text` starts a new line of
    /// a multi-line reply. CR and LF never reach the wire inside a line.
    ///
    /// # Panics
    ///
    /// If `code` is not from 200 to 599: a reply code written into the
    /// program is the program's mistake. Use [`Reply::try_new`] for a code
    /// read from elsewhere.
    #[track_caller]
    pub fn new(code: u16, text: impl AsRef<str>) -> Reply {
        Reply::with_text(checked(code), text.as_ref())
    }

    /// [`Reply::new`] for a code that may be wrong.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// assert_eq!(Reply::try_new(550, "No").map(|r| r.code()), Ok(550));
    /// assert!(Reply::try_new(1000, "No").is_err());
    /// ```
    pub fn try_new(code: u16, text: impl AsRef<str>) -> Result<Reply, InvalidReplyCode> {
        Ok(Reply::with_text(ReplyCode::new(code)?, text.as_ref()))
    }

    /// A one-line reply whose text is borrowed for ever: no allocation, and
    /// usable in a `const`.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// const FULL: Reply = Reply::from_static(452, "4.2.2 Mailbox full");
    /// assert_eq!(FULL.to_wire(), b"452 4.2.2 Mailbox full\r\n");
    /// ```
    ///
    /// # Panics
    ///
    /// If `code` is not from 200 to 599, or `text` holds a CR or LF (use
    /// [`Reply::new`] or [`Reply::multiline`] for several lines). In a
    /// `const` the panic is a compile error.
    #[track_caller]
    pub const fn from_static(code: u16, text: &'static str) -> Reply {
        let Ok(code) = ReplyCode::new(code) else {
            panic!("Reply::from_static: the code is not from 200 to 599");
        };
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if bytes[at] == b'\r' || bytes[at] == b'\n' {
                panic!("Reply::from_static: the text holds a CR or LF (one line only)");
            }
            at += 1;
        }
        Reply {
            code,
            lines: Lines::One(Cow::Borrowed(text)),
        }
    }

    /// [`Reply::new`] for text the caller built and owns: a clean line is
    /// kept as it is, without a copy.
    #[track_caller]
    pub(crate) fn from_string(code: u16, text: String) -> Reply {
        let code = checked(code);
        if text.contains(['\n', '\r']) {
            return Reply::with_text(code, &text);
        }
        Reply {
            code,
            lines: Lines::One(Cow::Owned(text)),
        }
    }

    fn with_text(code: ReplyCode, text: &str) -> Reply {
        // Most replies are one clean line: no splitting, one allocation.
        if !text.contains(['\n', '\r']) {
            return Reply {
                code,
                lines: Lines::One(Cow::Owned(text.to_owned())),
            };
        }
        let lines = text
            .split('\n')
            .map(|line| Cow::Owned(line.trim_end_matches('\r').replace('\r', " ")))
            .collect();
        Reply::from_lines(code, lines)
    }

    /// A reply made of `lines`, each sent with the same code.
    ///
    /// # Panics
    ///
    /// As [`Reply::new`], if `code` is not from 200 to 599.
    #[track_caller]
    pub fn multiline<I, S>(code: u16, lines: I) -> Reply
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let code = checked(code);
        let lines: Vec<Cow<'static, str>> = lines
            .into_iter()
            .map(|line| Cow::Owned(line.as_ref().replace(['\r', '\n'], " ")))
            .collect();
        if lines.is_empty() {
            return Reply::with_text(code, "");
        }
        Reply::from_lines(code, lines)
    }

    /// A reply from lines already free of CR and LF; no lines is one empty
    /// line.
    pub(crate) fn from_lines(code: ReplyCode, mut lines: Vec<Cow<'static, str>>) -> Reply {
        let lines = match lines.len() {
            0 => Lines::One(Cow::Borrowed("")),
            1 => Lines::One(lines.pop().unwrap_or_default()),
            _ => Lines::Many(Cow::Owned(lines)),
        };
        Reply { code, lines }
    }

    /// Parses a reply written as the reference's `process_message` returns
    /// it: `"550 No such user"`, the code, a space (or a hyphen) and the
    /// text, in which a `\n` starts a new line. A bare code is a reply with
    /// an empty text.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// use smtp_fixture::ReplyError;
    /// assert_eq!(Reply::parse("451 Try later"), Ok(Reply::new(451, "Try later")));
    /// assert_eq!(Reply::parse("hello"), Err(ReplyError::NotACode));
    /// assert_eq!(Reply::parse("250OK"), Err(ReplyError::MissingSeparator));
    /// ```
    pub fn parse(text: &str) -> Result<Reply, ReplyError> {
        let (code, _) = parser::split_code(text.as_bytes())?;
        // The code is three ASCII digits, so 3 is a character boundary.
        let rest = &text[3..];
        let rest = match rest.chars().next() {
            None => rest,
            Some(' ' | '-') => &rest[1..],
            Some(_) => return Err(ReplyError::MissingSeparator),
        };
        Ok(Reply::with_text(code, rest))
    }

    /// The three-digit reply code. A number, so that `reply.code() == 250`
    /// and `match reply.code() { 200..=299 => ... }` read plainly; it is
    /// always from 200 to 599. [`reply_code`](Reply::reply_code) gives the
    /// typed code.
    pub fn code(&self) -> u16 {
        self.code.get()
    }

    /// The typed reply code.
    pub fn reply_code(&self) -> ReplyCode {
        self.code
    }

    /// The text lines, without codes.
    pub fn lines(&self) -> &[Cow<'static, str>] {
        match &self.lines {
            Lines::One(line) => std::slice::from_ref(line),
            Lines::Many(lines) => lines,
        }
    }

    /// The text of all lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        self.code.is_positive()
    }

    /// 4xx: a transient failure, the client may retry.
    pub fn is_transient(&self) -> bool {
        self.code.is_transient()
    }

    /// 5xx: a permanent failure.
    pub fn is_permanent(&self) -> bool {
        self.code.is_permanent()
    }

    /// This reply with the RFC 3463 enhanced status code `status` (e.g.
    /// `5.5.1`) before each line that does not start with one already.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// let reply = Reply::new(503, "Error: need MAIL command").with_enhanced_status("5.5.1");
    /// assert_eq!(reply.to_string(), "503 5.5.1 Error: need MAIL command");
    /// let kept = Reply::new(550, "5.1.1 No such user").with_enhanced_status("5.0.0");
    /// assert_eq!(kept.to_string(), "550 5.1.1 No such user");
    /// ```
    pub fn with_enhanced_status(mut self, status: &str) -> Reply {
        let add = |line: &mut Cow<'static, str>| {
            if !starts_with_enhanced_status(line) {
                *line = Cow::Owned(if line.is_empty() {
                    status.to_string()
                } else {
                    format!("{status} {line}")
                });
            }
        };
        match &mut self.lines {
            Lines::One(line) => add(line),
            Lines::Many(lines) => lines.to_mut().iter_mut().for_each(add),
        }
        self
    }

    /// The enhanced status code RFC 3463 suggests for a plain reply code,
    /// used when ENHANCEDSTATUSCODES is on and a reply has none.
    pub fn default_enhanced_status(code: u16) -> Option<&'static str> {
        Some(match code {
            235 => "2.7.0",
            252 => "2.5.0",
            421 | 451 => "4.3.0",
            452 => "4.5.3",
            500 => "5.5.2",
            501 | 504 | 555 => "5.5.4",
            502 | 503 => "5.5.1",
            530 => "5.7.0",
            535 => "5.7.8",
            538 => "5.7.11",
            552 => "5.3.4",
            553 => "5.1.3",
            554 => "5.6.0",
            _ => match code / 100 {
                2 => "2.0.0",
                4 => "4.0.0",
                5 => "5.0.0",
                _ => return None,
            },
        })
    }

    /// Appends the wire form (CRLF line endings) to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        if let Lines::One(line) = &self.lines {
            // Most replies: one reservation for the whole line.
            out.reserve(line.len() + 6);
            out.extend_from_slice(&self.code.digits());
            out.push(b' ');
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
            return;
        }
        let lines = self.lines();
        let last = lines.len().saturating_sub(1);
        for (index, line) in lines.iter().enumerate() {
            out.extend_from_slice(&self.code.digits());
            out.push(if index == last { b' ' } else { b'-' });
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines().iter().map(|l| l.len() + 6).sum());
        self.write_to(&mut out);
        out
    }
}

/// `code` as a reply code, or a panic that names the caller's mistake.
#[track_caller]
fn checked(code: u16) -> ReplyCode {
    match ReplyCode::new(code) {
        Ok(code) => code,
        Err(invalid) => panic!("Reply::new({code}, ..): {invalid}"),
    }
}

/// Equal when code and lines are: how the text is stored does not count.
impl PartialEq for Reply {
    fn eq(&self, other: &Reply) -> bool {
        self.code == other.code && self.lines() == other.lines()
    }
}

impl Eq for Reply {}

impl Hash for Reply {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.code.hash(state);
        self.lines().hash(state);
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("code", &self.code.get())
            .field("lines", &self.lines())
            .finish()
    }
}

/// `2.1.5 ...`: a class digit, a dot, up to three digits, a dot, up to three
/// digits, then a space or the end.
fn starts_with_enhanced_status(line: &str) -> bool {
    let status = line.split(' ').next().unwrap_or("");
    let mut parts = status.split('.');
    let class_ok = matches!(parts.next(), Some("2" | "4" | "5"));
    let number = |part: Option<&str>| {
        part.is_some_and(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    class_ok && number(parts.next()) && number(parts.next()) && parts.next().is_none()
}

impl fmt::Display for Reply {
    /// The wire form without the final CRLF, lines separated by `\n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.lines();
        let last = lines.len().saturating_sub(1);
        for (index, line) in lines.iter().enumerate() {
            let sep = if index == last { ' ' } else { '-' };
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}{sep}{line}", self.code)?;
        }
        Ok(())
    }
}

/// A one-line reply that quotes the client: a bare CR or LF in what it sent
/// must not start a reply line of its own (`FOO\nBAR` would otherwise
/// answer with two lines).
fn quoting(code: u16, text: String) -> Reply {
    Reply::new(code, text.replace(['\r', '\n'], " "))
}

pub mod replies;
