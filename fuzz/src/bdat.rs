//! The `bdat` target: a client that mixes BDAT (RFC 3030) with DATA and
//! other commands, pipelined, in SMTP or LMTP, against a `Session` whose
//! handler answers BDAT lines, recipients and messages in every way a
//! scripted rule can (a reply, raw bytes, a throttled link, a disconnect).
//!
//! The client is honest: every BDAT it sends is followed by exactly the
//! chunk its line announces, and it sends a DATA section only after a 354
//! (RFC 2920: DATA ends a pipelined group). Run one, item by item,
//! checks each item against a model of the client's own:
//! - each command gets exactly one answer (a reply, raw bytes, a close),
//!   and its line is the only command the handler is asked about: a
//!   chunk's or a DATA section's bytes are never taken for commands,
//!   whoever refused the BDAT and whatever the line had after its size;
//! - the final answer to a message is one reply, and in LMTP one per
//!   recipient accepted (a 2xx to its RCPT) in the transaction;
//! - a message that BDAT LAST completes is the concatenation of the chunks
//!   acknowledged with 2xx since its transaction began, and a DATA message
//!   is the lines sent;
//! - after each item every byte sent is used and the session reads commands.
//!
//! Run two sends the same bytes in the test case's reads (some straight
//! into the message buffer, as the connection does): the same questions,
//! answers and messages, for any split.

use std::net::SocketAddr;
use std::sync::Arc;

use arbitrary::Arbitrary;
use smtp_fixture::protocol::Config;
use smtp_fixture::protocol::{Decision, LinkFault, Question, Session, State, Step, Verb};
use smtp_fixture::Reply;

use crate::wire::check_reply;

/// A test case.
#[derive(Arbitrary, Debug)]
pub struct BdatInput {
    lmtp: bool,
    decode_data: bool,
    /// Index into [`LIMITS`].
    limit: u8,
    /// Index into [`INVALID_LIMITS`].
    invalid: u8,
    /// The greeting is a 554: only QUIT is served.
    refused: bool,
    items: Vec<Item>,
    /// The handler's answers, in turn, to BDAT lines, RCPT and messages.
    choices: Vec<Choice>,
    /// Run two's reads: bytes (0: all that is left) and whether to read
    /// straight into the message when the session reads one.
    reads: Vec<(u16, bool)>,
}

/// What the client sends next.
#[derive(Arbitrary, Debug)]
enum Item {
    /// EHLO (SMTP) or LHLO (LMTP).
    Greet,
    /// HELO: the wrong greeting in LMTP.
    Helo,
    Mail {
        binarymime: bool,
    },
    Rcpt(u8),
    /// DATA, then (after a 354) these lines and the terminator.
    Data(Vec<String>),
    /// A BDAT line announcing `chunk`'s length, and the chunk.
    Bdat {
        chunk: Vec<u8>,
        tail: Tail,
    },
    /// A BDAT line without a readable size (no chunk follows).
    BdatNoSize(String),
    Rset,
    Noop,
    Quit,
    /// Any line (CR and LF removed); not DATA or BDAT.
    Line(String),
}

/// What follows the size on a BDAT line.
#[derive(Arbitrary, Debug)]
enum Tail {
    Nothing,
    Last,
    LastLowerCase,
    /// Any word: a syntax error, but the size is readable.
    Word(String),
}

/// One answer of the handler.
#[derive(Arbitrary, Debug, Clone)]
enum Choice {
    Proceed,
    Reply(u8),
    Raw(u8),
    PerRecipient(Vec<u8>),
    /// Proceed, a reply or raw bytes, over a throttled link.
    Throttled(u8),
    Disconnect,
}

