//! The channel (the reference's `SMTPChannel`) as a sans-I/O state machine.
//!
//! Feed it the bytes a client sent with [`Session::receive`]; it answers with
//! [`Step`]s: a reply to write, a question for the handler, a message that
//! was accepted, or the end of the session. It never touches a socket or a
//! clock, so every rule here is testable without a network.
//!
//! ```
//! use std::sync::Arc;
//! use smtp_fixture::protocol::{Decision, Question, Session, Step};
//! use smtp_fixture::protocol::Config;
//!
//! let mut session = Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
//! assert_eq!(session.start(), Step::Ask);
//! assert_eq!(session.question(), Some(&Question::Connect));
//! let Step::Reply(greeting) = session.resolve(Decision::Proceed) else { unreachable!() };
//! assert_eq!(greeting.code(), 220);
//!
//! let progress = session.receive(b"NOOP\r\n");
//! assert_eq!(progress.used, 6);
//! assert_eq!(progress.step, Some(Step::Ask));
//! assert!(matches!(session.question(), Some(Question::Command(_))));
//! let Step::Reply(reply) = session.resolve(Decision::Proceed) else { unreachable!() };
//! assert_eq!(reply.to_string(), "250 OK");
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

#[cfg(test)]
mod bdat_tests;
mod chunking;
mod commands;
mod lmtp;
mod security;
mod step;
#[cfg(test)]
mod test_driver;
#[cfg(test)]
mod tests;
mod transaction;

pub use step::{Decision, LinkFault, Progress, Question, State, Step};

use super::auth::Exchange;
use super::chunking::ChunkedBody;
use super::config::Config;
use super::data::DataDecoder;
use super::dsn::{MailDsn, RecipientDsn};
use super::envelope::{Envelope, SessionInfo};
use super::reply::{replies, Reply};

#[derive(Debug)]
enum Phase {
    Command {
        discarding_long_line: bool,
    },
    /// Reading the client's responses to AUTH challenges.
    Auth {
        discarding_long_line: bool,
        exchange: Exchange,
    },
    /// Reading the message after `354`; the transaction is in here, so
    /// that a message always has one.
    Data(DataDecoder, Transaction),
    /// Reading the bytes of a BDAT chunk.
    Chunk(chunking::ChunkRead),
    Closed,
}

impl Phase {
    /// Reading command lines from the start of the next one.
    fn commands() -> Phase {
        Phase::Command {
            discarding_long_line: false,
        }
    }
}

/// One SMTP session, the reference's `SMTPChannel`.
#[derive(Debug)]
pub struct Session {
    config: Arc<Config>,
    info: SessionInfo,
    phase: Phase,
    /// The question asked with the last [`Step::Ask`], until it is
    /// resolved. Kept here so that a caller can answer only what the
    /// session asked.
    question: Option<Question>,
    /// The open transaction, from MAIL to the end of DATA (during DATA it
    /// is in the phase).
    transaction: Option<Transaction>,
    /// STARTTLS is offered (by a caller that can run the handshake).
    starttls: bool,
    /// A 554 greeting: only QUIT is served (RFC 5321, 3.1).
    refused: bool,
    /// The next reply is the greeting or a HELO/EHLO reply, which carry no
    /// enhanced status code (RFC 2034, 3).
    reply_exempt_from_status: bool,
    invalid_commands: usize,
    /// The DSN parameters of the MAIL or RCPT the handler is being asked
    /// about, for the envelope once it proceeds.
    pending_mail_dsn: MailDsn,
    pending_rcpt_dsn: Option<RecipientDsn>,
    /// How many parameters each accepted RCPT of the transaction had, so
    /// that LMTP can deliver a message to some recipients only.
    recipient_params: Vec<usize>,
}

#[derive(Debug)]
struct Transaction {
    envelope: Envelope,
    /// The message so far, once a BDAT chunk was accepted.
    body: Option<ChunkedBody>,
}

