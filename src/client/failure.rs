//! [`Failure`]: why talking to the upstream failed.

use std::error::Error;
use std::fmt;
use std::io;

use super::one_line;
use crate::protocol::{Reply, ReplyError};

/// Why talking to the upstream failed: not a reply from it, but a network
/// error, a timeout, a broken reply, or a greeting the session cannot go on
/// from. The proxies quote it inside a `451`, so `Display` is one short
/// line; the variants let them tell a failure before anything was sent
/// from one after.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The TCP connection could not be made.
    Connect(io::Error),
    /// The TCP connection was not made within the connect timeout.
    ConnectTimeout,
    /// The greeting was not `220`.
    Greeting(Reply),
    /// EHLO (not permanently) or HELO was refused.
    Refused {
        /// `EHLO` or `HELO`.
        command: &'static str,
        /// The upstream's reply.
        reply: Reply,
    },
    /// Opening the session failed after retries; `last` is the last
    /// attempt's failure.
    Attempts {
        /// How many attempts were made.
        attempts: u32,
        /// Why the last one failed.
        last: Box<Failure>,
    },
    /// A command line held a CR or LF (it would have injected a second
    /// command); it was not sent.
    UnsafeLine,
    /// Reading or writing failed.
    Lost(io::Error),
    /// Writing did not finish within its timeout.
    SendTimeout,
    /// The upstream closed the connection.
    Closed,
    /// No complete reply within the timeout.
    ReplyTimeout,
    /// A reply line longer than the client reads.
    LineTooLong,
    /// The upstream's reply broke the reply syntax.
    BadReply {
        /// How.
        error: ReplyError,
        /// The start of the offending line, to quote.
        line: String,
    },
    /// A per-recipient transaction's session had already closed (idle too
    /// long, or broken earlier): the request never reached the upstream.
    SessionClosed,
    /// The task owning a per-recipient session ended before it answered
    /// (the runtime is shutting down).
    SessionEnded,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Connect(error) => write!(f, "cannot connect: {error}"),
            Failure::ConnectTimeout => f.write_str("connection timed out"),
            Failure::Greeting(reply) => write!(f, "greeting was {}", one_line(reply)),
            Failure::Refused { command, reply } => write!(f, "{command} answered {}", one_line(reply)),
            Failure::Attempts { attempts, last } => write!(f, "{last} (after {attempts} attempts)"),
            Failure::UnsafeLine => f.write_str("refusing to send a command line with CR or LF"),
            Failure::Lost(error) => write!(f, "connection lost: {error}"),
            Failure::SendTimeout => f.write_str("timed out sending to the upstream"),
            Failure::Closed => f.write_str("connection closed by the upstream"),
            Failure::ReplyTimeout => f.write_str("timed out waiting for the upstream's reply"),
            Failure::LineTooLong => f.write_str("reply line too long"),
            Failure::BadReply { error, line } => match error {
                ReplyError::MixedCodes { .. } => f.write_str("reply lines with different codes"),
                ReplyError::TooManyLines => f.write_str("reply with too many lines"),
                _ => write!(f, "malformed reply line {line:?}"),
            },
            Failure::SessionClosed => f.write_str("the upstream session had already closed"),
            Failure::SessionEnded => f.write_str("upstream session ended"),
        }
    }
}

impl Error for Failure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Failure::Connect(error) | Failure::Lost(error) => Some(error),
            Failure::BadReply { error, .. } => Some(error),
            Failure::Attempts { last, .. } => Some(&**last),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ReplyParser;

    /// The texts reach the proxy's client inside a `451`: they stay as
    /// they were when the failure was a string.
    #[test]
    fn texts_on_the_wire() {
        let bad = |lines: &[&[u8]]| {
            let mut parser = ReplyParser::new();
            let error = lines
                .iter()
                .find_map(|line| parser.line(line).err())
                .expect("an error");
            let line = String::from_utf8_lossy(lines[lines.len() - 1]).into_owned();
            Failure::BadReply { error, line }.to_string()
        };
        assert_eq!(bad(&[b"25O x"]), r#"malformed reply line "25O x""#);
        assert_eq!(bad(&[b"250-a", b"251 b"]), "reply lines with different codes");
        let many = vec![&b"250-x"[..]; ReplyParser::MAX_LINES];
        assert_eq!(bad(&many), "reply with too many lines");
        let refused = Failure::Refused {
            command: "EHLO",
            reply: Reply::new(421, "4.3.2 busy"),
        };
        let retried = Failure::Attempts {
            attempts: 3,
            last: Box::new(refused),
        };
        assert_eq!(
            retried.to_string(),
            "EHLO answered 421 4.3.2 busy (after 3 attempts)"
        );
        assert!(retried.source().is_some());
        assert_eq!(
            Failure::Greeting(Reply::new(554, "no")).to_string(),
            "greeting was 554 no"
        );
    }
}
