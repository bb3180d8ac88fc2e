//! The channel (the reference's `SMTPChannel`) as a sans-I/O state machine.
//!
//! Feed it the bytes a client sent with [`Session::receive`]; it answers with
//! [`Step`]s: a reply to write, a question for the handler, a message that
//! was accepted, or the end of the session. It never touches a socket or a
//! clock, so every rule here is testable without a network.
//!
//! ```
//! use std::sync::Arc;
//! use smtp_fixture::protocol::{Decision, Session, Step};
//! use smtp_fixture::Config;
//!
//! let mut session = Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
//! let Step::Ask(question) = session.start() else { unreachable!() };
//! let Step::Reply(greeting) = session.resolve(question, Decision::Proceed) else { unreachable!() };
//! assert_eq!(greeting.code(), 220);
//!
//! let progress = session.receive(b"NOOP\r\n");
//! assert_eq!(progress.used, 6);
//! let Some(Step::Ask(question)) = progress.step else { unreachable!() };
//! let Step::Reply(reply) = session.resolve(question, Decision::Proceed) else { unreachable!() };
//! assert_eq!(reply.to_string(), "250 OK");
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

#[cfg(test)]
mod bdat_tests;
mod chunking;
mod lmtp;
mod security;
#[cfg(test)]
mod tests;
mod transaction;

use super::address::parse_path;
use super::auth::{Credentials, Exchange};
use super::chunking::ChunkedBody;
use super::command::{supported_commands, Command, Verb};
use super::config::{Config, AUTH_LINE_LIMIT};
use super::data::DataDecoder;
use super::dsn::{MailDsn, RecipientDsn};
use super::envelope::{AuthInfo, Envelope, Message, SessionInfo};
use super::extension::{ehlo_reply_for, mail_line_limit, rcpt_line_limit};
use super::reply::{replies, Reply};

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Write the reply, then go on feeding input.
    Reply(Reply),
    /// Let the handler decide, then pass its [`Decision`] (and the question)
    /// to [`Session::resolve`].
    Ask(Question),
    /// Write the reply and make sure it reached the client; only then is
    /// the message delivered (handed to the handler as accepted).
    Accepted(Reply, Box<Message>),
    /// Write the reply, if any, then close the connection.
    Close(Option<Reply>),
    /// Write these bytes as they are (a scripted garbled reply), then go on
    /// feeding input.
    Raw(Vec<u8>),
    /// Write the reply (`220`), discard any input already received, run the
    /// TLS handshake, then call [`Session::tls_started`] (or close if the
    /// handshake fails).
    StartTls(Reply),
    /// Carry out the step with a fault below SMTP: the link misbehaves
    /// (see [`LinkFault`]).
    Fault(LinkFault, Box<Step>),
    /// Nothing to write: go on feeding input (a `BDAT` chunk is being
    /// read; its reply comes at its end).
    Continue,
    /// LMTP's final answer to a message (RFC 2033, 4.2): write every reply,
    /// one per recipient in RCPT order. With a message (some recipient got
    /// a 2xx; its envelope holds only those), make sure the replies reached
    /// the client, then deliver it, as for [`Step::Accepted`].
    PerRecipient(Vec<Reply>, Option<Box<Message>>),
}

/// A fault of the connection under the SMTP dialogue, for testing how a
/// client copes with a bad link. The session only passes it on: the code
/// that owns the socket carries it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkFault {
    /// Write what is due at this many bytes a second.
    Throttle {
        /// The rate, at least 1.
        bytes_per_second: u32,
    },
    /// Write only the first `bytes` of what is due, then close.
    CutAfter {
        /// How many bytes get out.
        bytes: usize,
    },
    /// Close with a TCP reset instead of writing anything.
    Reset,
    /// Write what is due, then read nothing more: the client's writes
    /// stall once the socket buffers are full.
    StopReading,
    /// Write nothing and read nothing, until the client gives up or the
    /// idle timeout ends the session (an accepted connection that is never
    /// greeted).
    Silence,
}

