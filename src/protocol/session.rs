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

use memchr::memmem;

use super::address::{parse_path, Path};
use super::auth::{AuthStep, Credentials, Exchange, Mechanism};
use super::command::{supported_commands, Command, Verb};
use super::config::Config;
use super::config::AUTH_LINE_LIMIT;
use super::data::{DataDecoder, DataOutcome};
use super::envelope::{AuthInfo, Envelope, Message, SessionInfo, TlsInfo};
use super::extension::{ehlo_reply_for, mail_line_limit};
use super::params::{Param, Params};
use super::reply::{replies, Reply};

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Write the reply (`220`), discard any input already received, run the
    /// TLS handshake, then call [`Session::tls_started`] (or close if the
    /// handshake fails).
    StartTls(Reply),
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
pub enum Decision {
    /// Behave normally.
    Proceed,
    /// Answer with this reply. A 2xx/3xx reply to HELO, MAIL, RCPT, DATA or
    /// the message still does what the command asks; any other code
    /// refuses it. For [`Question::Command`] the reply replaces the command.
    Reply(Reply),
    /// Close the connection, after the reply if one is given.
    Disconnect(Option<Reply>),
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
    /// Reading the message after `354`.
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
}

#[derive(Debug)]
struct Transaction {
    envelope: Envelope,
    declared_size: Option<u64>,
}

