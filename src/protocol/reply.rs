//! SMTP replies: a code and one or more text lines.

use std::fmt;

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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// A reply with `code` and `text`; a `\n` in `text` starts a new line of
    /// a multi-line reply. CR and LF never reach the wire inside a line.
    pub fn new(code: u16, text: impl AsRef<str>) -> Reply {
        let text = text.as_ref();
        // Most replies are one clean line: no splitting, one allocation.
        if !text.contains(['\n', '\r']) {
            return Reply {
                code,
                lines: vec![text.to_owned()],
            };
        }
        let lines = text
            .split('\n')
            .map(|line| line.trim_end_matches('\r').replace('\r', " "))
            .collect();
        Reply { code, lines }
    }

    /// A reply made of `lines`, each sent with the same code.
    pub fn multiline<I, S>(code: u16, lines: I) -> Reply
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let lines: Vec<String> = lines
            .into_iter()
            .map(|line| line.as_ref().replace(['\r', '\n'], " "))
            .collect();
        if lines.is_empty() {
            return Reply::new(code, "");
        }
        Reply { code, lines }
    }

    /// Parses a reply written as the reference's `process_message` returns
    /// it: `"550 No such user"`. Returns `None` unless the text starts with
    /// a code from 200 to 599.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// assert_eq!(Reply::parse("451 Try later"), Some(Reply::new(451, "Try later")));
    /// assert_eq!(Reply::parse("hello"), None);
    /// ```
    pub fn parse(text: &str) -> Option<Reply> {
        let code: u16 = text.get(..3)?.parse().ok()?;
        if !(200..600).contains(&code) {
            return None;
        }
        let rest = &text[3..];
        let rest = rest.strip_prefix([' ', '-']).unwrap_or(rest);
        Some(Reply::new(code, rest))
    }

    /// The three-digit reply code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The text lines, without codes.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The text of all lines joined with `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// 2xx: the command succeeded.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: a transient failure, the client may retry.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: a permanent failure.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
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
        for line in &mut self.lines {
            if !starts_with_enhanced_status(line) {
                *line = if line.is_empty() {
                    status.to_string()
                } else {
                    format!("{status} {line}")
                };
            }
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
        let last = self.lines.len().saturating_sub(1);
        for (index, line) in self.lines.iter().enumerate() {
            push_code(out, self.code);
            out.push(if index == last { b' ' } else { b'-' });
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as bytes.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.len() + 6).sum());
        self.write_to(&mut out);
        out
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

fn push_code(out: &mut Vec<u8>, code: u16) {
    let code = code.min(999);
    out.extend_from_slice(&[
        b'0' + (code / 100) as u8,
        b'0' + (code / 10 % 10) as u8,
        b'0' + (code % 10) as u8,
    ]);
}

