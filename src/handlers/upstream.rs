//! Where a proxy relays to ([`Upstream`]), and the small SMTP client that
//! talks to it.
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

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, timeout_at, Instant};

use crate::protocol::Reply;

/// The longest reply line read from an upstream server (RFC 5321 allows
/// 512 octets; a little slack for servers that exceed it).
const MAX_REPLY_LINE: usize = 4096;
/// The most lines one reply may have (an EHLO reply has about twenty).
const MAX_REPLY_LINES: usize = 128;

/// The upstream server a proxy relays to, with the limits of the relaying
/// client.
///
/// Every network step is bounded: connecting by
/// [`connect_timeout`](Upstream::connect_timeout), each command's reply by
/// [`command_timeout`](Upstream::command_timeout), sending the message and
/// its final reply by [`data_timeout`](Upstream::data_timeout).
///
/// ```
/// use std::time::Duration;
/// use smtp_fixture::handlers::Upstream;
///
/// let upstream = Upstream::new("mail.example.com:25")
///     .connect_timeout(Duration::from_secs(5))
///     .retries(2, Duration::from_millis(500));
/// assert_eq!(upstream.address(), "mail.example.com:25");
///
/// // A plain address converts too.
/// let upstream: Upstream = "127.0.0.1:2525".into();
/// assert_eq!(upstream.get_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    address: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    data_timeout: Duration,
    idle_timeout: Duration,
    retries: u32,
    retry_delay: Duration,
    helo_name: Option<String>,
}

