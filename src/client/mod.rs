//! The SMTP client of the proxies: where they relay to ([`Upstream`]) and
//! the small client that talks to it ([`Client`]). Relay logic (what to
//! send, what the client is told) lives in `handlers`; this module only
//! speaks SMTP to the upstream.
//!
//! Why a client of our own rather than lettre (which the tests use as the
//! real client): a proxy must
//!
//! - mirror the upstream's reply to *each* `RCPT TO` back to its own client
//!   (lettre's `send_raw` stops at the first refused recipient and hides
//!   which recipients were accepted),
//! - relay the message bytes exactly as received (lettre's transport wants
//!   to own the message; here the bytes are already a finished message, only
//!   dot-stuffed on the way out),
//! - pass on `BODY=`/`SMTPUTF8`/`SIZE` exactly as the client declared them,
//!   and only when the upstream announces them, and
//! - keep an upstream transaction open across several hooks of the
//!   client's session (the per-recipient mode).
//!
//! That needs only EHLO/HELO, MAIL, RCPT, DATA, RSET and QUIT over plain
//! TCP, each with a timeout, so it is a page of code.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};

use crate::protocol::{Extension, Reply, ReplyParser};

mod failure;
mod upstream;

pub(crate) use failure::Failure;
pub use upstream::Upstream;

/// The longest reply line read from an upstream server (RFC 5321 allows
/// 512 octets; a little slack for servers that exceed it).
const MAX_REPLY_LINE: usize = 4096;

/// What the upstream announced in its EHLO reply (all off after HELO).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Extensions {
    pub(crate) eight_bit_mime: bool,
    pub(crate) smtputf8: bool,
    pub(crate) size: bool,
}

impl Extensions {
    fn from_ehlo(reply: &Reply) -> Extensions {
        let mut extensions = Extensions::default();
        for extension in Extension::from_ehlo(reply) {
            match extension {
                Extension::EightBitMime => extensions.eight_bit_mime = true,
                Extension::SmtpUtf8 => extensions.smtputf8 = true,
                Extension::Size(_) => extensions.size = true,
                _ => {}
            }
        }
        extensions
    }
}

/// One SMTP session with the upstream.
#[derive(Debug)]
pub(crate) struct Client {
    stream: TcpStream,
    /// Bytes read but not yet used (the start of the next reply line).
    input: Vec<u8>,
    pub(crate) extensions: Extensions,
    command_timeout: Duration,
    data_timeout: Duration,
    /// After `354`, before the final dot: QUIT would be message content, so
    /// an abort must close the connection instead (the upstream then drops
    /// the unfinished message, RFC 5321, 4.1.1.4).
    in_data: bool,
    /// A read or write failed or timed out: the connection is useless, and
    /// QUIT would only wait for the timeout.
    broken: bool,
}