const LIMITS: [usize; 5] = [0, 16, 100, 1000, 33_554_432];
const INVALID_LIMITS: [usize; 3] = [0, 3, 20];
const CODES: [u16; 13] = [250, 251, 354, 421, 450, 451, 452, 500, 501, 503, 550, 552, 554];
const RAW: [&[u8]; 4] = [b"", b"250 raw\r\n", b"25", b"550-x\r\n"];
/// Command lines stay well under the 512-byte limit.
const LONGEST_LINE: usize = 400;

fn reply(index: u8) -> Reply {
    Reply::new(CODES[usize::from(index) % CODES.len()], "custom")
}

fn raw(index: u8) -> Vec<u8> {
    RAW[usize::from(index) % RAW.len()].to_vec()
}

impl Choice {
    fn decision(&self) -> Decision {
        match self {
            Choice::Proceed => Decision::Proceed,
            Choice::Reply(index) => Decision::Reply(reply(*index)),
            Choice::Raw(index) => Decision::Raw(raw(*index)),
            Choice::PerRecipient(codes) => Decision::PerRecipient(codes.iter().map(|&c| reply(c)).collect()),
            Choice::Throttled(index) => {
                let inner = match index % 3 {
                    0 => Decision::Proceed,
                    1 => Decision::Reply(reply(index / 3)),
                    _ => Decision::Raw(raw(index / 3)),
                };
                Decision::Fault(LinkFault::Throttle { bytes_per_second: 10 }, Box::new(inner))
            }
            Choice::Disconnect => Decision::Disconnect(None),
        }
    }
}

/// What a decision does: under any link fault, and per-recipient replies
/// to anything but a message being their first reply (or none).
fn unwrapped(question: &Question, decision: &Decision) -> Decision {
    match decision {
        Decision::Fault(_, inner) => unwrapped(question, inner),
        Decision::PerRecipient(replies) if !matches!(question, Question::Message(_)) => replies
            .first()
            .cloned()
            .map_or(Decision::Proceed, Decision::Reply),
        other => other.clone(),
    }
}

/// What the server did, in order: the same for any split of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Asked(Question),
    Answer(Answer),
}

/// One answer unit on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Reply(Reply),
    Raw(Vec<u8>),
    Close(Option<Reply>),
    /// A message was delivered (after its final replies).
    Delivered(Vec<u8>, Vec<String>),
}

impl Answer {
    fn is_unit(&self) -> bool {
        !matches!(self, Answer::Delivered(..))
    }
}

/// A session, a handler choosing in turn, and what came out.
struct Harness<'a> {
    session: Session,
    choices: &'a [Choice],
    next_choice: usize,
    refused: bool,
    pending: Vec<u8>,
    closed: bool,
    events: Vec<Event>,
    /// Decisions given, with the question they answered.
    decisions: Vec<(Question, Decision)>,
    receives: usize,
}

