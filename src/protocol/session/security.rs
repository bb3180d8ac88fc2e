//! STARTTLS (RFC 3207) and AUTH (RFC 4954) in the session.

use super::{Phase, Question, Session, Step};
use crate::protocol::auth::{AuthStep, Credentials, Exchange, Mechanism};
use crate::protocol::command::{Command, Verb};
use crate::protocol::config::AUTH_LINE_LIMIT;
use crate::protocol::envelope::{AuthInfo, TlsInfo};
use crate::protocol::reply::{replies, Reply};

impl Session {
    pub(super) fn starttls(&mut self, command: &Command) -> Step {
        if !self.starttls {
            return self.refuse(replies::unknown_command(command.name()));
        }
        if command.arg().is_some() {
            return self.syntax_error(Verb::StartTls);
        }
        if self.info.tls.is_some() {
            return self.refuse(replies::tls_already_active());
        }
        Step::StartTls(replies::ready_to_start_tls())
    }

    /// Offers STARTTLS (RFC 3207): for a caller that can run the TLS
    /// handshake when [`Step::StartTls`] comes. `SmtpServer`
    /// does when it has a certificate.
    #[must_use]
    pub fn offer_starttls(mut self) -> Session {
        self.starttls = true;
        self
    }

    /// Whether STARTTLS is offered (see [`Session::offer_starttls`]).
    pub fn offers_starttls(&self) -> bool {
        self.starttls
    }

    /// The handler let the client's credentials through: the session is
    /// authenticated.
    pub(super) fn authenticate(&mut self, credentials: &Credentials, reply: Option<Reply>) -> Step {
        match reply {
            Some(reply) if !reply.is_positive() => Step::Reply(reply),
            reply => {
                self.info.auth = Some(AuthInfo {
                    mechanism: credentials.mechanism().name().to_string(),
                    username: credentials.username().to_string(),
                });
                Step::Reply(reply.unwrap_or_else(replies::auth_succeeded))
            }
        }
    }

    /// The handshake succeeded: everything the client said before is
    /// forgotten (RFC 3207, 4.2), and it must greet again.
    pub fn tls_started(&mut self, tls: TlsInfo) {
        self.info.tls = Some(tls);
        self.info.helo.clear();
        self.info.extended = false;
        self.info.auth = None;
        self.transaction = None;
        self.phase = Phase::commands();
    }

    pub(super) fn auth(&mut self, command: &Command) -> Step {
        let mechanisms = &self.config.auth_mechanisms;
        if mechanisms.is_empty() {
            return self.refuse(replies::unknown_command(command.name()));
        }
        let Some(arg) = command.arg() else {
            return self.syntax_error(Verb::Auth);
        };
        if !self.info.extended {
            return self.refuse(replies::need_ehlo());
        }
        if self.info.auth.is_some() {
            return self.refuse(replies::already_authenticated());
        }
        if self.transaction.is_some() {
            return self.refuse(replies::auth_in_transaction());
        }
        if self.info.tls.is_none() && self.config.require_tls {
            return Step::Reply(replies::must_starttls());
        }
        if self.info.tls.is_none() && self.config.auth_requires_tls {
            return Step::Reply(replies::auth_needs_tls());
        }
        let (name, initial) = arg
            .split_once(' ')
            .map_or((arg, None), |(n, i)| (n, Some(i.trim())));
        let Some(mechanism) = Mechanism::from_name(name).filter(|m| mechanisms.contains(m)) else {
            return self.refuse(replies::unknown_auth_mechanism());
        };
        let challenge = format!(
            "<{}.{}@{}>",
            self.info.id, self.invalid_commands, self.config.hostname
        );
        let (exchange, step) = Exchange::start(mechanism, initial, challenge);
        self.auth_step(exchange, step)
    }

    pub(super) fn auth_step(&mut self, exchange: Exchange, step: AuthStep) -> Step {
        match step {
            AuthStep::Challenge(text) => {
                self.phase = Phase::Auth {
                    discarding_long_line: false,
                    exchange,
                };
                Step::Reply(Reply::new(334, text))
            }
            AuthStep::Done(credentials) => {
                self.phase = Phase::commands();
                self.ask(Question::Auth(credentials))
            }
            AuthStep::Failed(reply) => {
                self.phase = Phase::commands();
                self.refuse(reply)
            }
        }
    }

    /// A complete line: a command, or a response during AUTH.
    pub(super) fn line(&mut self, line: &[u8]) -> Step {
        let Phase::Auth { exchange, .. } = &mut self.phase else {
            return self.command_line(line);
        };
        let mut exchange = exchange.clone();
        let step = match std::str::from_utf8(line) {
            // As when the line came in pieces and was dropped as it came.
            _ if line.len() > AUTH_LINE_LIMIT => AuthStep::Failed(replies::line_too_long()),
            Ok(text) => exchange.respond(text),
            _ => AuthStep::Failed(replies::malformed_auth_response()),
        };
        self.auth_step(exchange, step)
    }
}