/// A point where the handler may change what the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// A client connected; the greeting is next.
    Connect,
    /// Any command line, known or not, before the server handles it. A
    /// reply here replaces the command entirely (how users add commands).
    Command(Command),
    /// A valid HELO (`extended: false`) or EHLO.
    Helo {
        /// The name the client gave.
        name: String,
        /// EHLO rather than HELO.
        extended: bool,
    },
    /// A valid `MAIL FROM`, before the transaction starts.
    Mail {
        /// The reverse path (`<>` for the null path).
        address: String,
        /// Its parameters, upper-cased.
        params: Vec<String>,
    },
    /// A valid `RCPT TO`, before the recipient is added.
    Rcpt {
        /// The forward path.
        address: String,
        /// Its parameters, upper-cased.
        params: Vec<String>,
    },
    /// A valid `DATA`, before the `354`.
    Data,
    /// The message is complete: `process_message` decides the final reply.
    Message(Box<Message>),
    /// The client presented credentials: accept (`Proceed`) or refuse.
    Auth(Credentials),
}

/// The handler's answer to a [`Question`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Behave normally.
    Proceed,
    /// Answer with this reply. A 2xx/3xx reply to HELO, MAIL, RCPT, DATA or
    /// the message still does what the command asks; any other code
    /// refuses it. For [`Question::Command`] the reply replaces the command.
    Reply(Reply),
    /// Close the connection, after the reply if one is given.
    Disconnect(Option<Reply>),
    /// Write these bytes instead of a reply, exactly as given (a garbled or
    /// truncated reply, to test a client's parser); the command is not
    /// carried out and the session goes on.
    Raw(Vec<u8>),
    /// Decide as the inner decision does, and let the link misbehave while
    /// the answer goes out.
    Fault(LinkFault, Box<Decision>),
    /// For [`Question::Message`]: one reply per recipient, in RCPT order
    /// (missing ones are `250 OK`). In LMTP each recipient gets its own
    /// (RFC 2033, 4.2) and the message is delivered to those that got a
    /// 2xx; in SMTP, which has one reply, the first refusal refuses the
    /// whole message. To any other question, the first reply.
    /// [`Decision::with_recipient_reply`] builds one.
    PerRecipient(Vec<Reply>),
}
/// The result of [`Session::receive`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// How many input bytes were used. Keep the others and feed them again,
    /// with whatever arrives next, once `step` is dealt with.
    pub used: usize,
    /// What to do, or `None` when more input is needed.
    pub step: Option<Step>,
}

/// Where the session is in the dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Reading command lines.
    Command,
    /// Reading the message: after `354`, or a `BDAT` chunk.
    Data,
    /// The session is over; input is ignored.
    Closed,
}

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
    Data(DataDecoder),
    /// Reading the bytes of a BDAT chunk.
    Chunk(chunking::ChunkRead),
    Closed,
}

