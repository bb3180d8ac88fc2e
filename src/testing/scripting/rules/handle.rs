//! [`RuleHandle`]: what a test holds of a rule, to tune it (`times`,
//! `expect`, `by_chance`), read it (`hits`) or take it out.

use std::fmt;
use std::ops::RangeBounds;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::Rule;
use crate::testing::scripting::chaos::SeededChance;

/// The handle [`TestSmtpServer::respond`](crate::TestSmtpServer::respond)
/// returns. The rule stays in force when the handle is dropped, until
/// [`remove`](Self::remove).
#[derive(Clone)]
pub struct RuleHandle {
    pub(super) rule: Arc<Rule>,
}

impl RuleHandle {
    /// Fire only `n` times; then the server behaves normally again.
    pub fn times(self, n: usize) -> RuleHandle {
        self.rule.times.store(n, Ordering::SeqCst);
        self
    }

    /// Fire on only some of the matches, `percent` % of them, drawn from
    /// `seed`: the same seed fails the same attempts in every run (the
    /// n-th match of this rule fires or not by the seed and n alone, not by
    /// other rules or the timing of connections). Matches the draw skips
    /// get the normal reply. A rule's odds are set once; a second call
    /// changes nothing.
    ///
    /// ```
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::start();
    /// // About a third of the messages get 451, the same ones in every run.
    /// server.respond(on::message(), Reply::new(451, "4.3.0 Try again later")).by_chance(33, 42);
    /// ```
    pub fn by_chance(self, percent: u8, seed: u64) -> RuleHandle {
        let stream = self.rule.trigger.to_string();
        let _ = self.rule.chance.set(SeededChance::new(seed, &stream, percent));
        self
    }

    /// When the server is dropped, fail the test unless the rule fired
    /// exactly `n` times.
    pub fn expect(self, n: usize) -> RuleHandle {
        self.expect_range(n..=n)
    }

    /// When the server is dropped, fail the test unless the number of times
    /// the rule fired is in `range`.
    pub fn expect_range(self, range: impl RangeBounds<usize>) -> RuleHandle {
        let bounds = (range.start_bound().cloned(), range.end_bound().cloned());
        *self.rule.expected.lock().unwrap_or_else(|p| p.into_inner()) = Some(bounds);
        self
    }

    /// The rule's number, unique in the process (the service's `ID`).
    #[cfg(feature = "http")]
    pub(crate) fn id(&self) -> u64 {
        self.rule.id
    }

    /// How many times the rule fired so far.
    pub fn hits(&self) -> usize {
        self.rule.hits.load(Ordering::SeqCst)
    }

    /// Takes the rule out: from now on it matches nothing, and its
    /// expectation is no longer checked (check it first with
    /// [`verify`](crate::TestSmtpServer::verify) if it matters).
    ///
    /// ```
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::start();
    /// let refusal = server.respond(on::rcpt_to("ann@example.com"), Reply::new(550, "5.1.1 No"));
    /// // ... a test that needs the refusal ...
    /// refusal.remove(); // ann@example.com is accepted again
    /// ```
    pub fn remove(&self) {
        self.rule.removed.store(true, Ordering::SeqCst);
    }
}

impl fmt::Debug for RuleHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (fired {} times)", self.rule.describe(), self.hits())
    }
}
