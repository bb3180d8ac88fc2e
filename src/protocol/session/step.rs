//! The steps a [`Session`](super::Session) hands its caller, the questions
//! it asks the handler and the handler's answers.

#[cfg(doc)]
use super::Session;
use crate::protocol::auth::Credentials;
use crate::protocol::command::Command;
use crate::protocol::envelope::Message;
use crate::protocol::reply::Reply;

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use = "a step says what the caller must do next"]
pub enum Step {
    /// Write the reply, then go on feeding input.
    Reply(Reply),
    /// Let the handler decide about [`Session::question`], then pass its
    /// [`Decision`] to [`Session::resolve`]. The session keeps the question,
    /// so a caller can only answer what it asked.
    Ask,
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
    /// Write only the first `bytes` of what is due, then close, while the
    /// server carries on as if all of it reached the client: a final reply
    /// lost on the way, after which the message counts as delivered (the
    /// client believes it failed and sends it again).
    ReplyLost {
        /// How many bytes get out (0: none).
        bytes: usize,
    },
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
#[non_exhaustive]
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
#[non_exhaustive]
#[must_use = "the step, if any, says what the caller must do next"]
pub struct Progress {
    /// How many input bytes were used. Keep the others and feed them again,
    /// with whatever arrives next, once `step` is dealt with.
    pub used: usize,
    /// What to do, or `None` when more input is needed.
    pub step: Option<Step>,
}

/// Where the session is in the dialogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Reading command lines.
    Command,
    /// Reading the message: after `354`, or a `BDAT` chunk.
    Data,
    /// The session is over; input is ignored.
    Closed,
}