impl<'a> Harness<'a> {
    fn new(config: &Arc<Config>, input: &'a BdatInput) -> Harness<'a> {
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        let mut harness = Harness {
            session: Session::new(config.clone(), 1, peer),
            choices: &input.choices,
            next_choice: 0,
            refused: input.refused,
            pending: Vec::new(),
            closed: false,
            events: Vec::new(),
            decisions: Vec::new(),
            receives: 0,
        };
        let start = harness.session.start();
        harness.handle(start);
        // The greeting is no item's answer.
        harness.events.clear();
        harness.decisions.clear();
        harness
    }

    fn decide(&mut self, question: &Question) -> Decision {
        let chosen = match question {
            Question::Connect if self.refused => return Decision::Reply(Reply::new(554, "not now")),
            Question::Command(command) if command.verb() == Some(Verb::Bdat) => true,
            Question::Rcpt { .. } | Question::Message(_) => true,
            _ => false,
        };
        if !chosen || self.choices.is_empty() {
            return Decision::Proceed;
        }
        let choice = &self.choices[self.next_choice % self.choices.len()];
        self.next_choice += 1;
        choice.decision()
    }

    fn handle(&mut self, mut step: Step) {
        loop {
            let answer = match step {
                Step::Ask => {
                    let question = self
                        .session
                        .question()
                        .expect("Step::Ask comes with a question")
                        .clone();
                    let decision = self.decide(&question);
                    self.events.push(Event::Asked(question.clone()));
                    self.decisions.push((question, decision.clone()));
                    step = self.session.resolve(decision);
                    continue;
                }
                Step::Fault(_, inner) => {
                    step = *inner;
                    continue;
                }
                Step::Continue => return,
                Step::Reply(reply) => vec![Answer::Reply(reply)],
                Step::Raw(bytes) => vec![Answer::Raw(bytes)],
                Step::Accepted(reply, message) => vec![
                    Answer::Reply(reply),
                    Answer::Delivered(message.data.clone(), message.rcpt_tos().to_vec()),
                ],
                Step::PerRecipient(replies, message) => {
                    let mut answers: Vec<Answer> = replies.into_iter().map(Answer::Reply).collect();
                    answers.extend(message.map(|m| Answer::Delivered(m.data.clone(), m.rcpt_tos().to_vec())));
                    answers
                }
                Step::Close(reply) => {
                    self.closed = true;
                    vec![Answer::Close(reply)]
                }
                other => panic!("a step this target does not expect: {other:?}"),
            };
            for answer in answers_checked(answer) {
                self.events.push(Event::Answer(answer));
            }
            return;
        }
    }

    /// Feeds what is pending until the session needs more.
    fn pump(&mut self) {
        while !self.closed {
            self.receives += 1;
            assert!(self.receives < 1_000_000, "no progress");
            let progress = self.session.receive(&self.pending);
            assert!(progress.used <= self.pending.len());
            self.pending.drain(..progress.used);
            match progress.step {
                Some(step) => self.handle(step),
                None => return,
            }
        }
    }

    /// One read of `bytes`; `in_place`: straight into the message when the
    /// session reads one and nothing is pending (as the connection does).
    fn read(&mut self, bytes: &[u8], in_place: bool) {
        if self.closed {
            return;
        }
        if in_place && self.session.state() == State::Data && self.pending.is_empty() {
            let buffer = self
                .session
                .data_buffer(bytes.len())
                .expect("a buffer while reading a message");
            buffer.extend_from_slice(bytes);
            if let Some((step, rest)) = self.session.data_appended() {
                self.pending = rest;
                self.handle(step);
            }
        } else {
            self.pending.extend_from_slice(bytes);
        }
        self.pump();
    }
}

fn answers_checked(answers: Vec<Answer>) -> Vec<Answer> {
    for answer in &answers {
        if let Answer::Reply(reply) | Answer::Close(Some(reply)) = answer {
            if let Err(problem) = check_reply(reply, usize::MAX) {
                panic!("{problem}");
            }
        }
    }
    answers
}

/// A line the client sends as a command, CR and LF removed, bounded.
fn one_line(text: &str) -> String {
    let mut line: String = text.chars().filter(|&c| c != '\r' && c != '\n').collect();
    while line.len() > LONGEST_LINE {
        line.pop();
    }
    line
}

/// The verb of a line as the server reads it (up to the first space,
/// upper-cased).
fn verb_of(line: &str) -> String {
    line.split(' ').next().unwrap_or("").to_uppercase()
}

/// What the client sends for one item, and what it knows about it.
struct Sent {
    /// The command line, CRLF included.
    line: Vec<u8>,
    /// The chunk after a BDAT line.
    chunk: Option<Vec<u8>>,
    /// A valid BDAT line (RFC 3030's grammar): `Some(last)`.
    valid_bdat: Option<bool>,
    /// For DATA: the section after a 354 and the message it carries.
    data: Option<(Vec<u8>, Vec<u8>)>,
}

fn render(item: &Item, lmtp: bool) -> Option<Sent> {
    let plain = |line: String| Sent {
        line: format!("{line}\r\n").into_bytes(),
        chunk: None,
        valid_bdat: None,
        data: None,
    };
    Some(match item {
        Item::Greet if lmtp => plain("LHLO client".into()),
        Item::Greet => plain("EHLO client".into()),
        Item::Helo => plain("HELO client".into()),
        Item::Mail { binarymime: false } => plain("MAIL FROM:<a@example.com>".into()),
        Item::Mail { binarymime: true } => plain("MAIL FROM:<a@example.com> BODY=BINARYMIME".into()),
        Item::Rcpt(n) => plain(format!("RCPT TO:<r{}@example.com>", n % 4)),
        Item::Rset => plain("RSET".into()),
        Item::Noop => plain("NOOP".into()),
        Item::Quit => plain("QUIT".into()),
        Item::Data(lines) => {
            let lines: Vec<String> = lines.iter().map(|l| one_line(l)).collect();
            let mut section = Vec::new();
            let mut message = Vec::new();
            for line in &lines {
                if line.starts_with('.') {
                    section.push(b'.');
                }
                section.extend_from_slice(line.as_bytes());
                section.extend_from_slice(b"\r\n");
                message.extend_from_slice(line.as_bytes());
                message.extend_from_slice(b"\r\n");
            }
            section.extend_from_slice(b".\r\n");
            Sent {
                data: Some((section, message)),
                ..plain("DATA".into())
            }
        }
        Item::Bdat { chunk, tail } => {
            let (tail, valid) = match tail {
                Tail::Nothing => (String::new(), Some(false)),
                Tail::Last => (" LAST".into(), Some(true)),
                Tail::LastLowerCase => (" last".into(), Some(true)),
                Tail::Word(word) => {
                    let word = one_line(word);
                    // Whether the line is still valid (an empty word, `LAST`)
                    // is the reference grammar's to say.
                    let tail = format!(" {word}");
                    let valid = match crate::reference::bdat_line(format!("BDAT 1{tail}").as_bytes()) {
                        Some((_, last, true)) => Some(last),
                        _ => None,
                    };
                    (tail, valid)
                }
            };
            Sent {
                chunk: Some(chunk.clone()),
                valid_bdat: valid,
                ..plain(format!("BDAT {}{tail}", chunk.len()))
            }
        }
        Item::BdatNoSize(arg) => {
            let arg = one_line(arg);
            let line = format!("BDAT {arg}");
            if crate::reference::bdat_line(line.as_bytes()).is_some() || has_readable_size(&arg) {
                return None;
            }
            plain(line)
        }
        Item::Line(text) => {
            let line = one_line(text);
            let verb = verb_of(&line);
            if verb == "DATA" || verb == "BDAT" {
                return None;
            }
            plain(line)
        }
    })
}

/// Whether the server could read a size from this argument: digits up to
/// a space, after trimming (the server trims Unicode white space too).
fn has_readable_size(arg: &str) -> bool {
    let arg = arg.trim();
    let size = arg.split(' ').next().unwrap_or("");
    !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit())
}

