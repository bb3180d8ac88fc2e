//! The hooks a server calls: one per command, `process_message`, and what
//! happens once a message was accepted or a session ended.
//!
//! The server asks every question through [`Handler::decide`], whose
//! default dispatches to the per-command hooks. A handler that wraps
//! another implements [`Wrapper`] instead of [`Handler`]: it intercepts in
//! `decide` what it wants and the rest reaches the inner handler on its
//! own, so no hook can be forgotten.
//!
//! Every hook has a default that behaves like the reference, so a handler
//! overrides only what it cares about. The session owns syntax and
//! sequencing: a hook is only asked about commands that are valid at that
//! point, and only decides whether to accept them or what to answer.

mod closing;
#[cfg(test)]
mod tests;
mod wrapper;

use std::future::Future;

pub(crate) use closing::Closing;
pub use wrapper::Wrapper;

use crate::protocol::auth::Credentials;
use crate::protocol::{replies, Command, Decision, Message, Question, Reply, Session, SessionInfo};

/// What a server does with sessions and messages (the reference's
/// `SMTPServer` subclass with its `process_message`, plus the channel's
/// per-command methods).
///
/// ```
/// use smtp_fixture::Reply;
/// use smtp_fixture::handler::Handler;
/// use smtp_fixture::protocol::Message;
///
/// /// Refuses mail for one address, accepts the rest.
/// struct NoBob;
///
/// impl Handler for NoBob {
///     async fn process_message(&self, message: &Message) -> Option<Reply> {
///         if message.rcpt_tos().iter().any(|r| r == "bob@example.com") {
///             Some(Reply::new(550, "No Bob here"))
///         } else {
///             None
///         }
///     }
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// The one entry point the server calls: the decision on `question`,
    /// which `session` asks. The default asks the hook that answers it
    /// ([`on_connect`](Handler::on_connect) for [`Question::Connect`], and
    /// so on); a handler rarely overrides it (a [`Wrapper`] does).
    fn decide(&self, session: &Session, question: &Question) -> impl Future<Output = Decision> + Send {
        async move {
            match question {
                Question::Connect => self.on_connect(session).await,
                Question::Command(command) => self.on_command(session, command).await,
                Question::Helo { name, extended } => self.on_helo(session, name, *extended).await,
                Question::Mail { address, params } => self.on_mail_from(session, address, params).await,
                Question::Rcpt { address, params } => self.on_rcpt_to(session, address, params).await,
                Question::Data => self.on_data(session).await,
                Question::Auth(credentials) => self.on_auth(session, credentials).await,
                Question::Message(message) => self.on_message(session, message).await,
            }
        }
    }

    /// A client connected. [`Decision::Reply`] replaces the greeting: 421
    /// closes the session, 554 refuses every command but QUIT.
    fn on_connect(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async { Decision::Proceed }
    }

    /// Any command line, known or unknown, before the server handles it. A
    /// reply here replaces the command: the way to add commands (`XCLIENT`)
    /// or change a reply the server would give.
    fn on_command(&self, session: &Session, command: &Command) -> impl Future<Output = Decision> + Send {
        let _ = (session, command);
        async { Decision::Proceed }
    }

    /// A valid HELO or EHLO (`extended`).
    fn on_helo(
        &self,
        session: &Session,
        name: &str,
        extended: bool,
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, name, extended);
        async { Decision::Proceed }
    }

    /// A valid `MAIL FROM`; `params` are upper-cased.
    fn on_mail_from(
        &self,
        session: &Session,
        address: &str,
        params: &[String],
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, address, params);
        async { Decision::Proceed }
    }

    /// A valid `RCPT TO`. A refusal keeps the recipient out of the envelope.
    fn on_rcpt_to(
        &self,
        session: &Session,
        address: &str,
        params: &[String],
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, address, params);
        async { Decision::Proceed }
    }

    /// A client presented AUTH credentials. The default refuses them all
    /// (`535`); `Decision::Proceed` accepts them (`235`).
    fn on_auth(&self, session: &Session, credentials: &Credentials) -> impl Future<Output = Decision> + Send {
        let _ = (session, credentials);
        async { Decision::Reply(replies::auth_invalid()) }
    }

    /// A valid `DATA`, before `354`.
    fn on_data(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async { Decision::Proceed }
    }

    /// The message is complete: decides its final reply. The default asks
    /// [`process_message`](Handler::process_message) and, when that accepts
    /// the message, [`process_recipient`](Handler::process_recipient) for
    /// each recipient; override this one to see the session too, or to
    /// disconnect. [`Decision::PerRecipient`] answers each recipient
    /// (LMTP).
    fn on_message(&self, session: &Session, message: &Message) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async move {
            let mut decision = match self.process_message(message).await {
                Some(reply) => Decision::Reply(reply),
                None => Decision::Proceed,
            };
            let recipients = message.rcpt_tos();
            for (index, recipient) in recipients.iter().enumerate() {
                if !decision.goes_per_recipient() {
                    break;
                }
                if let Some(reply) = self.process_recipient(message, recipient).await {
                    decision = decision.with_recipient_reply(recipients.len(), index, reply);
                }
            }
            decision
        }
    }

    /// The message is complete. `None` answers `250 OK`; a reply is sent
    /// instead (a 2xx reply still accepts the message).
    fn process_message(&self, message: &Message) -> impl Future<Output = Option<Reply>> + Send {
        let _ = message;
        async { None }
    }

    /// The message is complete and `process_message` accepted it: the reply
    /// for one of its recipients, asked for each in RCPT order. `None` (the
    /// default) keeps `process_message`'s reply.
    ///
    /// In LMTP (RFC 2033) each recipient gets its own final reply, and the
    /// message is delivered to those whose reply is a 2xx. SMTP has one
    /// final reply: a refusal here refuses the whole message.
    ///
    /// ```
    /// use smtp_fixture::Reply;
    /// use smtp_fixture::handler::Handler;
    /// use smtp_fixture::protocol::Message;
    ///
    /// /// An LMTP delivery agent with one full mailbox.
    /// struct Mailboxes;
    ///
    /// impl Handler for Mailboxes {
    ///     async fn process_recipient(&self, _message: &Message, recipient: &str) -> Option<Reply> {
    ///         (recipient == "full@example.com").then(|| Reply::new(452, "4.2.2 Mailbox full"))
    ///     }
    /// }
    /// ```
    fn process_recipient(
        &self,
        message: &Message,
        recipient: &str,
    ) -> impl Future<Output = Option<Reply>> + Send {
        let _ = (message, recipient);
        async { None }
    }

    /// The message was accepted and its final reply has reached the client's
    /// socket. Called once per accepted message, with ownership.
    fn message_accepted(&self, message: Message) {
        let _ = message;
    }

    /// A log for a new session's traffic, if this handler keeps one.
    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        let _ = session;
        None
    }

    /// The session ended, however it ended: QUIT, the client vanishing, a
    /// timeout, an error, or the server shutting down (its task cancelled).
    /// Called exactly once for every session the server started (and whose
    /// [`session_log`](Handler::session_log) it asked for), with what the
    /// session knew at its end; the place to release what a handler keeps
    /// per session. Synchronous, since a cancelled task cannot await: hand
    /// slow work to a task of its own.
    fn on_close(&self, session: &SessionInfo) {
        let _ = session;
    }
}

/// Receives one session's traffic, in order, a whole line at a time
/// however the bytes were chunked on the wire: each byte received or sent
/// is logged once.
pub trait SessionLog: Send {
    /// A command line as received, CRLF included.
    fn received(&mut self, line: &[u8]);
    /// A line of the message after `354`, CRLF included (the terminator's
    /// `.` line too).
    fn received_data(&mut self, line: &[u8]);
    /// A line too long to keep whole (over 64 KiB): its first bytes and its
    /// length in all, CRLF included; `data`: a line of the message. By
    /// default logged as if the start were the line.
    fn received_cut(&mut self, start: &[u8], length: usize, data: bool) {
        let _ = length;
        if data {
            self.received_data(start);
        } else {
            self.received(start);
        }
    }
    /// Reply bytes as written.
    fn sent(&mut self, bytes: &[u8]);
    /// Something that is not traffic: a timeout, the connection closing.
    fn note(&mut self, text: &str);
}
