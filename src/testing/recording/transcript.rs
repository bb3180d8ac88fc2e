//! Per-session transcripts: every line in and out, timestamped.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::handler::SessionLog;
use crate::lock::lock;

mod live;

use live::{Ending, Live};
#[cfg(test)]
use live::{HEAD_LINES, TAIL_LINES};

/// How many bytes of each message body a transcript shows.
const BODY_SHOWN: usize = 2048;
/// How many bytes of one command line a transcript shows.
const LINE_SHOWN: usize = 1024;

/// Who produced a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The client sent it.
    Client,
    /// The server sent it.
    Server,
    /// Not traffic: a note about the session (timeout, close, ...).
    Note,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// Time since the session started.
    pub at: Duration,
    /// Who sent it.
    pub direction: Direction,
    /// The text, CRLF removed; invalid UTF-8 shown as U+FFFD.
    pub text: String,
}

/// Everything that crossed the wire in one session: one entry per line,
/// however the bytes were chunked, each line once, in the order it crossed
/// the socket (commands a client pipelined come before the replies to
/// them). Failure reports and `Display` show it like this:
///
/// ```text
/// session 3 from 127.0.0.1:41776 (closed):
///      0.000s S: 220 localhost smtp-fixture 0.1.0
///      0.001s C: EHLO client.test
///      0.001s S: 250-localhost
///      0.001s S: 250-SIZE 33554432
///      ...
///      0.002s C: DATA
///      0.002s S: 354 End data with <CR><LF>.<CR><LF>
///      0.003s C: Subject: Welcome
///      0.003s C:
///      0.003s C: Thanks for signing up!
///      0.003s C: .
///      0.003s S: 250 OK
///      0.004s C: QUIT
///      0.004s S: 221 Bye
///      0.004s -- server closed the connection
/// ```
///
/// `C:` is the client, `S:` the server, `--` a note (a timeout, TLS, the
/// close). Each line is shown without its CRLF; a command line longer than
/// 1 024 bytes shows its start and its length; a line longer than 64 KiB
/// ends in `... (N bytes, cut)`; a message shows its first 2 KiB, then a
/// note of the bytes not shown. A session of more than 5 000 lines keeps
/// its first 1 000 and its last 4 000.
///
/// ```
/// use smtp_fixture::TestSmtpServer;
/// # use std::io::{BufRead, BufReader, Write};
/// # use std::net::TcpStream;
/// let server = TestSmtpServer::start();
/// # let stream = TcpStream::connect(server.addr()).unwrap();
/// # let mut reader = BufReader::new(stream.try_clone().unwrap());
/// # let mut writer = stream;
/// # writer.write_all(b"EHLO client.test\r\nQUIT\r\n").unwrap();
/// # let mut line = String::new();
/// # while reader.read_line(&mut line).unwrap() > 0 {}
/// # while !server.transcripts()[0].closed { std::thread::yield_now(); }
/// // ... a client says EHLO and QUIT ...
/// let transcript = &server.transcripts()[0];
/// assert_eq!(transcript.client_lines(), ["EHLO client.test", "QUIT"]);
/// assert_eq!(transcript.server_lines().last(), Some(&"221 Bye"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// The session number (also on [`ReceivedMessage::session_id`](crate::ReceivedMessage::session_id)).
    pub session_id: u64,
    /// The client's address (with the PROXY protocol, the client the
    /// proxy named).
    pub peer: SocketAddr,
    /// The proxy the connection came through (PROXY protocol), if any.
    pub proxy: Option<SocketAddr>,
    /// When the session started.
    pub started: SystemTime,
    /// The lines, in order.
    pub lines: Vec<TranscriptLine>,
    /// Whether the session has ended.
    pub closed: bool,
}

