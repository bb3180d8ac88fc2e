//! Drives a `Session` the way `src/server/connection.rs` does, and checks it
//! against the oracles as it goes.
//!
//! The loop is the connection's: feed the pending input to `receive`, act on
//! the step (asking the handler, writing replies), and when the session
//! needs more, read: into the pending input, or, in DATA with nothing
//! pending, straight into the message (`data_buffer` / `data_appended`),
//! after which `receive` is called with the (empty) pending input again.
//!
//! Checked on every run:
//! - DATA ends exactly where the reference decoder (`crate::reference`) says,
//!   and the message (or the 552/554 refusal) is what it says;
//! - a BDAT chunk ends exactly its size after its line, and a message that
//!   BDAT LAST completes is the chunks the handler let through, in order
//!   (the last ones since the transaction began);
//! - every reply is well formed (`crate::wire`);
//! - a line within the limit its verb is allowed is never refused as too long;
//! - unused input stays bounded: at most the longest command line (and no
//!   complete line) while reading commands, at most 3 bytes in DATA;
//! - the message buffer grows with what arrives, not with what SIZE claims;
//! - every run ends, and a terminator the reference finds is seen.
//!
//! The caller compares the events of a run fed in one piece with those of
//! the same stream fed in the test case's reads.

use std::net::SocketAddr;

use smtp_fixture::fuzzing::AUTH_LINE_LIMIT;
use smtp_fixture::protocol::{Decision, Message, Question, Session, State, Step, Verb};
use smtp_fixture::Reply;
use smtp_fixture::TlsInfo;

use crate::reference::{bdat_line, decode_data, ReferenceData};
use crate::session_input::{Read, SessionInput};
use crate::wire::{check_reply, check_status_class};

/// What the server did, in order: the same for any way of feeding the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handler was asked.
    Asked(Question),
    /// Bytes written to the client.
    Wrote(Wire),
    /// A message was accepted and delivered.
    Delivered(Box<Message>),
    /// The (simulated) TLS handshake ran.
    TlsStarted,
    /// The server closed the connection.
    Closed,
}

/// Bytes on the wire, shown as text in failure reports.
#[derive(Clone, PartialEq, Eq)]
pub struct Wire(pub Vec<u8>);

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

/// How the stream reaches the session.
#[derive(Debug, Clone, Copy)]
pub enum Feeding<'a> {
    /// Each segment in one read.
    OnePiece,
    /// The test case's reads, in turn (one read per segment when empty).
    Reads(&'a [Read]),
}

/// Memory a DATA buffer may hold beyond twice what arrived.
const DATA_BUFFER_SLACK: usize = 256 * 1024;

/// Runs the session over the test case's stream; panics when an oracle
/// fails. Returns what happened.
pub fn run(input: &SessionInput, feeding: Feeding<'_>) -> Vec<Event> {
    let mut driver = Driver::new(input);
    let step = driver.session.start();
    driver.handle(step);
    let reads: &[Read] = match feeding {
        Feeding::OnePiece => &[],
        Feeding::Reads(reads) => reads,
    };
    let whole_segment = Read {
        size: 0,
        in_place: false,
        extra_room: 0,
    };
    let mut next_read = 0;
    for segment in &input.segments {
        driver.segment_end += segment.len();
        while !driver.closed && driver.delivered < driver.segment_end {
            let read = match reads {
                [] => whole_segment,
                reads => reads[next_read % reads.len()],
            };
            next_read += 1;
            driver.read(read);
        }
        if driver.closed {
            break;
        }
    }
    driver.finish();
    driver.events
}

/// Panics with the first difference between two runs' events.
pub fn assert_same_events(whole: &[Event], chunked: &[Event]) {
    if whole == chunked {
        return;
    }
    let at = whole.iter().zip(chunked).take_while(|(a, b)| a == b).count();
    let show = |events: &[Event]| {
        events
            .iter()
            .skip(at.saturating_sub(2))
            .take(4)
            .map(|e| format!("{:.300}", format!("{e:?}")))
            .collect::<Vec<_>>()
            .join("\n    ")
    };
    panic!(
        "the outcome depends on the chunking: first difference at event {at}\n  fed in one piece:\n    {}\n  fed in the reads:\n    {}",
        show(whole),
        show(chunked)
    );
}

/// An open DATA section or BDAT chunk.
struct DataSection {
    /// Stream offset of its first byte.
    start: usize,
    /// What the reference decoder finds from there.
    expected: Option<ReferenceData>,
    /// The most room an in-place read asked for.
    most_room: usize,
    /// A BDAT chunk: its size and `LAST`.
    chunk: Option<(u64, bool)>,
}