/// The client's model of the transaction.
#[derive(Default)]
struct Model {
    /// Chunks acknowledged with 2xx since the transaction began.
    chunks: Vec<u8>,
    /// Recipients accepted (2xx) since the transaction began.
    recipients: usize,
}

impl Model {
    fn new_transaction(&mut self) {
        self.chunks.clear();
        self.recipients = 0;
    }
}

/// Runs the test case; panics when an oracle fails.
pub fn check(input: &BdatInput) {
    let config = Config {
        lmtp: input.lmtp,
        decode_data: input.decode_data,
        data_size_limit: LIMITS[usize::from(input.limit) % LIMITS.len()],
        max_invalid_commands: INVALID_LIMITS[usize::from(input.invalid) % INVALID_LIMITS.len()],
        ..Config::default()
    };
    if config.validate().is_err() {
        return;
    }
    let config = Arc::new(config);
    let (stream, events) = item_by_item(&config, input);
    let mut pipelined = Harness::new(&config, input);
    let mut at = 0;
    let mut reads = input.reads.iter().cycle();
    while at < stream.len() && !pipelined.closed {
        let (size, in_place) = match reads.next() {
            Some(&(size, in_place)) if size > 0 => (usize::from(size), in_place),
            Some(&(_, in_place)) => (stream.len(), in_place),
            None => (stream.len(), false),
        };
        let end = stream.len().min(at + size);
        pipelined.read(&stream[at..end], in_place);
        at = end;
    }
    if pipelined.events != events {
        let same = events
            .iter()
            .zip(&pipelined.events)
            .take_while(|(a, b)| a == b)
            .count();
        panic!(
            "the same bytes in other reads give other events, from event {same}:\n  item by item: {:?}\n  in reads:     {:?}",
            events.get(same..(same + 3).min(events.len())),
            pipelined.events.get(same..(same + 3).min(pipelined.events.len()))
        );
    }
}