impl Upstream {
    /// The server at `address`, `host:port` (a name is resolved at every
    /// connection). Defaults: connect timeout 10 s, command timeout 30 s,
    /// data timeout 120 s, idle timeout 300 s, no retries.
    pub fn new(address: impl Into<String>) -> Upstream {
        Upstream {
            address: address.into(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(300),
            retries: 0,
            retry_delay: Duration::from_secs(1),
            helo_name: None,
        }
    }

    /// The longest wait for a TCP connection to be established.
    pub fn connect_timeout(mut self, limit: Duration) -> Upstream {
        self.connect_timeout = limit;
        self
    }

    /// The longest wait for the greeting and for the reply to each command
    /// (EHLO, MAIL, RCPT, DATA, QUIT), writing the command included.
    pub fn command_timeout(mut self, limit: Duration) -> Upstream {
        self.command_timeout = limit;
        self
    }

    /// The longest time for writing the message and getting the reply
    /// after its final dot.
    pub fn data_timeout(mut self, limit: Duration) -> Upstream {
        self.data_timeout = limit;
        self
    }

    /// In per-recipient mode, how long an open upstream transaction waits
    /// for the client's next step before it is closed, the time from DATA
    /// to the end of the message included (a backstop: a client that
    /// disconnects closes it at once).
    pub fn idle_timeout(mut self, limit: Duration) -> Upstream {
        self.idle_timeout = limit;
        self
    }

    /// Opening the upstream session (connect, greeting, EHLO/HELO) is tried
    /// `retries` more times after a failure, `delay` apart. Nothing is
    /// retried once the upstream accepted a command of the transaction, so
    /// a retry can never deliver a message twice.
    pub fn retries(mut self, retries: u32, delay: Duration) -> Upstream {
        self.retries = retries;
        self.retry_delay = delay;
        self
    }

    /// The name sent in EHLO/HELO. Default: the proxy's own hostname (the
    /// server's [`Config::hostname`](crate::Config::hostname)).
    pub fn helo_name(mut self, name: impl Into<String>) -> Upstream {
        self.helo_name = Some(name.into());
        self
    }

    /// The `host:port` relayed to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How many times opening a session is retried.
    pub fn get_retries(&self) -> u32 {
        self.retries
    }

    /// The idle limit of an open per-recipient transaction.
    pub fn get_idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The name to greet with: the configured one, else `fallback` (the
    /// server's hostname), else `localhost` when that is not a single word
    /// (a space or control character would break the command line).
    pub(crate) fn greeting_name(&self, fallback: &str) -> String {
        let name = self.helo_name.as_deref().unwrap_or(fallback);
        let usable = !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control());
        if usable {
            name.to_string()
        } else {
            "localhost".to_string()
        }
    }
}

impl From<&str> for Upstream {
    fn from(address: &str) -> Upstream {
        Upstream::new(address)
    }
}

impl From<String> for Upstream {
    fn from(address: String) -> Upstream {
        Upstream::new(address)
    }
}

impl From<SocketAddr> for Upstream {
    fn from(address: SocketAddr) -> Upstream {
        Upstream::new(address.to_string())
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

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
        // The first line is the server's name, the others one keyword each.
        for line in reply.lines().iter().skip(1) {
            let keyword = line.split_whitespace().next().unwrap_or("");
            match keyword.to_ascii_uppercase().as_str() {
                "8BITMIME" => extensions.eight_bit_mime = true,
                "SMTPUTF8" => extensions.smtputf8 = true,
                "SIZE" => extensions.size = true,
                _ => {}
            }
        }
        extensions
    }
}

/// Why talking to the upstream failed (not a reply from it: a network
/// error, a timeout, a broken reply). The text reaches the client inside a
/// `451`, so it is one short line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
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
                Err(Failure(why)) if attempt > 0 => {
                    return Err(Failure(format!("{why} (after {} attempts)", attempt + 1)))
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    async fn open_once(upstream: &Upstream, helo: &str) -> Result<Client, Failure> {
        let stream = match timeout(upstream.connect_timeout, TcpStream::connect(&upstream.address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(Failure(format!("cannot connect: {error}"))),
            Err(_) => return Err(Failure("connection timed out".to_string())),
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
            return Err(Failure(format!("greeting was {}", one_line(&greeting))));
        }
        let ehlo = client.command(&format!("EHLO {helo}")).await?;
        if ehlo.is_positive() {
            client.extensions = Extensions::from_ehlo(&ehlo);
            return Ok(client);
        }
        if !ehlo.is_permanent() {
            return Err(Failure(format!("EHLO answered {}", one_line(&ehlo))));
        }
        // An old server that does not know EHLO (RFC 5321, 3.2).
        let helo_reply = client.command(&format!("HELO {helo}")).await?;
        if helo_reply.is_positive() {
            Ok(client)
        } else {
            Err(Failure(format!("HELO answered {}", one_line(&helo_reply))))
        }
    }

    /// Sends one command line (CRLF added) and reads its reply.
    pub(crate) async fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        // Addresses come from parsed command lines and cannot hold CR or LF;
        // checked again here so that nothing can inject a second command.
        if line.contains(['\r', '\n']) {
            return Err(Failure(
                "refusing to send a command line with CR or LF".to_string(),
            ));
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
            Ok(Err(error)) => Err(Failure(format!("connection lost: {error}"))),
            Err(_) => Err(Failure("timed out sending to the upstream".to_string())),
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
        let mut code = None;
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(deadline).await?;
            let Some((this_code, last, text)) = parse_reply_line(&line) else {
                let shown = String::from_utf8_lossy(&line[..line.len().min(80)]).into_owned();
                return Err(Failure(format!("malformed reply line {shown:?}")));
            };
            if code.is_some_and(|code| code != this_code) {
                return Err(Failure("reply lines with different codes".to_string()));
            }
            code = Some(this_code);
            lines.push(text);
            if last {
                return Ok(Reply::multiline(this_code, lines));
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(Failure("reply with too many lines".to_string()));
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
                return Err(Failure("reply line too long".to_string()));
            }
            let read = match timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(Failure("connection closed by the upstream".to_string())),
                Ok(Ok(read)) => read,
                Ok(Err(error)) => return Err(Failure(format!("connection lost: {error}"))),
                Err(_) => return Err(Failure("timed out waiting for the upstream's reply".to_string())),
            };
            self.input.extend_from_slice(&chunk[..read]);
        }
    }
}

/// `250-text` → `(250, false, "text")`; `None` if it is not a reply line.
fn parse_reply_line(line: &[u8]) -> Option<(u16, bool, String)> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |code, digit| code * 10 + u16::from(digit - b'0'));
    if !(200..600).contains(&code) {
        return None;
    }
    let (last, text) = match line.get(3) {
        None => (true, &[][..]),
        Some(b' ') => (true, &line[4..]),
        Some(b'-') => (false, &line[4..]),
        Some(_) => return None,
    };
    Some((code, last, String::from_utf8_lossy(text).into_owned()))
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
    fn reply_lines() {
        assert_eq!(parse_reply_line(b"250 OK"), Some((250, true, "OK".into())));
        assert_eq!(parse_reply_line(b"250-mx"), Some((250, false, "mx".into())));
        assert_eq!(parse_reply_line(b"354"), Some((354, true, String::new())));
        for bad in [&b"25"[..], b"abc def", b"250xOK", b"199 x", b"600 x"] {
            assert_eq!(parse_reply_line(bad), None, "{bad:?}");
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

    #[test]
    fn greeting_names() {
        let upstream = Upstream::new("x:25");
        assert_eq!(upstream.greeting_name("proxy.test"), "proxy.test");
        assert_eq!(upstream.greeting_name("two words"), "localhost");
        assert_eq!(
            upstream.clone().helo_name("me.test").greeting_name("x"),
            "me.test"
        );
    }
}
