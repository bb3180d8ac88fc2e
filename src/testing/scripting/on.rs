//! Triggers for [`TestSmtpServer::respond`](crate::TestSmtpServer::respond).
//!
//! ```
//! use smtp_fixture::{on, Reply, TestSmtpServer};
//!
//! let server = TestSmtpServer::start();
//! server.respond(on::rcpt_to("bounce@example.com"), Reply::new(550, "5.1.1 No such user"));
//! server.respond(on::message(), Reply::new(451, "4.3.0 Try again later")).times(1);
//! server.respond(on::command("XCLIENT"), Reply::new(250, "OK"));
//! ```

use std::sync::Arc;

use super::trigger::Trigger;
use crate::protocol::{Command, Message};

/// A client connects: replaces the `220` greeting. `421` closes the
/// session; `554` refuses every command but QUIT (RFC 5321, 3.1).
pub fn connect() -> Trigger {
    Trigger::connect()
}

/// A valid HELO or EHLO.
pub fn helo() -> Trigger {
    Trigger::helo()
}

/// `MAIL FROM` with this address (case-insensitive, angle brackets
/// optional; `<>` is the null sender).
pub fn mail_from(address: &str) -> Trigger {
    Trigger::mail_from(Some(address))
}

/// Any valid `MAIL FROM`.
pub fn any_mail_from() -> Trigger {
    Trigger::mail_from(None)
}

/// `RCPT TO` with this address (case-insensitive). A refusal keeps the
/// recipient out of the envelope.
pub fn rcpt_to(address: &str) -> Trigger {
    Trigger::rcpt_to(Some(address))
}

/// Any valid `RCPT TO`.
pub fn any_rcpt_to() -> Trigger {
    Trigger::rcpt_to(None)
}

/// The `DATA` command, before `354`.
pub fn data() -> Trigger {
    Trigger::data()
}

/// The credentials of an AUTH exchange: a reply here decides the outcome
/// (`535` refuses, `235` accepts), before the fixture's own check.
pub fn auth() -> Trigger {
    Trigger::auth()
}

/// The final reply, after the client's `.`. A refused message is not in
/// `messages()` but in `rejected()`.
pub fn message() -> Trigger {
    Trigger::message(None)
}

/// The final reply, for messages where `predicate` holds.
pub fn message_matching(predicate: impl Fn(&Message) -> bool + Send + Sync + 'static) -> Trigger {
    Trigger::message(Some(Arc::new(predicate)))
}

/// The final reply for this recipient of a message (case-insensitive,
/// angle brackets optional), when the message as a whole is accepted.
///
/// In LMTP (RFC 2033; [`Builder::lmtp`](crate::testing::Builder::lmtp))
/// each recipient gets a final reply of its own, so this fails one mailbox
/// of several: the message is recorded for the others, and the refused
/// recipient is in `refused_recipients()` (with `after_data` set). SMTP has
/// one final reply: there a refusal here refuses the whole message (it is in
/// `rejected()`), as [`on::rcpt_to`](rcpt_to) refuses the recipient alone
/// earlier.
///
/// ```
/// use smtp_fixture::{on, Reply, TestSmtpServer};
///
/// let server = TestSmtpServer::builder().lmtp().start();
/// server.respond(on::delivery_to("b@example.com"), Reply::new(452, "4.2.2 Mailbox full"));
/// ```
pub fn delivery_to(address: &str) -> Trigger {
    Trigger::delivery_to(address)
}

/// Any command line with this verb, known to the server or not (e.g.
/// `XCLIENT`): the reply replaces the command.
pub fn command(verb: &str) -> Trigger {
    Trigger::command(verb)
}

/// Any command line for which `predicate` holds: the reply replaces the
/// command.
pub fn command_matching(predicate: impl Fn(&Command) -> bool + Send + Sync + 'static) -> Trigger {
    Trigger::command_matching(Arc::new(predicate))
}