/// One SMTP session, the reference's `SMTPChannel`.
#[derive(Debug)]
pub struct Session {
    config: Arc<Config>,
    info: SessionInfo,
    phase: Phase,
    /// The open transaction, from MAIL to the end of DATA.
    transaction: Option<Transaction>,
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
    /// A session for a client at `peer`; `id` identifies it in logs.
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
            phase: Phase::Command {
                discarding_long_line: false,
            },
            transaction: None,
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
        Step::Ask(Question::Connect)
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
        self.transaction.as_ref().map(|t| &t.envelope)
    }

    /// Where the dialogue is.
    pub fn state(&self) -> State {
        match self.phase {
            Phase::Command { .. } | Phase::Auth { .. } => State::Command,
            Phase::Data(_) | Phase::Chunk(_) => State::Data,
            Phase::Closed => State::Closed,
        }
    }

    /// Bytes received of the message so far: in the DATA section, or in
    /// all BDAT chunks of the transaction.
    pub fn data_received(&self) -> u64 {
        match &self.phase {
            Phase::Data(decoder) => decoder.size(),
            Phase::Chunk(_) => self.chunks_received(),
            _ => 0,
        }
    }

    /// During DATA: the buffer to read the message's next bytes into, with
    /// room for at least `room` more, so that a large message is not copied
    /// on its way (see [`DataDecoder::buffer`](super::data::DataDecoder::buffer)).
    /// `None` outside DATA. Append to it, then call [`Session::data_appended`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smtp_fixture::protocol::{Decision, Session, State, Step};
    /// use smtp_fixture::Config;
    ///
    /// let mut session = Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
    /// # fn answer(session: &mut Session, input: &[u8]) {
    /// #     let mut step = session.receive(input).step;
    /// #     while let Some(Step::Ask(question)) = step { step = Some(session.resolve(question, Decision::Proceed)); }
    /// # }
    /// # let Step::Ask(question) = session.start() else { unreachable!() };
    /// # session.resolve(question, Decision::Proceed);
    /// for line in [&b"HELO client\r\n"[..], b"MAIL FROM:<a@example.com>\r\n", b"RCPT TO:<b@example.com>\r\n", b"DATA\r\n"] {
    ///     answer(&mut session, line);
    /// }
    /// assert_eq!(session.state(), State::Data);
    /// session.data_buffer(4096).unwrap().extend_from_slice(b"Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n");
    /// let (step, rest) = session.data_appended().expect("the message is complete");
    /// assert!(matches!(step, Step::Ask(_)));
    /// assert_eq!(rest, b"QUIT\r\n");
    /// ```
    pub fn data_buffer(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        if matches!(self.phase, Phase::Chunk(_)) {
            return self.chunk_buffer(room);
        }
        match &mut self.phase {
            Phase::Data(decoder) => Some(decoder.buffer(room)),
            _ => None,
        }
    }

    /// Decodes the bytes appended to [`Session::data_buffer`]. When they
    /// complete the message: what to do about it, and the bytes that came
    /// after the terminator (feed them to [`Session::receive`]). `None` while
    /// more of the message is to come.
    pub fn data_appended(&mut self) -> Option<(Step, Vec<u8>)> {
        let (step, rest) = match &mut self.phase {
            Phase::Data(decoder) => {
                let rest = decoder.decode_appended()?;
                (self.finish_data(), rest)
            }
            Phase::Chunk(_) => self.chunk_appended()?,
            _ => return None,
        };
        Some((self.enhanced(step), rest))
    }

    /// Feeds client bytes. Returns how many were used and, when a command
    /// line or the message is complete, what to do about it.
    pub fn receive(&mut self, input: &[u8]) -> Progress {
        let progress = self.receive_inner(input);
        Progress {
            used: progress.used,
            step: progress.step.map(|step| self.enhanced(step)),
        }
    }

    fn receive_inner(&mut self, input: &[u8]) -> Progress {
        match &mut self.phase {
            Phase::Closed => Progress {
                used: input.len(),
                step: None,
            },
            Phase::Data(decoder) => {
                let (used, done) = decoder.feed(input);
                let step = done.then(|| self.finish_data());
                Progress { used, step }
            }
            Phase::Chunk(_) => self.receive_chunk(input),
            Phase::Command { discarding_long_line }
            | Phase::Auth {
                discarding_long_line, ..
            } => {
                let longest = self.config.max_command_line();
                // A CR at the end may start the CRLF: not part of the line yet.
                let partial_line = input.len() - usize::from(input.ends_with(b"\r"));
                match find_crlf(input) {
                    Some(end) if *discarding_long_line => {
                        // An over-long AUTH response ends the exchange too:
                        // what follows is a command again.
                        self.phase = Phase::Command {
                            discarding_long_line: false,
                        };
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
                        // Drop the bytes of an over-long line as they come,
                        // keeping a CR that may start the CRLF.
                        *discarding_long_line = true;
                        Progress {
                            used: partial_line,
                            step: None,
                        }
                    }
                    None => Progress { used: 0, step: None },
                }
            }
        }
    }

    /// Continues after the handler answered `question`.
    pub fn resolve(&mut self, question: Question, decision: Decision) -> Step {
        let step = self.resolve_inner(question, decision);
        self.enhanced(step)
    }

    /// With ENHANCEDSTATUSCODES on, adds RFC 3463 codes to the replies that
    /// RFC 2034 wants them on: not the greeting, not HELO/EHLO, not 3xx.
    fn enhanced(&mut self, step: Step) -> Step {
        let exempt = std::mem::take(&mut self.reply_exempt_from_status);
        if !self.config.announces_enhanced_status_codes() || exempt {
            return step;
        }
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
            other @ (Step::Ask(_) | Step::Raw(_) | Step::Continue) => other,
        }
    }

    fn resolve_inner(&mut self, question: Question, decision: Decision) -> Step {
        let reply = match decision {
            Decision::Fault(fault, decision) => {
                let step = self.resolve_inner(question, *decision);
                return Step::Fault(fault, Box::new(step));
            }
            Decision::Disconnect(reply) => return self.close(reply),
            Decision::Raw(bytes) => return Step::Raw(bytes),
            Decision::PerRecipient(replies) => return self.per_recipient_answer(question, replies),
            Decision::Reply(reply) => Some(reply),
            Decision::Proceed => None,
        };
        let goes_ahead = reply.as_ref().is_none_or(|r| r.code() < 400);
        match question {
            Question::Connect => self.greet(reply),
            Question::Command(command) => match reply {
                Some(reply) => self.replace_command(&command, reply),
                None => self.dispatch(command),
            },
            Question::Auth(credentials) => match reply {
                Some(reply) if !reply.is_positive() => Step::Reply(reply),
                reply => {
                    self.info.auth = Some(AuthInfo {
                        mechanism: credentials.mechanism().name().to_string(),
                        username: credentials.username().to_string(),
                    });
                    Step::Reply(reply.unwrap_or_else(|| Reply::new(235, "2.7.0 Authentication successful")))
                }
            },
            Question::Message(message) => self.message_answer(message, reply),
            _ if !goes_ahead => Step::Reply(reply.unwrap_or_else(replies::ok)),
            Question::Helo { name, extended } => {
                self.reply_exempt_from_status = true;
                self.transaction = None;
                self.info.helo = name;
                self.info.extended = extended;
                let normal = if extended {
                    ehlo_reply_for(&self.config, self.info.tls.is_some())
                } else {
                    Reply::new(250, &self.config.hostname)
                };
                Step::Reply(reply.unwrap_or(normal))
            }
            Question::Mail { address, params } => {
                self.recipient_params.clear();
                self.transaction = Some(Transaction {
                    envelope: Envelope {
                        mail_from: address,
                        mail_options: params,
                        dsn: std::mem::take(&mut self.pending_mail_dsn),
                        ..Envelope::default()
                    },
                    body: None,
                });
                Step::Reply(reply.unwrap_or_else(replies::ok))
            }
            Question::Rcpt { address, params } => {
                if let Some(transaction) = &mut self.transaction {
                    self.recipient_params.push(params.len());
                    transaction.envelope.rcpt_to.push(address);
                    transaction.envelope.rcpt_options.extend(params);
                    transaction.envelope.rcpt_dsn.extend(self.pending_rcpt_dsn.take());
                }
                Step::Reply(reply.unwrap_or_else(replies::ok))
            }
            Question::Data => {
                self.phase = Phase::Data(DataDecoder::new(self.config.data_size_limit));
                Step::Reply(reply.unwrap_or_else(replies::start_data))
            }
        }
    }

    fn greet(&mut self, reply: Option<Reply>) -> Step {
        self.reply_exempt_from_status = true;
        let Some(reply) = reply else {
            let text = format!("{} {}", self.config.hostname, self.config.banner);
            return Step::Reply(Reply::new(220, text));
        };
        match reply.code() {
            421 => self.close(Some(reply)),
            554 => {
                self.refused = true;
                Step::Reply(reply)
            }
            _ => Step::Reply(reply),
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

    fn command_line(&mut self, line: &[u8]) -> Step {
        // Checked first so that the reply does not depend on whether the
        // line arrived in one piece or was discarded as it came.
        if line.len() > self.config.max_command_line() {
            return self.refuse(replies::line_too_long());
        }
        if line.is_empty() {
            return self.refuse(replies::bad_syntax());
        }
        if line.contains(&0) {
            return self.refuse(replies::nul_in_command());
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return self.refuse(replies::not_utf8_command());
        };
        let command = Command::parse(text);
        let limit = match command.verb {
            Some(Verb::Mail) if self.info.extended => mail_line_limit(&self.config),
            Some(Verb::Rcpt) if self.info.extended => rcpt_line_limit(&self.config),
            // An initial response (an OAuth2 bearer token) is often longer
            // than 512 bytes; RFC 4954, 4 allows AUTH lines of 12 288.
            Some(Verb::Auth) if !self.config.auth_mechanisms.is_empty() => {
                AUTH_LINE_LIMIT.max(self.config.command_size_limit)
            }
            _ => self.config.command_size_limit,
        };
        if line.len() > limit {
            return self.refuse(replies::line_too_long());
        }
        Step::Ask(Question::Command(command))
    }

    fn dispatch(&mut self, command: Command) -> Step {
        let Some(verb) = command.verb else {
            return self.refuse(replies::unknown_command(&command.name));
        };
        if self.refused && verb != Verb::Quit {
            return self.refuse(Reply::new(503, "Error: no service, send QUIT"));
        }
        let arg = command.arg.as_deref();
        match verb {
            Verb::Helo | Verb::Ehlo | Verb::Lhlo => self.greeting_command(verb, arg),
            Verb::Mail | Verb::Rcpt | Verb::Data if self.lhlo_missing() => self.refuse(replies::need_lhlo()),
            Verb::Mail => self.mail(arg),
            Verb::Rcpt => self.rcpt(arg),
            Verb::Data => self.data(arg),
            Verb::Noop | Verb::Rset if arg.is_some() => self.syntax_error(verb),
            Verb::Noop => Step::Reply(replies::ok()),
            Verb::Rset => {
                self.transaction = None;
                Step::Reply(replies::ok())
            }
            Verb::Quit => self.close(Some(replies::bye())),
            Verb::Help => self.help_in_protocol(arg),
            Verb::Vrfy => match arg {
                None => self.syntax_error(verb),
                Some(arg) if parse_path(arg).is_some() => Step::Reply(replies::cannot_vrfy()),
                Some(arg) => self.refuse(replies::could_not_vrfy(arg)),
            },
            Verb::Expn => self.refuse(replies::expn_not_implemented()),
            Verb::StartTls => self.starttls(&command),
            Verb::Auth => self.auth(&command),
            Verb::Bdat => self.bdat(arg),
        }
    }

    /// The handler answered a command line in its place. A BDAT chunk is
    /// still read (and dropped), so that its bytes are not taken for
    /// commands.
    fn replace_command(&mut self, command: &Command, reply: Reply) -> Step {
        let bdat = (command.verb == Some(Verb::Bdat) && self.config.chunking)
            .then(|| super::chunking::Bdat::parse(command.arg.as_deref()).ok())
            .flatten();
        match bdat {
            Some(bdat) => self.read_chunk(bdat, Some(reply)),
            None => Step::Reply(reply),
        }
    }

    fn syntax_error(&mut self, verb: Verb) -> Step {
        let usage = verb.usage(self.info.extended).unwrap_or_default();
        self.refuse(Reply::new(501, format!("Syntax: {usage}")))
    }

    fn help(&mut self, arg: Option<&str>) -> Step {
        let Some(arg) = arg else {
            return Step::Reply(Reply::new(250, supported_commands()));
        };
        let usage = Verb::from_name(&arg.to_uppercase())
            .filter(|&verb| verb != Verb::Bdat || self.config.chunking)
            .and_then(|v| v.usage(self.info.extended));
        match usage {
            Some(usage) => Step::Reply(Reply::new(250, format!("Syntax: {usage}"))),
            None => self.refuse(Reply::new(501, supported_commands())),
        }
    }

    fn helo(&mut self, verb: Verb, arg: Option<&str>) -> Step {
        let Some(name) = arg else {
            return self.syntax_error(verb);
        };
        if !self.info.helo.is_empty() {
            return self.refuse(replies::duplicate_helo());
        }
        Step::Ask(Question::Helo {
            name: name.to_string(),
            extended: verb != Verb::Helo,
        })
    }
}

/// Where the first CRLF starts. Cheaper than building a `memmem` searcher
/// for every short command line.
fn find_crlf(input: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', input)
        .find(|&i| i > 0 && input[i - 1] == b'\r')
        .map(|i| i - 1)
}
