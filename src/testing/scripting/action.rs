//! What a scripted rule does when it fires: [`Action`] (a reply, a
//! disconnect, raw bytes or the normal reply, possibly late or over a
//! faulty link).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::protocol::{Decision, LinkFault, Reply};

/// What a rule answers: a reply, a disconnect, or the normal reply, each
/// possibly after a delay.
///
/// ```
/// use std::time::Duration;
/// use smtp_fixture::{Action, Reply};
///
/// let _refuse: Action = Reply::new(550, "5.1.1 No such user").into();
/// let _slow: Action = Action::reply(Reply::new(250, "OK")).after(Duration::from_secs(2));
/// let _stall: Action = Action::delay(Duration::from_secs(2)); // then the normal reply
/// let _hang_up: Action = Action::disconnect();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub(crate) kind: ActionKind,
    pub(crate) delay: Duration,
    /// How the link misbehaves while the answer goes out.
    pub(crate) fault: Option<LinkFault>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ActionKind {
    Reply(Reply),
    Proceed,
    Disconnect,
    Raw(Vec<u8>),
}
impl Action {
    /// Answer with `reply` (what a plain [`Reply`] given to
    /// [`respond`](crate::TestSmtpServer::respond) means): the form to
    /// chain from, e.g. `Action::reply(reply).after(delay)`.
    pub fn reply(reply: Reply) -> Action {
        Action::from(reply)
    }

    /// Close the connection without a reply.
    pub fn disconnect() -> Action {
        Action {
            kind: ActionKind::Disconnect,
            delay: Duration::ZERO,
            fault: None,
        }
    }

    /// Send `bytes` instead of a reply, exactly as given: a garbled or
    /// truncated reply, to test how a client's parser copes. The command is
    /// not carried out.
    ///
    /// ```
    /// use smtp_fixture::Action;
    /// let _truncated = Action::raw("25");
    /// let _no_crlf = Action::raw(b"250 OK\n".to_vec());
    /// let _bad_continuation = Action::raw("250-first\r\n354 second\r\n");
    /// ```
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Action {
        Action {
            kind: ActionKind::Raw(bytes.into()),
            delay: Duration::ZERO,
            fault: None,
        }
    }

    /// Wait, then give the reply the server would have given.
    pub fn delay(delay: Duration) -> Action {
        Action {
            kind: ActionKind::Proceed,
            delay,
            fault: None,
        }
    }

    /// The same action, after waiting `delay`.
    pub fn after(mut self, delay: Duration) -> Action {
        self.delay = delay;
        self
    }

    /// The normal reply, trickling out at `bytes_per_second` (the
    /// greeting, with [`on::connect`](crate::on::connect)): a slow link, to
    /// test a client's read timeouts.
    ///
    /// ```
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    /// let server = TestSmtpServer::start();
    /// server.respond(on::connect(), Action::throttle(5)); // "220 ..." at 5 bytes a second
    /// ```
    pub fn throttle(bytes_per_second: u32) -> Action {
        Action::delay(Duration::ZERO).throttled(bytes_per_second)
    }

    /// This action, trickling out at `bytes_per_second`.
    pub fn throttled(self, bytes_per_second: u32) -> Action {
        self.with_fault(LinkFault::Throttle {
            bytes_per_second: bytes_per_second.max(1),
        })
    }

    /// Only the first `bytes` of the normal reply, then the connection
    /// closes: a reply cut in the middle of a line. A message whose final
    /// reply is cut is not recorded (it is in `rejected()`).
    pub fn cut_after(bytes: usize) -> Action {
        Action::delay(Duration::ZERO).with_fault(LinkFault::CutAfter { bytes })
    }

    /// A TCP reset instead of the reply (the client reads "connection reset
    /// by peer").
    pub fn reset() -> Action {
        Action::delay(Duration::ZERO).with_fault(LinkFault::Reset)
    }

    /// The normal reply, then the server reads nothing more, as a server
    /// that hangs: on [`on::data`](crate::on::data), the client's writes of
    /// the message stall once the socket buffers are full.
    pub fn stop_reading() -> Action {
        Action::delay(Duration::ZERO).with_fault(LinkFault::StopReading)
    }

    /// No reply and no reads, until the client gives up or the idle timeout
    /// ends the session: with [`on::connect`](crate::on::connect), a
    /// connection that is accepted but never greeted.
    pub fn silence() -> Action {
        Action::delay(Duration::ZERO).with_fault(LinkFault::Silence)
    }

    fn with_fault(mut self, fault: LinkFault) -> Action {
        self.fault = Some(fault);
        self
    }

    fn decision(&self) -> Decision {
        match &self.kind {
            ActionKind::Reply(reply) => Decision::Reply(reply.clone()),
            ActionKind::Proceed => Decision::Proceed,
            ActionKind::Disconnect => Decision::Disconnect(None),
            ActionKind::Raw(bytes) => Decision::Raw(bytes.clone()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, self.fault) {
            (_, Some(LinkFault::Reset)) => f.write_str("a TCP reset")?,
            (_, Some(LinkFault::Silence)) => f.write_str("silence")?,
            (ActionKind::Reply(reply), _) => write!(f, "{:?}", reply.to_string())?,
            (ActionKind::Proceed, _) => f.write_str("the normal reply")?,
            (ActionKind::Disconnect, _) => f.write_str("a disconnect")?,
            (ActionKind::Raw(bytes), _) => write!(f, "raw bytes {:?}", String::from_utf8_lossy(bytes))?,
        }
        match self.fault {
            Some(LinkFault::Throttle { bytes_per_second }) => write!(f, " at {bytes_per_second} bytes/s")?,
            Some(LinkFault::CutAfter { bytes }) => write!(f, " cut after {bytes} bytes")?,
            Some(LinkFault::StopReading) => f.write_str(", then no more reads")?,
            _ => {}
        }
        if !self.delay.is_zero() {
            write!(f, " after {:?}", self.delay)?;
        }
        Ok(())
    }
}

impl From<Reply> for Action {
    fn from(reply: Reply) -> Action {
        Action {
            kind: ActionKind::Reply(reply),
            delay: Duration::ZERO,
            fault: None,
        }
    }
}

impl Action {
    /// The decision this action makes: after its delay, the reply it
    /// names or `normal` (the handler's own decision), over its link fault.
    pub(crate) async fn carry_out(self, normal: impl Future<Output = Decision>) -> Decision {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let decision = match self.kind {
            ActionKind::Proceed => normal.await,
            _ => self.decision(),
        };
        match self.fault {
            Some(fault) => Decision::Fault(fault, Box::new(decision)),
            None => decision,
        }
    }

    /// The same for recipient `index` of `recipients` (LMTP's final reply
    /// per recipient): a reply answers that recipient only, within
    /// `decision` (the answer to the whole message); a disconnect or raw
    /// bytes answer the whole message.
    pub(crate) async fn carry_out_for_recipient(
        self,
        decision: Decision,
        recipients: usize,
        index: usize,
    ) -> Decision {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        let decision = match self.kind {
            ActionKind::Reply(ref reply) => decision.with_recipient_reply(recipients, index, reply.clone()),
            ActionKind::Proceed => decision,
            _ => self.decision(),
        };
        match self.fault {
            Some(fault) => Decision::Fault(fault, Box::new(decision)),
            None => decision,
        }
    }
}