impl fmt::Display for Reply {
    /// The wire form without the final CRLF, lines separated by `\n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.lines.len().saturating_sub(1);
        for (index, line) in self.lines.iter().enumerate() {
            let sep = if index == last { ' ' } else { '-' };
            if index > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{:03}{sep}{line}", self.code)?;
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

/// The standard replies, with the reference's texts.
///
/// Keeping every fixed reply here means a reader can compare them with
/// Python's `smtpd` in one place.
pub mod replies {
    use super::{quoting, Reply};

    /// `250 OK`
    pub fn ok() -> Reply {
        Reply::new(250, "OK")
    }
    /// `221 Bye`
    pub fn bye() -> Reply {
        Reply::new(221, "Bye")
    }
    /// `354 End data with <CR><LF>.<CR><LF>`
    pub fn start_data() -> Reply {
        Reply::new(354, "End data with <CR><LF>.<CR><LF>")
    }
    /// `500 Error: bad syntax` (an empty command line).
    pub fn bad_syntax() -> Reply {
        Reply::new(500, "Error: bad syntax")
    }
    /// `500 Error: line too long`
    pub fn line_too_long() -> Reply {
        Reply::new(500, "Error: line too long")
    }
    /// `500 Error: command line is not valid UTF-8` (the reference closes the
    /// connection instead).
    pub fn not_utf8_command() -> Reply {
        Reply::new(500, "Error: command line is not valid UTF-8")
    }
    /// `500 Error: command line contains a NUL byte`
    pub fn nul_in_command() -> Reply {
        Reply::new(500, "Error: command line contains a NUL byte")
    }
    /// `500 Error: command "X" not recognized`
    pub fn unknown_command(verb: &str) -> Reply {
        quoting(500, format!("Error: command \"{verb}\" not recognized"))
    }
    /// `503 Duplicate HELO/EHLO`
    pub fn duplicate_helo() -> Reply {
        Reply::new(503, "Duplicate HELO/EHLO")
    }
    /// `503 Error: send HELO first`
    pub fn need_helo() -> Reply {
        Reply::new(503, "Error: send HELO first")
    }
    /// `503 Error: need MAIL command`
    pub fn need_mail() -> Reply {
        Reply::new(503, "Error: need MAIL command")
    }
    /// `503 Error: need RCPT command`
    pub fn need_rcpt() -> Reply {
        Reply::new(503, "Error: need RCPT command")
    }
    /// `503 Error: nested MAIL command`
    pub fn nested_mail() -> Reply {
        Reply::new(503, "Error: nested MAIL command")
    }
    /// `502 EXPN not implemented`
    pub fn expn_not_implemented() -> Reply {
        Reply::new(502, "EXPN not implemented")
    }
    /// `252 Cannot VRFY user, but will accept message and attempt delivery`
    pub fn cannot_vrfy() -> Reply {
        Reply::new(
            252,
            "Cannot VRFY user, but will accept message and attempt delivery",
        )
    }
    /// `502 Could not VRFY <arg>`
    pub fn could_not_vrfy(arg: &str) -> Reply {
        quoting(502, format!("Could not VRFY {arg}"))
    }
    /// `501 Error: BODY can only be one of 7BIT, 8BITMIME`
    pub fn bad_body() -> Reply {
        Reply::new(501, "Error: BODY can only be one of 7BIT, 8BITMIME")
    }
    /// `501 Error: SMTPUTF8 takes no arguments`
    pub fn smtputf8_takes_no_arguments() -> Reply {
        Reply::new(501, "Error: SMTPUTF8 takes no arguments")
    }
    /// `552 Error: message size exceeds fixed maximum message size`
    pub fn size_exceeds_limit() -> Reply {
        Reply::new(552, "Error: message size exceeds fixed maximum message size")
    }
    /// `552 Error: Too much mail data`
    pub fn too_much_data() -> Reply {
        Reply::new(552, "Error: Too much mail data")
    }
    /// `250 OK <n> octets received`: a BDAT chunk that is not the last.
    pub fn chunk_received(size: u64) -> Reply {
        Reply::new(250, format!("OK {size} octets received"))
    }
    /// `503 Error: the message is being sent with BDAT`: DATA or RCPT
    /// after a BDAT chunk (RFC 3030, 3: DATA and BDAT do not mix).
    pub fn bdat_in_progress() -> Reply {
        Reply::new(503, "Error: the message is being sent with BDAT")
    }
    /// `503 Error: BODY=BINARYMIME needs BDAT` (RFC 3030, 3).
    pub fn binarymime_needs_bdat() -> Reply {
        Reply::new(503, "Error: BODY=BINARYMIME needs BDAT")
    }
    /// `501 Error: BODY can only be one of 7BIT, 8BITMIME, BINARYMIME`:
    /// [`bad_body`] when CHUNKING is on.
    pub fn bad_body_with_binarymime() -> Reply {
        Reply::new(501, "Error: BODY can only be one of 7BIT, 8BITMIME, BINARYMIME")
    }
    /// `501 Error: REQUIRETLS takes no arguments`
    pub fn requiretls_takes_no_arguments() -> Reply {
        Reply::new(501, "Error: REQUIRETLS takes no arguments")
    }
    /// `555 MAIL FROM parameters not recognized or not implemented`
    pub fn mail_params_not_recognized() -> Reply {
        Reply::new(555, "MAIL FROM parameters not recognized or not implemented")
    }
    /// `501 5.5.4 ...`: a DSN parameter that breaks RFC 3461 (`detail`
    /// says how).
    pub fn bad_dsn_parameter(detail: &str) -> Reply {
        Reply::new(501, format!("5.5.4 Invalid DSN parameter: {detail}"))
    }
    /// `555 RCPT TO parameters not recognized or not implemented`
    pub fn rcpt_params_not_recognized() -> Reply {
        Reply::new(555, "RCPT TO parameters not recognized or not implemented")
    }
    /// `553 Error: non-ASCII address requires SMTPUTF8` (RFC 6531, 3.4; the
    /// reference accepts such addresses without the parameter).
    pub fn non_ascii_address() -> Reply {
        Reply::new(553, "Error: non-ASCII address requires SMTPUTF8")
    }
    /// `452 Error: too many recipients`
    pub fn too_many_recipients() -> Reply {
        Reply::new(452, "Error: too many recipients")
    }
    /// `554 Error: message data is not valid UTF-8` (with `decode_data`;
    /// the reference drops the connection instead).
    pub fn data_not_utf8() -> Reply {
        Reply::new(554, "Error: message data is not valid UTF-8")
    }
    /// `421 <host> Error: too many invalid commands, closing connection`
    pub fn too_many_errors(hostname: &str) -> Reply {
        Reply::new(
            421,
            format!("{hostname} Error: too many invalid commands, closing connection"),
        )
    }
    /// `421 <host> Error: timeout exceeded, closing connection`
    pub fn timeout(hostname: &str) -> Reply {
        Reply::new(
            421,
            format!("{hostname} Error: timeout exceeded, closing connection"),
        )
    }
    /// `421 <host> Error: too many connections, try again later`
    pub fn too_many_connections(hostname: &str) -> Reply {
        Reply::new(
            421,
            format!("{hostname} Error: too many connections, try again later"),
        )
    }
    /// `530 5.7.0 Must issue a STARTTLS command first`
    pub fn must_starttls() -> Reply {
        Reply::new(530, "5.7.0 Must issue a STARTTLS command first")
    }
    /// `421 <host> Service shutting down, closing connection`
    pub fn shutting_down(hostname: &str) -> Reply {
        Reply::new(
            421,
            format!("{hostname} Service shutting down, closing connection"),
        )
    }
    /// `500 Error: this is an LMTP server, send LHLO instead of <verb>`:
    /// HELO or EHLO in LMTP (RFC 2033, 4.1: never a 2xx, 500 recommended).
    pub fn lmtp_needs_lhlo(verb: &str) -> Reply {
        Reply::new(
            500,
            format!("Error: this is an LMTP server, send LHLO instead of {verb}"),
        )
    }
    /// `503 Error: send LHLO first`: [`need_helo`] in LMTP.
    pub fn need_lhlo() -> Reply {
        Reply::new(503, "Error: send LHLO first")
    }

    // The session's own fixed replies (part session of #14).

    /// `220 <host> <banner>`: the greeting.
    pub fn greeting(hostname: &str, banner: &str) -> Reply {
        Reply::new(220, format!("{hostname} {banner}"))
    }
    /// `501 Syntax: <usage>`: a command with bad arguments.
    pub fn syntax(usage: &str) -> Reply {
        Reply::new(501, format!("Syntax: {usage}"))
    }
    /// `503 Error: no service, send QUIT`: after a `554` greeting.
    pub fn no_service() -> Reply {
        Reply::new(503, "Error: no service, send QUIT")
    }
    /// `220 2.0.0 Ready to start TLS`
    pub fn ready_to_start_tls() -> Reply {
        Reply::new(220, "2.0.0 Ready to start TLS")
    }
    /// `503 5.5.1 Error: TLS already active`
    pub fn tls_already_active() -> Reply {
        Reply::new(503, "5.5.1 Error: TLS already active")
    }
    /// `235 2.7.0 Authentication successful`
    pub fn auth_succeeded() -> Reply {
        Reply::new(235, "2.7.0 Authentication successful")
    }
    /// `530 5.7.0 Authentication required`: MAIL before AUTH when it is
    /// required.
    pub fn auth_required() -> Reply {
        Reply::new(530, "5.7.0 Authentication required")
    }
    /// `503 5.5.1 Error: send EHLO first`: AUTH after HELO.
    pub fn need_ehlo() -> Reply {
        Reply::new(503, "5.5.1 Error: send EHLO first")
    }
    /// `503 5.5.1 Error: already authenticated`
    pub fn already_authenticated() -> Reply {
        Reply::new(503, "5.5.1 Error: already authenticated")
    }
    /// `503 5.5.1 Error: AUTH not permitted during a mail transaction`
    pub fn auth_in_transaction() -> Reply {
        Reply::new(503, "5.5.1 Error: AUTH not permitted during a mail transaction")
    }
    /// `538 5.7.11 Encryption required for requested authentication mechanism`
    pub fn auth_needs_tls() -> Reply {
        Reply::new(
            538,
            "5.7.11 Encryption required for requested authentication mechanism",
        )
    }
    /// `504 5.5.4 Unrecognized authentication type`
    pub fn unknown_auth_mechanism() -> Reply {
        Reply::new(504, "5.5.4 Unrecognized authentication type")
    }
    /// `501 5.5.2 Error: malformed authentication response`
    pub fn malformed_auth_response() -> Reply {
        Reply::new(501, "5.5.2 Error: malformed authentication response")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_that_quotes_the_client_stays_one_line() {
        for reply in [
            replies::unknown_command("FOO\nBAR"),
            replies::could_not_vrfy("a\r\nb\nc"),
        ] {
            assert_eq!(reply.lines().len(), 1, "{reply:?}");
            assert!(!reply.to_wire()[..reply.to_wire().len() - 2].contains(&b'\n'));
        }
    }

    #[test]
    fn wire_forms() {
        let cases: &[(Reply, &[u8])] = &[
            (Reply::new(250, "OK"), b"250 OK\r\n"),
            (Reply::new(250, "a\nb"), b"250-a\r\n250 b\r\n"),
            (Reply::new(250, "a\r\nb"), b"250-a\r\n250 b\r\n"),
            (Reply::new(550, "bare\rcr"), b"550 bare cr\r\n"),
            (
                Reply::multiline(250, ["x", "y", "z"]),
                b"250-x\r\n250-y\r\n250 z\r\n",
            ),
            (Reply::new(354, ""), b"354 \r\n"),
        ];
        for (reply, wire) in cases {
            assert_eq!(reply.to_wire(), wire.to_vec(), "{reply:?}");
        }
    }

    #[test]
    fn parse_and_display_round_trip() {
        for text in ["250 OK", "550 5.1.1 No such user", "451 Try later"] {
            let reply = Reply::parse(text).expect(text);
            assert_eq!(reply.to_string(), text);
        }
        assert_eq!(Reply::parse("99 x"), None);
        assert_eq!(Reply::parse("600 x"), None);
        assert_eq!(Reply::parse("25"), None);
        assert_eq!(Reply::parse("250").map(|r| r.text()), Some(String::new()));
    }

    #[test]
    fn classes() {
        assert!(Reply::new(250, "").is_positive());
        assert!(Reply::new(451, "").is_transient());
        assert!(Reply::new(550, "").is_permanent());
    }
}