impl Client {
    /// Connects, reads the greeting and greets with EHLO (HELO if EHLO is
    /// refused), retrying as `upstream` allows.
    pub(crate) async fn open(upstream: &Upstream, helo: &str) -> Result<Client, Failure> {
        let mut attempt = 0;
        loop {
            match Client::open_once(upstream, helo).await {
                Ok(client) => return Ok(client),
                Err(_) if attempt < upstream.retries => {
                    attempt += 1;
                    tokio::time::sleep(upstream.retry_delay).await;
                }
                Err(last) if attempt > 0 => {
                    return Err(Failure::Attempts {
                        attempts: attempt + 1,
                        last: Box::new(last),
                    })
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    async fn open_once(upstream: &Upstream, helo: &str) -> Result<Client, Failure> {
        let stream = match timeout(upstream.connect_timeout, TcpStream::connect(&upstream.address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(Failure::Connect(error)),
            Err(_) => return Err(Failure::ConnectTimeout),
        };
        // Commands go one at a time and wait for their reply: no batching.
        let _ = stream.set_nodelay(true);
        let mut client = Client {
            stream,
            input: Vec::new(),
            extensions: Extensions::default(),
            command_timeout: upstream.command_timeout,
            data_timeout: upstream.data_timeout,
            in_data: false,
            broken: false,
        };
        let greeting = client.read_reply(Instant::now() + client.command_timeout).await?;
        if greeting.code() != 220 {
            return Err(Failure::Greeting(greeting));
        }
        let ehlo = client.command(&format!("EHLO {helo}")).await?;
        if ehlo.is_positive() {
            client.extensions = Extensions::from_ehlo(&ehlo);
            return Ok(client);
        }
        if !ehlo.is_permanent() {
            return Err(Failure::Refused {
                command: "EHLO",
                reply: ehlo,
            });
        }
        // An old server that does not know EHLO (RFC 5321, 3.2).
        let helo_reply = client.command(&format!("HELO {helo}")).await?;
        if helo_reply.is_positive() {
            Ok(client)
        } else {
            Err(Failure::Refused {
                command: "HELO",
                reply: helo_reply,
            })
        }
    }

    /// Sends one command line (CRLF added) and reads its reply.
    pub(crate) async fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        // Addresses come from parsed command lines and cannot hold CR or LF;
        // checked again here so that nothing can inject a second command.
        if line.contains(['\r', '\n']) {
            return Err(Failure::UnsafeLine);
        }
        let deadline = Instant::now() + self.command_timeout;
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.write(&bytes, deadline).await?;
        let reply = self.read_reply(deadline).await?;
        if line.eq_ignore_ascii_case("DATA") && reply.code() == 354 {
            self.in_data = true;
        }
        Ok(reply)
    }

    /// After `354`: sends `data` dot-stuffed, with the final `.`, and reads
    /// the reply to the whole message.
    pub(crate) async fn send_data(&mut self, data: &[u8]) -> Result<Reply, Failure> {
        let deadline = Instant::now() + self.data_timeout;
        self.write(&dot_stuffed(data), deadline).await?;
        let reply = self.read_reply(deadline).await;
        // Whatever the reply, the upstream has left the data phase once it
        // saw the dot; without a reply the connection is useless anyway.
        self.in_data = false;
        reply
    }

    /// Ends the session: QUIT (its reply awaited within the command
    /// timeout, then ignored) unless in the middle of a message, where
    /// only closing the connection aborts it.
    pub(crate) async fn quit(mut self) {
        if !self.in_data && !self.broken {
            let _ = self.command("QUIT").await;
        }
        let _ = timeout(self.command_timeout, self.stream.shutdown()).await;
    }

    async fn write(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), Failure> {
        let result = match timeout_at(deadline, self.stream.write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(Failure::Lost(error)),
            Err(_) => Err(Failure::SendTimeout),
        };
        self.broken |= result.is_err();
        result
    }

    async fn read_reply(&mut self, deadline: Instant) -> Result<Reply, Failure> {
        let reply = self.read_reply_lines(deadline).await;
        self.broken |= reply.is_err();
        reply
    }

    async fn read_reply_lines(&mut self, deadline: Instant) -> Result<Reply, Failure> {
        // Bounded: the parser refuses a reply of more than its maximum of
        // lines, and each line is bounded by `read_line`.
        let mut parser = ReplyParser::new();
        loop {
            let line = self.read_line(deadline).await?;
            match parser.line(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => {}
                Err(error) => {
                    let line = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
                    return Err(Failure::BadReply { error, line });
                }
            }
        }
    }

    /// One line, its CRLF (or bare LF) removed.
    async fn read_line(&mut self, deadline: Instant) -> Result<Vec<u8>, Failure> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.input) {
                let mut line: Vec<u8> = self.input.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.input.len() > MAX_REPLY_LINE {
                return Err(Failure::LineTooLong);
            }
            let read = match timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(Failure::Closed),
                Ok(Ok(read)) => read,
                Ok(Err(error)) => return Err(Failure::Lost(error)),
                Err(_) => return Err(Failure::ReplyTimeout),
            };
            self.input.extend_from_slice(&chunk[..read]);
        }
    }
}

/// A reply on one line, for texts that quote it: `550 5.1.1 No such user`.
pub(crate) fn one_line(reply: &Reply) -> String {
    let text = format!("{} {}", reply.code(), reply.lines().join(" "));
    let text = text.trim_end();
    // A reply line must stay within 512 octets; quoted replies get part.
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// The message as it goes after `354`: a dot at the start of a line doubled
/// (RFC 5321, 4.5.2), a CRLF added if the data does not end with one, then
/// `.CRLF`.
///
/// A line start here is after any CR or LF, not only after CRLF: a bare LF
/// or CR followed by a dot is message content for this crate's server, but
/// a laxer upstream might read `<LF>.<CR><LF>` as the end of the data and
/// the rest as a second message ("SMTP smuggling"). Doubling those dots too
/// keeps the relayed text one message for every reader.
pub(crate) fn dot_stuffed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 5);
    let mut line_start = true;
    for &byte in data {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n' || byte == b'\r';
    }
    if !data.is_empty() && !data.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_stuffing() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"", b".\r\n"),
            (b"a\r\n", b"a\r\n.\r\n"),
            (b".\r\n", b"..\r\n.\r\n"),
            (b"a\r\n.b\r\n..\r\n", b"a\r\n..b\r\n...\r\n.\r\n"),
            (b"no end", b"no end\r\n.\r\n"),
            (b"a\n.\r\nb\r\n", b"a\n..\r\nb\r\n.\r\n"),
            (b"a\r.\rb\r\n", b"a\r..\rb\r\n.\r\n"),
            (b"x.y\r\n", b"x.y\r\n.\r\n"),
        ];
        for (data, wire) in cases {
            assert_eq!(
                dot_stuffed(data),
                wire.to_vec(),
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn extensions_from_the_ehlo_reply() {
        let reply = Reply::multiline(250, ["mx.test", "SIZE 1000", "8bitmime", "SMTPUTF8", "HELP"]);
        let extensions = Extensions::from_ehlo(&reply);
        assert!(extensions.eight_bit_mime && extensions.smtputf8 && extensions.size);
        // The server's own name is not a keyword.
        let reply = Reply::multiline(250, ["SMTPUTF8"]);
        assert_eq!(Extensions::from_ehlo(&reply), Extensions::default());
    }
}