impl Session {
    /// A session for a client at `peer`; `id` identifies it in logs. Its
    /// first question, [`Question::Connect`], is pending (see
    /// [`Session::start`]).
    pub fn new(config: Arc<Config>, id: u64, peer: SocketAddr) -> Session {
        let info = SessionInfo {
            id,
            peer,
            proxy: None,
            hostname: config.hostname.clone(),
            helo: String::new(),
            extended: false,
            tls: None,
            auth: None,
        };
        Session {
            config,
            info,
            phase: Phase::commands(),
            question: Some(Question::Connect),
            transaction: None,
            starttls: false,
            refused: false,
            reply_exempt_from_status: false,
            invalid_commands: 0,
            pending_mail_dsn: MailDsn::default(),
            pending_rcpt_dsn: None,
            recipient_params: Vec::new(),
        }
    }

    /// The session of a connection that came through the proxy at `proxy`
    /// (PROXY protocol); `peer` given to [`Session::new`] is the client the
    /// proxy named.
    #[must_use]
    pub fn behind_proxy(mut self, proxy: SocketAddr) -> Session {
        self.info.proxy = Some(proxy);
        self
    }

    /// The first step: ask the handler about the connection (then the
    /// greeting follows).
    pub fn start(&self) -> Step {
        Step::Ask
    }

    /// The question the last [`Step::Ask`] asked, until it is resolved.
    pub fn question(&self) -> Option<&Question> {
        self.question.as_ref()
    }