/// A BDAT chunk that the handler let through and whose line was valid: it
/// is part of the message unless the transaction was dropped before.
struct KeptChunk {
    bytes: std::ops::Range<usize>,
}

struct Driver<'a> {
    input: &'a SessionInput,
    stream: Vec<u8>,
    session: Session,
    /// Bytes handed over; those before `used` were used (the connection's
    /// `input` and `start`).
    received: Vec<u8>,
    used: usize,
    /// Stream bytes handed to the session, or discarded at STARTTLS.
    delivered: usize,
    /// Where the current segment ends in the stream.
    segment_end: usize,
    /// Where the command line being read began.
    line_start: usize,
    /// The last command line read, CRLF excluded.
    last_line: std::ops::Range<usize>,
    data: Option<DataSection>,
    /// The chunks since the last message that may be part of the next one.
    kept_chunks: Vec<KeptChunk>,
    /// Where the first of those began (the message buffer holds them all).
    chunks_start: Option<usize>,
    /// The last reply was an AUTH challenge: the next line is a response.
    in_auth_exchange: bool,
    questions: usize,
    receives: usize,
    closed: bool,
    events: Vec<Event>,
}

impl<'a> Driver<'a> {
    fn new(input: &'a SessionInput) -> Driver<'a> {
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        Driver {
            input,
            stream: input.stream(),
            session: {
                let session = Session::new(input.config.clone(), 1, peer);
                if input.starttls {
                    session.offer_starttls()
                } else {
                    session
                }
            },
            received: Vec::new(),
            used: 0,
            delivered: 0,
            segment_end: 0,
            line_start: 0,
            last_line: 0..0,
            data: None,
            kept_chunks: Vec::new(),
            chunks_start: None,
            in_auth_exchange: false,
            questions: 0,
            receives: 0,
            closed: false,
            events: Vec::new(),
        }
    }

    /// Stream offset of the next byte the session has not used.
    fn position(&self) -> usize {
        self.delivered - self.pending().len()
    }

    /// Bytes handed over and not used yet.
    fn pending(&self) -> &[u8] {
        &self.received[self.used..]
    }

    /// One read of the connection, of at most the rest of the segment.
    fn read(&mut self, read: Read) {
        let rest = self.segment_end - self.delivered;
        let size = if read.size == 0 { rest } else { read.size.min(rest) };
        let bytes = self.delivered..self.delivered + size;
        if read.in_place && self.session.state() == State::Data && self.pending().is_empty() {
            self.read_in_place(bytes, read.extra_room);
        } else {
            // As the connection's `read`: used bytes go first.
            self.received.drain(..self.used);
            self.used = 0;
            self.received.extend_from_slice(&self.stream[bytes]);
            self.delivered += size;
            self.pump();
        }
    }

    /// The connection's `read_into_message`, then its loop going on.
    fn read_in_place(&mut self, bytes: std::ops::Range<usize>, extra_room: usize) {
        let bytes = &self.stream[bytes];
        let room = bytes.len() + extra_room;
        let buffer = self.session.data_buffer(room).expect("a data buffer in DATA");
        assert!(
            buffer.capacity() - buffer.len() >= room,
            "data_buffer({room}) left only {} bytes of room",
            buffer.capacity() - buffer.len()
        );
        buffer.extend_from_slice(bytes);
        self.delivered += bytes.len();
        if let Some(section) = &mut self.data {
            section.most_room = section.most_room.max(room);
        }
        self.check_data_memory();
        if let Some((step, rest)) = self.session.data_appended() {
            self.received = rest;
            self.used = 0;
            self.data_ended(&step);
            self.handle(step);
        }
        // The connection goes round its loop: `receive` with what is
        // pending, even when that is nothing.
        self.pump();
    }

    /// Feeds the pending input until the session needs more.
    fn pump(&mut self) {
        while !self.closed {
            self.receives += 1;
            assert!(
                self.receives <= 4 * self.stream.len() + 10_000,
                "no progress: {} calls to receive for {} bytes",
                self.receives,
                self.stream.len()
            );
            let state = self.session.state();
            let extended = self.session.info().extended;
            let progress = self.session.receive(&self.received[self.used..]);
            assert!(
                progress.used <= self.pending().len(),
                "receive used {} of {} bytes",
                progress.used,
                self.pending().len()
            );
            self.used += progress.used;
            if state == State::Data {
                self.check_data_memory();
            }
            let Some(step) = progress.step else {
                self.check_unused_input(state);
                return;
            };
            match state {
                State::Data => self.data_ended(&step),
                State::Command => self.line_ended(&step, extended),
                State::Closed => panic!("a step from a closed session: {step:?}"),
                other => panic!("a state the driver does not know: {other:?}"),
            }
            self.handle(step);
            if self.data.is_none() && self.session.state() == State::Data {
                // A BDAT line answered without a question (a line with a NUL
                // or a non-UTF-8 word after its size): its chunk is read and
                // dropped all the same.
                self.chunk_started(false);
            }
        }
    }

    /// Acts on a step as the connection does.
    fn handle(&mut self, mut step: Step) {
        loop {
            match step {
                Step::Ask => {
                    let question = self
                        .session
                        .question()
                        .expect("Step::Ask comes with a question")
                        .clone();
                    let decision = self.next_decision();
                    let was_data = self.session.state() == State::Data;
                    let bdat = matches!(&question, Question::Command(c) if c.verb() == Some(Verb::Bdat));
                    self.events.push(Event::Asked(question));
                    let proceeds = decision == Decision::Proceed;
                    step = self.session.resolve(decision);
                    if !was_data && self.session.state() == State::Data {
                        if bdat {
                            self.chunk_started(proceeds);
                        } else {
                            self.data_started();
                        }
                    }
                    continue;
                }
                Step::Continue => {}
                Step::Reply(reply) => self.write(&reply),
                Step::Raw(bytes) => {
                    self.in_auth_exchange = false;
                    self.events.push(Event::Wrote(Wire(bytes)));
                }
                Step::Accepted(reply, message) => {
                    self.write(&reply);
                    self.events.push(Event::Delivered(message));
                }
                Step::StartTls(reply) => {
                    self.write(&reply);
                    // What the client sent before the handshake is dropped
                    // (RFC 3207, 4.2): the rest of this segment.
                    self.received.clear();
                    self.used = 0;
                    self.delivered = self.segment_end;
                    self.line_start = self.delivered;
                    self.session.tls_started(TlsInfo {
                        version: "TLSv1_3".into(),
                        cipher: "TLS13_AES_128_GCM_SHA256".into(),
                        sni: None,
                    });
                    self.events.push(Event::TlsStarted);
                }
                Step::Close(reply) => {
                    if let Some(reply) = reply {
                        self.write(&reply);
                    }
                    assert_eq!(
                        self.session.state(),
                        State::Closed,
                        "Step::Close left the session open"
                    );
                    self.closed = true;
                    self.events.push(Event::Closed);
                }
                // The decisions here script no faults; one would only
                // change how the inner step goes out.
                Step::Fault(_, inner) => {
                    step = *inner;
                    continue;
                }
                other => panic!("a step the fuzz driver does not know: {other:?}"),
            }
            return;
        }
    }

    fn next_decision(&mut self) -> Decision {
        let decisions = &self.input.decisions;
        let decision = match decisions.len() {
            0 => Decision::Proceed,
            n => decisions[self.questions % n].clone(),
        };
        self.questions += 1;
        decision
    }

    fn write(&mut self, reply: &Reply) {
        let checked = check_reply(reply, self.longest_reply_line()).and_then(|()| check_status_class(reply));
        if let Err(problem) = checked {
            panic!("{problem}");
        }
        self.in_auth_exchange = reply.code() == 334;
        self.events.push(Event::Wrote(Wire(reply.to_wire())));
    }

    /// RFC 5321 (4.5.3.1.5) says 512; replies that echo a command line may
    /// be as long as the line plus their text.
    fn longest_reply_line(&self) -> usize {
        self.longest_line().saturating_add(100).max(512)
    }

    /// The longest command line the configuration lets any verb send, by
    /// RFC 5321 (4.5.3.1.4), RFC 1870, RFC 6531 and RFC 4954 (4).
    fn longest_line(&self) -> usize {
        let config = &self.input.config;
        let mail = self.mail_line_limit().max(self.rcpt_line_limit());
        if config.auth_mechanisms.is_empty() {
            mail
        } else {
            mail.max(AUTH_LINE_LIMIT)
        }
    }

    /// MAIL after EHLO: 26 more bytes for SIZE=, 10 for SMTPUTF8, 78 for
    /// DSN's RET and ENVID (RFC 3461, 5).
    fn mail_line_limit(&self) -> usize {
        let config = &self.input.config;
        let size = if config.data_size_limit > 0 { 26 } else { 0 };
        let utf8 = if config.enable_smtputf8 { 10 } else { 0 };
        let dsn = if config.dsn { 78 } else { 0 };
        config.command_size_limit.saturating_add(size + utf8 + dsn)
    }

    /// RCPT after EHLO: 500 more bytes for DSN's NOTIFY and ORCPT.
    fn rcpt_line_limit(&self) -> usize {
        let config = &self.input.config;
        let dsn = if config.dsn { 500 } else { 0 };
        config.command_size_limit.saturating_add(dsn)
    }

    fn data_started(&mut self) {
        let start = self.position();
        self.data = Some(DataSection {
            start,
            expected: decode_data(&self.stream[start..]),
            most_room: 0,
            chunk: None,
        });
        self.check_data_memory();
    }

    /// A BDAT line made the session read a chunk (`proceeds`: the handler
    /// let the command through).
    fn chunk_started(&mut self, proceeds: bool) {
        let start = self.position();
        let line = &self.stream[self.last_line.clone()];
        let Some((size, last, valid)) = bdat_line(line) else {
            panic!(
                "the session reads a BDAT chunk after a line the grammar gives no size: {:?}",
                String::from_utf8_lossy(line)
            );
        };
        assert!(
            size > 0,
            "an empty chunk is read: {:?}",
            String::from_utf8_lossy(line)
        );
        if self.session.data_received() == 0 {
            // A new message (the session holds none of the earlier chunks).
            self.kept_chunks.clear();
            self.chunks_start = Some(start);
        }
        if proceeds && valid {
            let end = usize::try_from(size).map_or(usize::MAX, |size| start.saturating_add(size));
            self.kept_chunks.push(KeptChunk { bytes: start..end });
        }
        self.data = Some(DataSection {
            start,
            expected: None,
            most_room: 0,
            chunk: Some((size, last)),
        });
        self.check_data_memory();
    }

    /// A chunk ended with `step`: exactly its size after its line.
    fn chunk_ended(&mut self, start: usize, size: u64, last: bool, step: &Step) {
        let position = self.position();
        assert_eq!(
            position as u64,
            start as u64 + size,
            "a {size}-byte BDAT chunk from offset {start} ended at offset {position}"
        );
        self.line_start = position;
        let (Step::Ask, Some(Question::Message(message))) = (step, self.session.question()) else {
            return;
        };
        assert!(last, "a message after a chunk without LAST");
        // The message is the kept chunks since its transaction began: a
        // run of the last ones, ending with this one.
        let mut expected = Vec::new();
        for chunk in self.kept_chunks.iter().rev() {
            expected.splice(0..0, self.stream[chunk.bytes.clone()].iter().copied());
            if expected.len() >= message.data.len() {
                break;
            }
        }
        let ends_here = self.kept_chunks.last().is_some_and(|c| c.bytes.end == position);
        if !ends_here || expected != message.data {
            panic!(
                "the BDAT message is not the chunks sent:\n  session: {:?}\n  chunks:  {:?}",
                String::from_utf8_lossy(&message.data),
                String::from_utf8_lossy(&expected)
            );
        }
        self.kept_chunks.clear();
        self.chunks_start = None;
    }

    /// DATA ended with `step`: where and how the reference says.
    fn data_ended(&mut self, step: &Step) {
        let position = self.position();
        let section = self.data.take().expect("DATA ended without starting");
        if let Some((size, last)) = section.chunk {
            self.chunk_ended(section.start, size, last, step);
            return;
        }
        let Some(expected) = section.expected else {
            panic!(
                "DATA ended at stream offset {position}, but the reference finds no terminator after offset {}",
                section.start
            );
        };
        assert_eq!(
            position,
            section.start + expected.end,
            "DATA (from offset {}) ended at offset {position}, the reference's terminator ends at {}",
            section.start,
            section.start + expected.end
        );
        let config = &self.input.config;
        let refusal = |step: &Step| match step {
            Step::Reply(reply) => Some(reply.code()),
            _ => None,
        };
        if config.data_size_limit > 0 && expected.raw_size > config.data_size_limit {
            assert_eq!(
                refusal(step),
                Some(552),
                "a {}-byte message over the limit",
                expected.raw_size
            );
        } else if config.decode_data && std::str::from_utf8(&expected.message).is_err() {
            assert_eq!(
                refusal(step),
                Some(554),
                "a message that is not UTF-8 with decode_data"
            );
        } else {
            let (Step::Ask, Some(Question::Message(message))) = (step, self.session.question()) else {
                panic!("DATA ended with {step:?}, the reference finds a message");
            };
            if message.data != expected.message {
                panic!(
                    "the message differs from the reference's:\n  session:   {:?}\n  reference: {:?}",
                    String::from_utf8_lossy(&message.data),
                    String::from_utf8_lossy(&expected.message)
                );
            }
            assert_eq!(
                message.unstuffed_dot_lines, expected.unstuffed_dot_lines,
                "unstuffed dot lines"
            );
        }
        self.line_start = position;
    }

    /// A command line (or AUTH response) ended with `step`.
    fn line_ended(&mut self, step: &Step, extended: bool) {
        let end = self.position();
        self.last_line = self.line_start..end.saturating_sub(2).max(self.line_start);
        let line = &self.stream[self.last_line.clone()];
        if let Step::Reply(reply) = step {
            let too_long = |text: &std::borrow::Cow<'static, str>| text.ends_with("Error: line too long");
            if reply.code() == 500 && reply.lines().first().is_some_and(too_long) {
                let allowed = self.line_allowance(line, extended);
                assert!(
                    line.len() > allowed,
                    "a {}-byte line refused as too long, its limit is {allowed}: {:.80?}",
                    line.len(),
                    String::from_utf8_lossy(line)
                );
            }
        }
        self.line_start = end;
    }

    /// The longest the line may be.
    fn line_allowance(&self, line: &[u8], extended: bool) -> usize {
        let config = &self.input.config;
        let verb = line
            .split(|&b| b == b' ')
            .next()
            .unwrap_or(b"")
            .to_ascii_uppercase();
        // RFC 4954 (4): 12 288 for AUTH lines; the AUTH command, being a
        // command, gets the configured limit if that is larger.
        if self.in_auth_exchange {
            AUTH_LINE_LIMIT
        } else if verb == b"AUTH" && extended && !config.auth_mechanisms.is_empty() {
            AUTH_LINE_LIMIT.max(config.command_size_limit)
        } else if verb == b"MAIL" && extended {
            self.mail_line_limit()
        } else if verb == b"RCPT" && extended {
            self.rcpt_line_limit()
        } else {
            config.command_size_limit
        }
    }

    /// After `receive` asked for more input in `state`.
    fn check_unused_input(&self, state: State) {
        let unused = self.pending().len();
        match state {
            State::Command => {
                // The session may hold the longest line of any
                // configuration (+36 for SIZE and SMTPUTF8), and a CR.
                let config = &self.input.config;
                let mut longest = config
                    .command_size_limit
                    .saturating_add(36)
                    .max(self.longest_line());
                if !config.auth_mechanisms.is_empty() {
                    longest = longest.max(AUTH_LINE_LIMIT);
                }
                let longest = longest + 2;
                assert!(
                    unused <= longest,
                    "{unused} unused bytes while reading commands (longest line {longest})"
                );
                assert!(
                    memchr::memmem::find(self.pending(), b"\r\n").is_none(),
                    "a complete line left unused: {:.80?}",
                    String::from_utf8_lossy(self.pending())
                );
            }
            State::Data => assert!(unused <= 3, "{unused} unused bytes in DATA"),
            State::Closed => assert_eq!(unused, 0, "a closed session left input unused"),
            other => panic!("a state the driver does not know: {other:?}"),
        }
    }

    /// The message buffer holds about what arrived, whatever SIZE said.
    fn check_data_memory(&mut self) {
        let Some(section) = &self.data else { return };
        let start = match section.chunk {
            Some(_) => self.chunks_start.unwrap_or(section.start).min(section.start),
            None => section.start,
        };
        let arrived = self.delivered - start;
        let bound = 2 * (arrived + section.most_room + 3) + DATA_BUFFER_SLACK;
        let Some(buffer) = self.session.data_buffer(0) else {
            return;
        };
        assert!(
            buffer.capacity() <= bound,
            "the message buffer holds {} bytes after {arrived} bytes arrived (memory reserved on the client's word?)",
            buffer.capacity()
        );
    }

    /// The stream is over: a terminator in it must have been seen.
    fn finish(&mut self) {
        if self.closed {
            return;
        }
        if let Some(DataSection {
            start,
            expected: Some(expected),
            ..
        }) = &self.data
        {
            panic!(
                "the stream is over and the session is still in DATA (from offset {start}), but the reference's terminator ends at offset {}",
                start + expected.end
            );
        }
    }
}