/// Run one: each item on its own, checked against the model. Returns the
/// bytes sent and the events.
fn item_by_item(config: &Arc<Config>, input: &BdatInput) -> (Vec<u8>, Vec<Event>) {
    let mut harness = Harness::new(config, input);
    let mut model = Model::default();
    let mut stream = Vec::new();
    let mut events = Vec::new();
    for item in &input.items {
        if harness.closed {
            break;
        }
        let Some(sent) = render(item, config.lmtp) else {
            continue;
        };
        let line = String::from_utf8_lossy(&sent.line[..sent.line.len() - 2]).into_owned();
        let verb = verb_of(&line);
        // The line, and a BDAT's chunk with it (pipelined).
        let mut bytes = sent.line.clone();
        if let Some(chunk) = &sent.chunk {
            bytes.extend_from_slice(chunk);
        }
        harness.read(&bytes, false);
        stream.extend_from_slice(&bytes);
        let first = std::mem::take(&mut harness.events);
        let decisions = std::mem::take(&mut harness.decisions);
        check_one_command(&line, &first, &harness);
        let answers: Vec<&Answer> = answers(&first).collect();
        let units = answers.iter().filter(|a| a.is_unit()).count();
        let first_reply = match answers.first() {
            Some(Answer::Reply(reply)) => Some(reply.code()),
            _ => None,
        };
        let positive = first_reply.is_some_and(|code| (200..300).contains(&code));
        // A reply under 400 to RCPT still adds the recipient.
        let accepted = first_reply.is_some_and(|code| code < 400);
        events.extend(first.iter().cloned());

        if let Some(chunk) = &sent.chunk {
            check_bdat(
                config,
                &line,
                chunk,
                sent.valid_bdat,
                &decisions,
                &first,
                &mut model,
                units,
            );
        } else if let Some((section, message)) = &sent.data {
            assert_eq!(units, 1, "DATA got {units} answers: {first:?}");
            if first_reply == Some(354) && !harness.closed {
                assert!(
                    model.chunks.is_empty(),
                    "DATA accepted while BDAT chunks are held"
                );
                harness.read(section, false);
                stream.extend_from_slice(section);
                let rest = std::mem::take(&mut harness.events);
                let decisions = std::mem::take(&mut harness.decisions);
                let commands = rest
                    .iter()
                    .filter(|e| matches!(e, Event::Asked(Question::Command(_))))
                    .count();
                assert_eq!(
                    commands, 0,
                    "a DATA section's bytes were taken for commands: {rest:?}"
                );
                check_final_answers(config, &rest, &decisions, model.recipients, Some(message));
                events.extend(rest);
                model.new_transaction();
            }
        } else {
            assert_eq!(units, 1, "{line:?} got {units} answers: {first:?}");
            match verb.as_str() {
                "MAIL" | "RSET" | "HELO" | "EHLO" | "LHLO" if positive => model.new_transaction(),
                "RCPT" if accepted => model.recipients += 1,
                _ => {}
            }
        }
        if !harness.closed {
            assert!(
                harness.pending.is_empty(),
                "{} bytes left unused after {line:?}",
                harness.pending.len()
            );
            assert_eq!(harness.session.state(), State::Command, "after {line:?}");
        }
    }
    (stream, events)
}