impl Transcript {
    /// The client's lines only (bodies included), e.g. to check the order of
    /// commands a mailer sent.
    pub fn client_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|l| l.direction == Direction::Client)
            .map(|l| l.text.as_str())
            .collect()
    }

    /// This transcript with each message body replaced by a note of its
    /// size: for reports that show the message itself already.
    pub fn without_bodies(&self) -> Transcript {
        let mut lines = Vec::with_capacity(self.lines.len());
        // Inside a body: when it started and how many of its lines were left out.
        let mut body: Option<(Duration, usize)> = None;
        let note = |(at, count): (Duration, usize)| TranscriptLine {
            at,
            direction: Direction::Note,
            text: format!("({count} lines of message data)"),
        };
        for line in &self.lines {
            match (&mut body, line.direction) {
                (Some((_, count)), Direction::Client) => *count += 1,
                (Some(_), Direction::Note) => {}
                (open, direction) => {
                    lines.extend(open.take().map(note));
                    lines.push(line.clone());
                    if direction == Direction::Server && line.text.starts_with("354") {
                        body = Some((line.at, 0));
                    }
                }
            }
        }
        lines.extend(body.map(note));
        Transcript {
            session_id: self.session_id,
            peer: self.peer,
            proxy: self.proxy,
            started: self.started,
            lines,
            closed: self.closed,
        }
    }

    /// The server's lines only.
    pub fn server_lines(&self) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|l| l.direction == Direction::Server)
            .map(|l| l.text.as_str())
            .collect()
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.closed { "closed" } else { "open" };
        write!(f, "session {} from {}", self.session_id, self.peer)?;
        if let Some(proxy) = self.proxy {
            write!(f, " via proxy {proxy}")?;
        }
        writeln!(f, " ({state}):")?;
        for line in &self.lines {
            let who = match line.direction {
                Direction::Client => "C:",
                Direction::Server => "S:",
                Direction::Note => "--",
            };
            writeln!(f, "  {:>8.3}s {who} {}", line.at.as_secs_f64(), line.text)?;
        }
        Ok(())
    }
}

/// A transcript the server is still writing, shared with the fixture.
#[derive(Clone, Default)]
pub(crate) struct SharedTranscript(Option<Arc<Mutex<Live>>>);

impl SharedTranscript {
    /// A copy of the transcript as it is now.
    pub(crate) fn snapshot(&self) -> Transcript {
        match &self.0 {
            Some(shared) => lock(shared).snapshot(),
            None => Transcript {
                session_id: 0,
                peer: SocketAddr::from(([127, 0, 0, 1], 0)),
                proxy: None,
                started: SystemTime::UNIX_EPOCH,
                lines: Vec::new(),
                closed: true,
            },
        }
    }

    pub(crate) fn is_known(&self) -> bool {
        self.0.is_some()
    }

    /// Whether the session has ended (as `snapshot().closed`, without the copy).
    pub(crate) fn is_closed(&self) -> bool {
        self.0.as_ref().is_none_or(|shared| lock(shared).closed)
    }
}

/// Messages compare by content; which transcript they carry does not count.
impl PartialEq for SharedTranscript {
    fn eq(&self, _: &SharedTranscript) -> bool {
        true
    }
}

impl Eq for SharedTranscript {}

impl fmt::Debug for SharedTranscript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedTranscript")
    }
}

/// The live side of a transcript: the server writes through it while the
/// fixture may read it at any time.
pub(crate) struct TranscriptLog {
    shared: Arc<Mutex<Live>>,
    /// Bytes of the current message body received, and of those shown.
    body_seen: usize,
    body_shown: usize,
    /// Told once the transcript is marked closed (the store wakes its
    /// waiters: `wait_for_sessions_closed`).
    on_closed: Option<Box<dyn FnOnce() + Send>>,
}

impl TranscriptLog {
    pub(crate) fn new(
        session_id: u64,
        peer: SocketAddr,
        proxy: Option<SocketAddr>,
    ) -> (TranscriptLog, SharedTranscript) {
        let shared = Arc::new(Mutex::new(Live::new(session_id, peer, proxy)));
        let log = TranscriptLog {
            shared: shared.clone(),
            body_seen: 0,
            body_shown: 0,
            on_closed: None,
        };
        (log, SharedTranscript(Some(shared)))
    }