impl Session {
    /// A session for a client at `peer`; `id` identifies it in logs.
    pub fn new(config: Arc<Config>, id: u64, peer: SocketAddr) -> Session {
        let info = SessionInfo {
            id,
            peer,
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
        }
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
            Phase::Data(_) => State::Data,
            Phase::Closed => State::Closed,
        }
    }

    /// Bytes received in the current DATA section so far.
    pub fn data_received(&self) -> u64 {
        match &self.phase {
            Phase::Data(decoder) => decoder.size(),
            _ => 0,
        }
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
            Phase::Command { discarding_long_line }
            | Phase::Auth {
                discarding_long_line, ..
            } => {
                let longest = self.config.max_command_line();
                // A CR at the end may start the CRLF: not part of the line yet.
                let partial_line = input.len() - usize::from(input.ends_with(b"\r"));
                match memmem::find(input, b"\r\n") {
                    Some(end) if *discarding_long_line => {
                        *discarding_long_line = false;
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
        if !self.config.enhanced_status_codes || exempt {
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
            ask @ Step::Ask(_) => ask,
        }
    }

    fn resolve_inner(&mut self, question: Question, decision: Decision) -> Step {
        let reply = match decision {
            Decision::Disconnect(reply) => return self.close(reply),
            Decision::Reply(reply) => Some(reply),
            Decision::Proceed => None,
        };
        let goes_ahead = reply.as_ref().is_none_or(|r| r.code() < 400);
        match question {
            Question::Connect => self.greet(reply),
            Question::Command(command) => match reply {
                Some(reply) => Step::Reply(reply),
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
            Question::Message(message) => {
                let reply = reply.unwrap_or_else(replies::ok);
                if reply.is_positive() {
                    Step::Accepted(reply, message)
                } else {
                    Step::Reply(reply)
                }
            }
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
                let declared_size = params.iter().find_map(|p| p.strip_prefix("SIZE=")?.parse().ok());
                self.transaction = Some(Transaction {
                    envelope: Envelope {
                        mail_from: address,
                        mail_options: params,
                        ..Envelope::default()
                    },
                    declared_size,
                });
                Step::Reply(reply.unwrap_or_else(replies::ok))
            }
            Question::Rcpt { address, params } => {
                if let Some(transaction) = &mut self.transaction {
                    transaction.envelope.rcpt_to.push(address);
                    transaction.envelope.rcpt_options.extend(params);
                }
                Step::Reply(reply.unwrap_or_else(replies::ok))
            }
            Question::Data => {
                let declared = self.transaction.as_ref().and_then(|t| t.declared_size);
                self.phase = Phase::Data(DataDecoder::new(self.config.data_size_limit, declared));
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
        let limit = if self.info.extended && command.verb == Some(Verb::Mail) {
            mail_line_limit(&self.config)
        } else {
            self.config.command_size_limit
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
            Verb::Helo | Verb::Ehlo => self.helo(verb, arg),
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
            Verb::Help => self.help(arg),
            Verb::Vrfy => match arg {
                None => self.syntax_error(verb),
                Some(arg) if parse_path(arg).is_some() => Step::Reply(replies::cannot_vrfy()),
                Some(arg) => self.refuse(replies::could_not_vrfy(arg)),
            },
            Verb::Expn => self.refuse(replies::expn_not_implemented()),
            Verb::StartTls => self.starttls(&command),
            Verb::Auth => self.auth(&command),
        }
    }

    fn starttls(&mut self, command: &Command) -> Step {
        if !self.config.starttls {
            return self.refuse(replies::unknown_command(&command.name));
        }
        if command.arg.is_some() {
            return self.syntax_error(Verb::StartTls);
        }
        if self.info.tls.is_some() {
            return self.refuse(Reply::new(503, "5.5.1 Error: TLS already active"));
        }
        Step::StartTls(Reply::new(220, "2.0.0 Ready to start TLS"))
    }

    /// The handshake succeeded: everything the client said before is
    /// forgotten (RFC 3207, 4.2), and it must greet again.
    pub fn tls_started(&mut self, tls: TlsInfo) {
        self.info.tls = Some(tls);
        self.info.helo.clear();
        self.info.extended = false;
        self.info.auth = None;
        self.transaction = None;
        self.phase = Phase::Command {
            discarding_long_line: false,
        };
    }

    fn auth(&mut self, command: &Command) -> Step {
        let mechanisms = &self.config.auth_mechanisms;
        if mechanisms.is_empty() {
            return self.refuse(replies::unknown_command(&command.name));
        }
        let Some(arg) = command.arg.as_deref() else {
            return self.syntax_error(Verb::Auth);
        };
        if !self.info.extended {
            return self.refuse(Reply::new(503, "5.5.1 Error: send EHLO first"));
        }
        if self.info.auth.is_some() {
            return self.refuse(Reply::new(503, "5.5.1 Error: already authenticated"));
        }
        if self.transaction.is_some() {
            return self.refuse(Reply::new(
                503,
                "5.5.1 Error: AUTH not permitted during a mail transaction",
            ));
        }
        if self.info.tls.is_none() && self.config.require_tls {
            return Step::Reply(replies::must_starttls());
        }
        if self.info.tls.is_none() && self.config.auth_requires_tls {
            return Step::Reply(Reply::new(
                538,
                "5.7.11 Encryption required for requested authentication mechanism",
            ));
        }
        let (name, initial) = arg
            .split_once(' ')
            .map_or((arg, None), |(n, i)| (n, Some(i.trim())));
        let Some(mechanism) = Mechanism::from_name(name).filter(|m| mechanisms.contains(m)) else {
            return self.refuse(Reply::new(504, "5.5.4 Unrecognized authentication type"));
        };
        let challenge = format!(
            "<{}.{}@{}>",
            self.info.id, self.invalid_commands, self.config.hostname
        );
        let (exchange, step) = Exchange::start(mechanism, initial, challenge);
        self.auth_step(exchange, step)
    }

    fn auth_step(&mut self, exchange: Exchange, step: AuthStep) -> Step {
        match step {
            AuthStep::Challenge(text) => {
                self.phase = Phase::Auth {
                    discarding_long_line: false,
                    exchange,
                };
                Step::Reply(Reply::new(334, text))
            }
            AuthStep::Done(credentials) => {
                self.phase = Phase::Command {
                    discarding_long_line: false,
                };
                Step::Ask(Question::Auth(credentials))
            }
            AuthStep::Failed(reply) => {
                self.phase = Phase::Command {
                    discarding_long_line: false,
                };
                self.refuse(reply)
            }
        }
    }

    /// A complete line: a command, or a response during AUTH.
    fn line(&mut self, line: &[u8]) -> Step {
        let Phase::Auth { exchange, .. } = &mut self.phase else {
            return self.command_line(line);
        };
        let mut exchange = exchange.clone();
        let step = match std::str::from_utf8(line) {
            Ok(text) if line.len() <= AUTH_LINE_LIMIT => exchange.respond(text),
            _ => AuthStep::Failed(Reply::new(501, "5.5.2 Error: malformed authentication response")),
        };
        self.auth_step(exchange, step)
    }

    fn syntax_error(&mut self, verb: Verb) -> Step {
        let usage = verb.usage(self.info.extended).unwrap_or_default();
        self.refuse(Reply::new(501, format!("Syntax: {usage}")))
    }

    fn help(&mut self, arg: Option<&str>) -> Step {
        let Some(arg) = arg else {
            return Step::Reply(Reply::new(250, supported_commands()));
        };
        let usage = Verb::from_name(&arg.to_uppercase()).and_then(|v| v.usage(self.info.extended));
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
            extended: verb == Verb::Ehlo,
        })
    }

    /// Reads `FROM:<path>` / `TO:<path>` as the reference does; `None` means
    /// the command's 501 syntax reply. Whatever follows the path (in
    /// `Path::rest`) is only allowed after EHLO.
    fn path<'a>(&self, keyword: &str, arg: Option<&'a str>) -> Option<Path<'a>> {
        let arg = arg?;
        let head = arg.get(..keyword.len())?;
        if !head.eq_ignore_ascii_case(keyword) {
            return None;
        }
        let path = parse_path(&arg[keyword.len()..])?;
        if !self.info.extended && !path.rest.is_empty() {
            return None;
        }
        Some(path)
    }

    fn mail(&mut self, arg: Option<&str>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        if self.config.require_tls && self.info.tls.is_none() {
            return Step::Reply(replies::must_starttls());
        }
        if self.config.require_auth && self.info.auth.is_none() {
            return Step::Reply(Reply::new(530, "5.7.0 Authentication required"));
        }
        let Some(path) = self.path("FROM:", arg) else {
            return self.syntax_error(Verb::Mail);
        };
        if self.transaction.is_some() {
            return self.refuse(replies::nested_mail());
        }
        // The reference reads the parameters only now, after the nested
        // MAIL check, into a dict (a later duplicate wins), and judges BODY,
        // SMTPUTF8 and SIZE in that order before anything it does not know.
        let Ok(params) = Params::parse(path.rest) else {
            return self.syntax_error(Verb::Mail);
        };
        let (mut body, mut smtputf8, mut size) = (None, None, None);
        let mut unrecognized = false;
        for param in &params.parsed {
            match param {
                Param::Body(value) if !self.config.decode_data => body = Some(value.as_str()),
                Param::SmtpUtf8(value) if self.config.enable_smtputf8 => smtputf8 = Some(value.is_none()),
                Param::Size(value) => size = Some(Some(*value)),
                Param::Other { keyword, .. } if keyword == "SIZE" => size = Some(None),
                _ => unrecognized = true,
            }
        }
        if body.is_some_and(|body| body != "7BIT" && body != "8BITMIME") {
            return self.refuse(replies::bad_body());
        }
        if smtputf8 == Some(false) {
            return self.refuse(replies::smtputf8_takes_no_arguments());
        }
        if size == Some(None) {
            return self.syntax_error(Verb::Mail);
        }
        let size = size.flatten();
        let limit = self.config.data_size_limit as u64;
        if limit > 0 && size.is_some_and(|size| size > limit) {
            return Step::Reply(replies::size_exceeds_limit());
        }
        if unrecognized {
            return Step::Reply(replies::mail_params_not_recognized());
        }
        if !path.is_ascii() && smtputf8 != Some(true) {
            return Step::Reply(replies::non_ascii_address());
        }
        Step::Ask(Question::Mail {
            address: path.address,
            params: params.raw,
        })
    }

    fn rcpt(&mut self, arg: Option<&str>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        let Some(envelope) = self.envelope() else {
            return self.refuse(replies::need_mail());
        };
        let smtputf8 = envelope.smtputf8();
        let recipients = envelope.rcpt_to.len();
        let Some(path) = self.path("TO:", arg).filter(|path| !path.is_null()) else {
            return self.syntax_error(Verb::Rcpt);
        };
        let Ok(params) = Params::parse(path.rest) else {
            return self.syntax_error(Verb::Rcpt);
        };
        if !params.is_empty() {
            return Step::Reply(replies::rcpt_params_not_recognized());
        }
        if !path.is_ascii() && !smtputf8 {
            return Step::Reply(replies::non_ascii_address());
        }
        let limit = self.config.max_recipients;
        if limit > 0 && recipients >= limit {
            return Step::Reply(replies::too_many_recipients());
        }
        Step::Ask(Question::Rcpt {
            address: path.address,
            params: params.raw,
        })
    }

    fn data(&mut self, arg: Option<&str>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        if self.envelope().is_none_or(|e| e.rcpt_to.is_empty()) {
            return self.refuse(replies::need_rcpt());
        }
        if arg.is_some() {
            return self.syntax_error(Verb::Data);
        }
        Step::Ask(Question::Data)
    }

    fn finish_data(&mut self) -> Step {
        let phase = std::mem::replace(
            &mut self.phase,
            Phase::Command {
                discarding_long_line: false,
            },
        );
        let transaction = self.transaction.take();
        let (Phase::Data(decoder), Some(transaction)) = (phase, transaction) else {
            // Data without a transaction cannot happen: DATA needs one.
            return Step::Reply(Reply::new(451, "Internal confusion"));
        };
        let data = match decoder.finish() {
            DataOutcome::TooLarge => return Step::Reply(replies::too_much_data()),
            DataOutcome::Message(data) => data,
        };
        if self.config.decode_data && std::str::from_utf8(&data).is_err() {
            return Step::Reply(replies::data_not_utf8());
        }
        Step::Ask(Question::Message(Box::new(Message {
            session: self.info.clone(),
            envelope: transaction.envelope,
            data,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The replies to `lines` (after the greeting) from a session that
    /// proceeds at every question, the input arriving `chunk` bytes at a time.
    fn replies_chunked(config: Config, lines: &[&str], chunk: usize) -> Vec<String> {
        let mut session = Session::new(Arc::new(config), 1, "127.0.0.1:2525".parse().unwrap());
        let input: Vec<u8> = lines
            .iter()
            .flat_map(|line| [line.as_bytes(), b"\r\n"].concat())
            .collect();
        let mut chunks = input.chunks(chunk);
        let mut pending = Vec::new();
        let mut out = Vec::new();
        let mut step = Some(session.start());
        // Every round uses input, reads a chunk or ends: bounded by the input.
        for _ in 0..3 * input.len() + 3 {
            match step.take() {
                Some(Step::Ask(question)) => step = Some(session.resolve(question, Decision::Proceed)),
                Some(Step::Reply(reply) | Step::Accepted(reply, _) | Step::StartTls(reply)) => {
                    out.push(reply.to_string())
                }
                Some(Step::Close(reply)) => {
                    out.extend(reply.map(|reply| reply.to_string()));
                    break;
                }
                None => {
                    let progress = session.receive(&pending);
                    pending.drain(..progress.used);
                    step = progress.step;
                    if step.is_none() && progress.used == 0 {
                        match chunks.next() {
                            Some(chunk) => pending.extend_from_slice(chunk),
                            None => break,
                        }
                    }
                }
            }
        }
        out.remove(0);
        out
    }

    fn replies(config: Config, lines: &[&str]) -> Vec<String> {
        replies_chunked(config, lines, usize::MAX)
    }

    #[test]
    fn a_line_of_the_longest_length_may_arrive_in_pieces() {
        // 548 bytes: the longest MAIL line with SIZE and SMTPUTF8; its CR
        // arriving alone must not make it "too long".
        let mail = format!("MAIL FROM:<{}@example>", "a".repeat(528));
        assert_eq!(mail.len(), 548);
        let too_long = format!("MAIL FROM:<{}@example>", "a".repeat(529));
        let config = Config {
            enable_smtputf8: true,
            ..Config::default()
        };
        for chunk in [1, 2, 3, 548, 549, 550, usize::MAX] {
            let replies = replies_chunked(config.clone(), &["EHLO x", &too_long, &mail], chunk);
            assert_eq!(replies[1..], ["500 Error: line too long", "250 OK"], "by {chunk}");
        }
    }

    #[test]
    fn parameters_are_judged_in_the_reference_order() {
        let syntax = "501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]";
        let bad_body = "501 Error: BODY can only be one of 7BIT, 8BITMIME";
        let cases: &[(&[&str], &str)] = &[
            // Nested MAIL is checked before the parameters are read.
            (
                &["MAIL FROM:<a@b>", "MAIL FROM:<a@b> SIZE=abc"],
                "503 Error: nested MAIL command",
            ),
            (
                &["MAIL FROM:<a@b>", "MAIL FROM:<a@b> FOO="],
                "503 Error: nested MAIL command",
            ),
            // BODY, then SMTPUTF8, then SIZE, whatever their order on the line.
            (&["MAIL FROM:<a@b> SMTPUTF8=x BODY=bad"], bad_body),
            (&["MAIL FROM:<a@b> SIZE=abc BODY=bad"], bad_body),
            (
                &["MAIL FROM:<a@b> SIZE=abc SMTPUTF8=x"],
                "501 Error: SMTPUTF8 takes no arguments",
            ),
            (&["MAIL FROM:<a@b> FOO=bar SIZE=abc"], syntax),
            (&["MAIL FROM:<a@b> SIZE"], syntax),
            // A later duplicate wins, as in the reference's dict.
            (&["MAIL FROM:<a@b> BODY=bad BODY=7BIT"], "250 OK"),
            (&["MAIL FROM:<a@b> SIZE=abc SIZE=10"], "250 OK"),
            (&["MAIL FROM:<a@b> SIZE=10 SIZE=abc"], syntax),
            // SIZE is a MAIL parameter: RCPT does not know it at all.
            (
                &["MAIL FROM:<a@b>", "RCPT TO:<c@d> SIZE=abc"],
                "555 RCPT TO parameters not recognized or not implemented",
            ),
            (
                &["MAIL FROM:<a@b>", "RCPT TO:<c@d> SIZE"],
                "555 RCPT TO parameters not recognized or not implemented",
            ),
        ];
        for (lines, last) in cases {
            let config = Config {
                enable_smtputf8: true,
                ..Config::default()
            };
            let input: Vec<&str> = ["EHLO x"].iter().chain(lines.iter()).copied().collect();
            let replies = replies(config, &input);
            assert_eq!(
                replies.last().map(String::as_str),
                Some(*last),
                "{lines:?}: {replies:#?}"
            );
            assert_eq!(replies.len(), input.len(), "{lines:?}: {replies:#?}");
        }
    }
}