    /// The facts about this session.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The configuration the session runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The envelope of the open transaction (after MAIL), if any.
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.phase {
            Phase::Data(_, transaction) => Some(&transaction.envelope),
            _ => self.transaction.as_ref().map(|t| &t.envelope),
        }
    }

    /// Where the dialogue is.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Command { .. } | Phase::Auth { .. } => State::Command,
            Phase::Data(..) | Phase::Chunk(_) => State::Data,
            Phase::Closed => State::Closed,
        }
    }

    /// Bytes received of the message so far: in the DATA section, or in
    /// all BDAT chunks of the transaction.
    pub fn data_received(&self) -> u64 {
        match &self.phase {
            Phase::Data(decoder, _) => decoder.size(),
            Phase::Chunk(_) => self.chunks_received(),
            _ => 0,
        }
    }

    /// During DATA: the buffer to read the message's next bytes into, with
    /// room for at least `room` more, so that a large message is not copied
    /// on its way. `None` outside DATA. Append to it, then call
    /// [`Session::data_appended`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smtp_fixture::protocol::{Decision, Question, Session, State, Step};
    /// use smtp_fixture::protocol::Config;
    ///
    /// let mut session = Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
    /// # fn answer(session: &mut Session, input: &[u8]) {
    /// #     let mut step = session.receive(input).step;
    /// #     while let Some(Step::Ask) = step { step = Some(session.resolve(Decision::Proceed)); }
    /// # }
    /// # let _greeting = session.resolve(Decision::Proceed);
    /// for line in [&b"HELO client\r\n"[..], b"MAIL FROM:<a@example.com>\r\n", b"RCPT TO:<b@example.com>\r\n", b"DATA\r\n"] {
    ///     answer(&mut session, line);
    /// }
    /// assert_eq!(session.state(), State::Data);
    /// session.data_buffer(4096).unwrap().extend_from_slice(b"Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    /// let (step, rest) = session.data_appended().expect("the message is complete");
    /// assert_eq!(step, Step::Ask);
    /// assert!(matches!(session.question(), Some(Question::Message(_))));
    /// assert_eq!(rest, b"QUIT\r\n");
    /// ```
    pub fn data_buffer(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        if matches!(self.phase, Phase::Chunk(_)) {
            return self.chunk_buffer(room);
        }
        match &mut self.phase {
            Phase::Data(decoder, _) => Some(decoder.buffer(room)),
            _ => None,
        }
    }

    /// Decodes the bytes appended to [`Session::data_buffer`]. When they
    /// complete the message: what to do about it, and the bytes that came
    /// after the terminator (feed them to [`Session::receive`]). `None` while
    /// more of the message is to come.
    #[must_use]
    pub fn data_appended(&mut self) -> Option<(Step, Vec<u8>)> {
        let (step, rest) = match &mut self.phase {
            Phase::Data(decoder, _) => {
                let rest = decoder.decode_appended()?;
                (self.finish_data(), rest)
            }
            Phase::Chunk(_) => self.chunk_appended()?,
            _ => return None,
        };
        Some((self.enhanced(step), rest))
    }

    /// Feeds client bytes. Returns how many were used and, when a command
    /// line or the message is complete, what to do about it. While a
    /// question is pending nothing is used: the step is [`Step::Ask`] again.
    pub fn receive(&mut self, input: &[u8]) -> Progress {
        if self.question.is_some() {
            return Progress {
                used: 0,
                step: Some(Step::Ask),
            };
        }
        let progress = match &mut self.phase {
            Phase::Closed => Progress {
                used: input.len(),
                step: None,
            },
            Phase::Data(decoder, _) => {
                let (used, done) = decoder.feed(input);
                let step = done.then(|| self.finish_data());
                Progress { used, step }
            }
            Phase::Chunk(_) => self.receive_chunk(input),
            Phase::Command { .. } | Phase::Auth { .. } => self.receive_line(input),
        };
        Progress {
            used: progress.used,
            step: progress.step.map(|step| self.enhanced(step)),
        }
    }

    /// Takes a complete command line (or AUTH response) from `input`, or
    /// drops the bytes of one that is too long as they come.
    fn receive_line(&mut self, input: &[u8]) -> Progress {
        let longest = self.config.max_command_line();
        let (Phase::Command { discarding_long_line }
        | Phase::Auth {
            discarding_long_line, ..
        }) = &mut self.phase
        else {
            return Progress { used: 0, step: None };
        };
        // A CR at the end may start the CRLF: not part of the line yet.
        let partial_line = input.len() - usize::from(input.ends_with(b"\r"));
        match find_crlf(input) {
            Some(end) if *discarding_long_line => {
                // An over-long AUTH response ends the exchange too: what
                // follows is a command again.
                self.phase = Phase::commands();
                let step = self.refuse(replies::line_too_long());
                Progress {
                    used: end + 2,
                    step: Some(step),
                }
            }
            Some(end) => Progress {
                used: end + 2,
                step: Some(self.line(&input[..end])),
            },
            None if *discarding_long_line || partial_line > longest => {
                // Drop the bytes of an over-long line as they come, keeping
                // a CR that may start the CRLF.
                *discarding_long_line = true;
                Progress {
                    used: partial_line,
                    step: None,
                }
            }
            None => Progress { used: 0, step: None },
        }
    }

    /// Carries out the handler's answer to the pending [`Session::question`].
    /// With no question pending there is nothing to carry out: the step is
    /// [`Step::Continue`].
    pub fn resolve(&mut self, decision: Decision) -> Step {
        let Some(question) = self.question.take() else {
            return Step::Continue;
        };
        let step = self.answer(question, decision);
        self.enhanced(step)
    }

    /// Asks the handler `question`: it is pending until resolved.
    fn ask(&mut self, question: Question) -> Step {
        self.question = Some(question);
        Step::Ask
    }

    /// What `decision` does to `question`.
    fn answer(&mut self, question: Question, decision: Decision) -> Step {
        let reply = match decision {
            Decision::Fault(fault, decision) => {
                let step = self.answer(question, *decision);
                return Step::Fault(fault, Box::new(step));
            }
            Decision::Disconnect(reply) => return self.close(reply),
            Decision::Raw(bytes) => return self.raw_answer(question, bytes),
            Decision::PerRecipient(replies) => return self.per_recipient_answer(question, replies),
            Decision::Reply(reply) => Some(reply),
            Decision::Proceed => None,
        };
        let reply = match reply {
            Some(refusal) if refusal.code() >= 400 && refusal_changes_nothing(&question) => {
                return Step::Reply(refusal)
            }
            reply => reply,
        };
        match question {
            Question::Connect => self.greet(reply),
            Question::Command(command) => match reply {
                Some(reply) => self.replace_command(&command, Step::Reply(reply)),
                None => self.dispatch(command),
            },
            Question::Helo { name, extended } => self.accept_helo(name, extended, reply),
            Question::Mail { address, params } => self.start_transaction(address, params, reply),
            Question::Rcpt { address, params } => self.add_recipient(address, params, reply),
            Question::Data => self.start_data(reply),
            Question::Auth(credentials) => self.authenticate(&credentials, reply),
            Question::Message(message) => self.message_answer(message, reply),
        }
    }

    /// With ENHANCEDSTATUSCODES on, adds RFC 3463 codes to the replies that
    /// RFC 2034 wants them on: not the greeting, not HELO/EHLO, not 3xx.
    #[inline]
    fn enhanced(&mut self, step: Step) -> Step {
        let exempt = std::mem::take(&mut self.reply_exempt_from_status);
        if !self.config.announces_enhanced_status_codes() || exempt {
            return step;
        }
        self.add_enhanced_status(step, exempt)
    }

    /// [`Session::enhanced`] once it is known that codes are added; kept
    /// out of line, so that the usual case (off) does not move the step
    /// through a call.
    fn add_enhanced_status(&mut self, step: Step, exempt: bool) -> Step {
        let add = |reply: Reply| match Reply::default_enhanced_status(reply.code()) {
            Some(status) if reply.code() / 100 != 3 => reply.with_enhanced_status(status),
            _ => reply,
        };
        match step {
            Step::Reply(reply) => Step::Reply(add(reply)),
            Step::Accepted(reply, message) => Step::Accepted(add(reply), message),
            Step::Close(reply) => Step::Close(reply.map(add)),
            Step::StartTls(reply) => Step::StartTls(add(reply)),
            Step::PerRecipient(replies, message) => {
                Step::PerRecipient(replies.into_iter().map(add).collect(), message)
            }
            Step::Fault(fault, step) => {
                // The flag was taken above: hand it back for the inner step.
                self.reply_exempt_from_status = exempt;
                Step::Fault(fault, Box::new(self.enhanced(*step)))
            }
            other @ (Step::Ask | Step::Raw(_) | Step::Continue) => other,
        }
    }

    fn close(&mut self, reply: Option<Reply>) -> Step {
        self.phase = Phase::Closed;
        self.transaction = None;
        Step::Close(reply)
    }

    /// A reply that refuses a command, counted towards the session's limit.
    fn refuse(&mut self, reply: Reply) -> Step {
        if (500..=504).contains(&reply.code()) {
            self.invalid_commands += 1;
            let limit = self.config.max_invalid_commands;
            if limit > 0 && self.invalid_commands > limit {
                let hostname = self.config.hostname.clone();
                return self.close(Some(replies::too_many_errors(&hostname)));
            }
        }
        Step::Reply(reply)
    }
}

/// Whether a refusal (4xx, 5xx) of `question` only goes out: HELO, MAIL,
/// RCPT and DATA are then not carried out (a 2xx/3xx reply still does what
/// the command asks). The others decide for themselves what a refusal means.
fn refusal_changes_nothing(question: &Question) -> bool {
    matches!(
        question,
        Question::Helo { .. } | Question::Mail { .. } | Question::Rcpt { .. } | Question::Data
    )
}

/// Where the first CRLF starts. Cheaper than building a `memmem` searcher
/// for every short command line.
fn find_crlf(input: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', input)
        .find(|&i| i > 0 && input[i - 1] == b'\r')
        .map(|i| i - 1)
}