fn answers(events: &[Event]) -> impl Iterator<Item = &Answer> {
    events.iter().filter_map(|e| match e {
        Event::Answer(answer) => Some(answer),
        Event::Asked(_) => None,
    })
}

/// The line is the only command the handler was asked about (when the
/// server can read it as one).
fn check_one_command(line: &str, events: &[Event], harness: &Harness<'_>) {
    let commands: Vec<&Question> = events
        .iter()
        .filter_map(|e| match e {
            Event::Asked(question @ Question::Command(_)) => Some(question),
            _ => None,
        })
        .collect();
    let readable = !line.contains('\0') && !line.is_empty();
    let expected = usize::from(readable);
    if commands.len() != expected && !(harness.closed && commands.len() < expected) {
        panic!(
            "{line:?} made the handler see {} commands: {commands:?}",
            commands.len()
        );
    }
}

/// A BDAT line and its chunk.
#[allow(clippy::too_many_arguments)]
fn check_bdat(
    config: &Config,
    line: &str,
    chunk: &[u8],
    valid: Option<bool>,
    decisions: &[(Question, Decision)],
    events: &[Event],
    model: &mut Model,
    units: usize,
) {
    let on_line = decisions.iter().find_map(|(question, decision)| match question {
        Question::Command(_) => Some(unwrapped(question, decision)),
        _ => None,
    });
    let proceeds = matches!(on_line, Some(Decision::Proceed));
    let answers: Vec<&Answer> = answers(events).collect();
    let code = match answers.first() {
        Some(Answer::Reply(reply)) => Some(reply.code()),
        _ => None,
    };
    let Some(last) = valid.filter(|_| proceeds && config.chunking) else {
        // Refused, answered by the handler, or bad syntax: one answer, and
        // the chunk is gone (checked by the caller: no command from it).
        assert_eq!(units, 1, "{line:?} got {units} answers: {events:?}");
        return;
    };
    if !last {
        assert_eq!(units, 1, "{line:?} got {units} answers: {events:?}");
        match code {
            Some(200..=299) => model.chunks.extend_from_slice(chunk),
            Some(552) => model.new_transaction(),
            _ => {}
        }
        return;
    }
    let mut expected = std::mem::take(&mut model.chunks);
    expected.extend_from_slice(chunk);
    check_final_answers(config, events, decisions, model.recipients, Some(&expected));
    model.new_transaction();
}

/// The final answers to a message: one, or in LMTP one per recipient; a
/// message asked about is `expected`.
fn check_final_answers(
    config: &Config,
    events: &[Event],
    decisions: &[(Question, Decision)],
    recipients: usize,
    expected: Option<&[u8]>,
) {
    let units = answers(events).filter(|a| a.is_unit()).count();
    let mut on_message = None;
    for (question, decision) in decisions {
        if let Question::Message(message) = question {
            if let Some(expected) = expected {
                if message.data != expected {
                    panic!(
                        "the message is not what was sent:\n  session: {:?}\n  sent:    {:?}",
                        String::from_utf8_lossy(&message.data),
                        String::from_utf8_lossy(expected)
                    );
                }
            }
            assert_eq!(message.rcpt_tos().len(), recipients, "recipients of the message");
            on_message = Some(unwrapped(question, decision));
        }
    }
    let one_answer = matches!(on_message, Some(Decision::Raw(_) | Decision::Disconnect(_)));
    let wanted = if config.lmtp && recipients > 0 && !one_answer {
        recipients
    } else {
        1
    };
    if units != wanted {
        panic!("{units} final answers, not {wanted} ({recipients} recipients): {events:?}");
    }
}