    /// Calls `tell` after the session's end is written down.
    pub(crate) fn on_closed(mut self, tell: impl FnOnce() + Send + 'static) -> TranscriptLog {
        self.on_closed = Some(Box::new(tell));
        self
    }

    fn push(&mut self, direction: Direction, bytes: &[u8], ending: Ending) {
        let at = Instant::now();
        lock(&self.shared).push(at, direction, bytes, ending);
    }

    fn push_lines(&mut self, direction: Direction, bytes: &[u8]) {
        let at = Instant::now();
        let mut transcript = lock(&self.shared);
        for line in split_crlf(bytes) {
            let (kept, ending) = shown(line);
            transcript.push(at, direction, kept, ending);
        }
    }

    /// A line of a message body: shown while the body's first
    /// `BODY_SHOWN` bytes last, counted after (what it shows is worked
    /// out only then).
    fn body_line<'a>(&mut self, length: usize, shown: impl FnOnce() -> (&'a [u8], Ending)) {
        if self.body_shown < BODY_SHOWN {
            self.body_shown += length;
            let (kept, ending) = shown();
            self.push(Direction::Client, kept, ending);
        }
        self.body_seen += length;
    }

    /// Ends a message body in the transcript, with a note of what was cut.
    fn end_body(&mut self) {
        let hidden = self.body_seen - self.body_shown;
        if hidden > 0 {
            let note = format!("({hidden} more bytes of the message not shown)");
            self.push(Direction::Note, note.as_bytes(), Ending::Whole);
        }
        self.body_seen = 0;
        self.body_shown = 0;
    }
}

fn strip_crlf(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The lines of `bytes` without their line ends, as `split` on `\n` gives
/// them (the last CRLF ends a line, it does not start an empty one), found
/// by `memchr` rather than byte by byte.
fn split_crlf(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes.strip_suffix(b"\r\n").unwrap_or(bytes));
    std::iter::from_fn(move || {
        let current = rest?;
        let line = match memchr::memchr(b'\n', current) {
            Some(end) => {
                rest = Some(&current[end + 1..]);
                &current[..end]
            }
            None => {
                rest = None;
                current
            }
        };
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    })
}

/// A line the server did not keep whole: its start, marked as cut.
fn cut(start: &[u8], length: usize) -> (&[u8], Ending) {
    let start = strip_crlf(start);
    (&start[..start.len().min(LINE_SHOWN)], Ending::Cut(length))
}

/// What of `line` a transcript shows: all of it, or its first
/// `LINE_SHOWN` bytes and its length.
fn shown(line: &[u8]) -> (&[u8], Ending) {
    if line.len() <= LINE_SHOWN {
        (line, Ending::Whole)
    } else {
        (&line[..LINE_SHOWN], Ending::Shortened(line.len()))
    }
}

impl SessionLog for TranscriptLog {
    fn received(&mut self, line: &[u8]) {
        self.end_body();
        self.push_lines(Direction::Client, line);
    }

    fn received_data(&mut self, line: &[u8]) {
        self.body_line(line.len(), || shown(strip_crlf(line)));
    }

    fn received_cut(&mut self, start: &[u8], length: usize, data: bool) {
        if data {
            self.body_line(length, || cut(start, length));
        } else {
            let (kept, ending) = cut(start, length);
            self.end_body();
            self.push(Direction::Client, kept, ending);
        }
    }

    fn sent(&mut self, bytes: &[u8]) {
        self.end_body();
        self.push_lines(Direction::Server, bytes);
    }

    fn note(&mut self, text: &str) {
        self.end_body();
        self.push(Direction::Note, text.as_bytes(), Ending::Whole);
    }
}

impl Drop for TranscriptLog {
    fn drop(&mut self) {
        self.end_body();
        lock(&self.shared).closed = true;
        if let Some(tell) = self.on_closed.take() {
            tell();
        }
    }
}

#[cfg(test)]
mod tests;
