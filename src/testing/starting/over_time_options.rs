//! The builder's options for failures over time: the rules' clock,
//! greylisting, and a cap of messages per connection.

use std::time::Duration;

use super::builder::Builder;
use crate::testing::scripting::clock::Clock;
#[allow(unused_imports)] // for the docs
use crate::testing::starting::fixture::TestSmtpServer;

impl Builder {
    /// A clock the test moves: the greylisting delays, rate-limit windows
    /// and other rules that unfold over time stand still until
    /// [`TestSmtpServer::advance`] moves them, so a test of a five-minute
    /// delay takes milliseconds. Socket timeouts (idle, session, TLS
    /// handshake) and [`Action::delay`](crate::Action::delay) keep real
    /// time. Without it, the rules follow real time (plus whatever
    /// `advance` adds).
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::builder()
    ///     .manual_clock()
    ///     .greylist(Duration::from_secs(300))
    ///     .start();
    /// // ... first attempt: 451 4.7.1 ...
    /// server.advance(Duration::from_secs(5 * 60));
    /// // ... the retry is accepted ...
    /// ```
    pub fn manual_clock(mut self) -> Builder {
        self.clock = Clock::manual();
        self
    }

    /// Greylisting, as postgrey does it: the first attempt of each
    /// (client address, `MAIL FROM`, `RCPT TO`) triplet gets `451 4.7.1
    /// Greylisted, try again later` at `RCPT TO`, and so does every retry
    /// until `delay` has passed on the fixture's clock; then the triplet
    /// is accepted and remembered (35 days). A rule in front of every
    /// other: [`Action::greylist`](crate::Action::greylist) is the same for
    /// some recipients, [`Inbox::greylist`](crate::Inbox::greylist) for one
    /// inbox.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::builder().manual_clock().greylist(Duration::from_secs(300)).start();
    /// # let _ = server;
    /// ```
    pub fn greylist(mut self, delay: Duration) -> Builder {
        self.greylist = Some(delay);
        self
    }

    /// At most `count` messages in one connection, as providers that close
    /// a busy connection: the `MAIL FROM` after the `count`-th gets `421
    /// 4.7.0 Too many messages in one connection, closing` and the
    /// connection closes, so the sender must reconnect for the rest
    /// ([`Action::per_connection`](crate::Action::per_connection) is the
    /// same as a rule). Default: no limit.
    ///
    /// ```
    /// use smtp_fixture::TestSmtpServer;
    /// let server = TestSmtpServer::builder().max_messages_per_connection(10).start();
    /// # let _ = server;
    /// ```
    pub fn max_messages_per_connection(mut self, count: usize) -> Builder {
        self.messages_per_connection = Some(count);
        self
    }
}
