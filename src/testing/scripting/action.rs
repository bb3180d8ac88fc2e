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
    /// The normal reply for the first `max` matches in any `window` of the
    /// fixture's clock, `reply` for the rest.
    RateLimit {
        max: usize,
        window: Duration,
        reply: Reply,
    },
    /// `451 4.7.1` until the same (client address, sender, recipients)
    /// comes back `delay` or more after its first attempt.
    Greylist {
        delay: Duration,
    },
    /// The normal reply, while a recipient has room; `reply` once this
    /// message would take it past its quota.
    Quota {
        quota: Quota,
        reply: Reply,
    },
    /// The normal reply for the first `max` matches in one connection,
    /// `reply` (a `421`: closing) for the rest.
    PerConnection {
        max: usize,
        reply: Reply,
    },
}

/// How much mail a recipient may receive, for [`Action::quota`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// At most this many bytes of messages in all.
    Bytes(u64),
    /// At most this many messages.
    Messages(u64),
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

    /// Store the message, then cut the connection before the final reply
    /// reaches the client: the sender believes delivery failed and sends
    /// the message again, which the store then marks as a duplicate
    /// ([`ReceivedMessage::is_duplicate`](crate::ReceivedMessage::is_duplicate)).
    /// Meant for [`on::message`](crate::on::message); elsewhere the reply
    /// is lost and the connection closes.
    ///
    /// Which action models which outcome of a final reply:
    /// `lose_reply` (stored, the client saw nothing),
    /// [`cut_after`](Self::cut_after) (not stored, the client may read a
    /// partial or even whole `250`), [`reset`](Self::reset) and
    /// [`disconnect`](Self::disconnect) (not stored, the client saw
    /// nothing).
    ///
    /// ```
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    /// let server = TestSmtpServer::start();
    /// server.respond(on::message(), Action::lose_reply()).times(1);
    /// // ... the application sends, fails, retries ...
    /// # let _ = server;
    /// ```
    pub fn lose_reply() -> Action {
        Action::lose_reply_after(0)
    }

    /// As [`lose_reply`](Self::lose_reply), but the first `bytes` of the
    /// reply get out before the cut (e.g. `3`: the client reads `250`
    /// without its end of line).
    pub fn lose_reply_after(bytes: usize) -> Action {
        Action::delay(Duration::ZERO).with_fault(LinkFault::ReplyLost { bytes })
    }

    /// A rate limit: the first `max` matches in any `window` (of the
    /// fixture's clock, see [`Builder::manual_clock`](crate::Builder::manual_clock))
    /// proceed normally, the rest get `451 4.7.1 Rate limit exceeded, try
    /// again later` (with [`on::connect`](crate::on::connect): `421 4.7.0
    /// Too many connections, try again later`, which closes the
    /// connection). A refused match does not count towards the limit.
    /// [`with_reply`](Self::with_reply) chooses another reply; a `421`
    /// closes the connection wherever it is sent.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::builder().manual_clock().start();
    /// // 10 messages a minute; the 11th gets 451 until the minute is over.
    /// server.respond(on::message(), Action::rate_limit(10, Duration::from_secs(60)));
    /// // 3 connections a minute, then 421.
    /// server.respond(on::connect(), Action::rate_limit(3, Duration::from_secs(60)));
    /// ```
    pub fn rate_limit(max: usize, window: Duration) -> Action {
        Action::plain(ActionKind::RateLimit {
            max,
            window,
            reply: Reply::new(451, "4.7.1 Rate limit exceeded, try again later"),
        })
    }

    /// Greylisting as a rule: the first attempt of a (client address,
    /// `MAIL FROM`, recipient) triplet gets `451 4.7.1 Greylisted, try
    /// again later`, and so does every retry until `delay` has passed on
    /// the fixture's clock; then it is accepted, and the triplet is
    /// remembered (35 days, as postgrey does). Meant for
    /// [`on::any_rcpt_to`](crate::on::any_rcpt_to) or
    /// [`on::rcpt_to`](crate::on::rcpt_to);
    /// [`Builder::greylist`](crate::Builder::greylist) adds it for every
    /// recipient, and [`Inbox::respond`](crate::Inbox::respond) for one
    /// inbox's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::builder().manual_clock().start();
    /// server.respond(on::rcpt_to("slow@example.com"), Action::greylist(Duration::from_secs(300)));
    /// ```
    pub fn greylist(delay: Duration) -> Action {
        Action::plain(ActionKind::Greylist { delay })
    }

    /// A mailbox quota per recipient: messages proceed normally while each
    /// recipient has room, and a message that would take a recipient past
    /// `quota` gets `452 4.2.2 Mailbox full` (choose `552 5.2.2` with
    /// [`with_reply`](Self::with_reply)). Each message that passes the
    /// quota counts, for each of its recipients (a later rule may still
    /// refuse it). Meant for [`on::message`](crate::on::message).
    ///
    /// ```
    /// use smtp_fixture::{on, Action, Quota, Reply, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::start();
    /// server.respond(on::message(), Action::quota(Quota::Messages(3)));
    /// server.respond(
    ///     on::message(),
    ///     Action::quota(Quota::Bytes(1_000_000)).with_reply(Reply::new(552, "5.2.2 Mailbox full")),
    /// );
    /// ```
    pub fn quota(quota: Quota) -> Action {
        Action::plain(ActionKind::Quota {
            quota,
            reply: Reply::new(452, "4.2.2 Mailbox full"),
        })
    }

    /// A cap per connection, as providers that close a busy connection:
    /// the first `max` matches in one connection proceed normally, the next
    /// gets `421 4.7.0 Too many messages in one connection, closing` and
    /// the connection closes. With [`on::any_mail_from`](crate::on::any_mail_from),
    /// at most `max` messages (transactions) per connection;
    /// [`Builder::max_messages_per_connection`](crate::Builder::max_messages_per_connection)
    /// adds that rule.
    ///
    /// ```
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::start();
    /// server.respond(on::any_mail_from(), Action::per_connection(100));
    /// ```
    pub fn per_connection(max: usize) -> Action {
        Action::plain(ActionKind::PerConnection {
            max,
            reply: Reply::new(421, "4.7.0 Too many messages in one connection, closing"),
        })
    }

    /// For a [`rate_limit`](Self::rate_limit), a [`quota`](Self::quota) or
    /// a [`per_connection`](Self::per_connection) cap: the reply sent once
    /// the limit is reached (a `421` closes the connection after it).
    /// Other actions ignore it.
    pub fn with_reply(mut self, reply: Reply) -> Action {
        if let ActionKind::RateLimit { reply: slot, .. }
        | ActionKind::Quota { reply: slot, .. }
        | ActionKind::PerConnection { reply: slot, .. } = &mut self.kind
        {
            *slot = reply;
        }
        self
    }

    fn plain(kind: ActionKind) -> Action {
        Action {
            kind,
            delay: Duration::ZERO,
            fault: None,
        }
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
            ActionKind::RateLimit { reply, .. }
            | ActionKind::Quota { reply, .. }
            | ActionKind::PerConnection { reply, .. } => closing_if_421(reply.clone()),
            ActionKind::Greylist { .. } => {
                Decision::Reply(Reply::new(451, "4.7.1 Greylisted, try again later"))
            }
        }
    }

    /// A rate limit's reply when it is sent on `on::connect`, unless the
    /// test chose one: the connection is refused, not a transaction.
    pub(crate) fn for_connect(mut self) -> Action {
        if let ActionKind::RateLimit { reply, .. } = &mut self.kind {
            if reply.code() == 451 {
                *reply = Reply::new(421, "4.7.0 Too many connections, try again later");
            }
        }
        self
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
            (_, Some(LinkFault::ReplyLost { .. })) => f.write_str("the normal reply, lost")?,
            (ActionKind::Raw(bytes), _) => write!(f, "raw bytes {:?}", String::from_utf8_lossy(bytes))?,
            (ActionKind::RateLimit { max, window, reply }, _) => {
                write!(f, "at most {max} per {window:?}, then {:?}", reply.to_string())?;
            }
            (ActionKind::Greylist { delay }, _) => write!(f, "greylisting for {delay:?}")?,
            (ActionKind::PerConnection { max, reply }, _) => {
                write!(f, "at most {max} per connection, then {:?}", reply.to_string())?;
            }
            (ActionKind::Quota { quota, reply }, _) => {
                let limit = match quota {
                    Quota::Bytes(bytes) => format!("{bytes} bytes"),
                    Quota::Messages(count) => format!("{count} messages"),
                };
                write!(
                    f,
                    "a quota of {limit} per recipient, then {:?}",
                    reply.to_string()
                )?;
            }
        }
        match self.fault {
            Some(LinkFault::Throttle { bytes_per_second }) => write!(f, " at {bytes_per_second} bytes/s")?,
            Some(LinkFault::CutAfter { bytes }) => write!(f, " cut after {bytes} bytes")?,
            Some(LinkFault::ReplyLost { bytes }) if bytes > 0 => write!(f, " after {bytes} bytes")?,
            Some(LinkFault::StopReading) => f.write_str(", then no more reads")?,
            _ => {}
        }
        if !self.delay.is_zero() {
            write!(f, " after {:?}", self.delay)?;
        }
        Ok(())
    }
}

/// A reply as a decision: a `421` closes the connection after it.
fn closing_if_421(reply: Reply) -> Decision {
    if reply.code() == 421 {
        Decision::Disconnect(Some(reply))
    } else {
        Decision::Reply(reply)
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
