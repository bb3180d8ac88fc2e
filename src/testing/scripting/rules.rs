//! Scripted replies: "when the client does X, answer Y", checked in the
//! order they were added, built on the [`Handler`] hooks.

use std::future::Future;
use std::ops::{Bound, RangeBounds};
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use crate::handler::Handler;
use crate::protocol::{Decision, LinkFault, Message, Reply, Session, SessionInfo};

mod answer;
mod deliveries;
mod handle;
#[cfg(test)]
mod tests;

use deliveries::report_final;
pub use handle::RuleHandle;

use super::action::Action;
use super::chaos::SeededChance;
use super::clock::Clock;
use super::memory::{Memory, Occasion};
use super::trigger::{Trigger, TriggerKind};

/// One scripted rule: a trigger, an action, and its counters.
struct Rule {
    /// Unique in the process: how an HTTP client names the rule.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    id: u64,
    trigger: Trigger,
    action: Action,
    /// Where the test added it, for the report of an unmet expectation.
    added_at: &'static Location<'static>,
    /// How many times the rule may still fire in all (`usize::MAX`: always).
    times: AtomicUsize,
    hits: AtomicUsize,
    expected: Mutex<Option<(Bound<usize>, Bound<usize>)>>,
    /// Set by [`RuleHandle::remove`]: the rule no longer matches, and the
    /// script drops it when it next changes.
    removed: AtomicBool,
    /// Fires on only some matches, by a seeded draw (`by_chance`, service
    /// mode's chaos).
    chance: OnceLock<SeededChance>,
    /// For a rule that unfolds over time (a rate limit, a greylist, a
    /// quota): what it remembers, and so whether it fires now.
    memory: Option<Memory>,
}

impl Rule {
    /// Counts a hit if the rule is in force and has uses left.
    fn claim(&self) -> bool {
        if self.removed.load(Ordering::SeqCst) {
            return false;
        }
        let mut hits = self.hits.load(Ordering::SeqCst);
        loop {
            if hits >= self.times.load(Ordering::SeqCst) {
                return false;
            }
            match self
                .hits
                .compare_exchange(hits, hits + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(current) => hits = current,
            }
        }
    }

    fn describe(&self) -> String {
        format!("respond({}, {})", self.trigger, self.action)
    }

    /// What an unmet expectation says: the rule, where it was added, what
    /// was expected and what happened.
    fn unmet(&self, expected: (Bound<usize>, Bound<usize>), hits: usize) -> String {
        format!(
            "{} at {}: expected {}, got {hits}",
            self.describe(),
            self.added_at,
            show_range(expected)
        )
    }
}

/// One rule as [`Script::list`] shows it.
#[cfg(feature = "http")]
pub(crate) struct RuleListing {
    pub(crate) id: u64,
    pub(crate) trigger: Trigger,
    pub(crate) action: Action,
    pub(crate) hits: usize,
    /// `.times(n)`, if set.
    pub(crate) times: Option<usize>,
    /// For a rule that fires by chance, its odds and seed.
    pub(crate) chance: Option<String>,
}

/// Told what the rules or the handler behind them refused, so that a test
/// can see attempts that left no message.
pub(crate) trait Refusals: Send + Sync {
    /// A message whose final reply was a refusal (`None`: the connection
    /// was cut, or a raw reply was sent).
    fn message(&self, message: &Message, reply: Option<&Reply>);
    /// A recipient refused at `RCPT TO` (`None`: as for `message`).
    fn recipient(&self, session: &SessionInfo, address: &str, reply: Option<&Reply>);
    /// A recipient refused by its own final reply (LMTP), after the message.
    fn recipient_after_data(&self, session: &SessionInfo, address: &str, reply: &Reply);
}

/// The rules of one server, in the order added.
#[derive(Default)]
pub(crate) struct Script {
    rules: RwLock<Vec<Arc<Rule>>>,
    any: AtomicBool,
    refusals: Option<Arc<dyn Refusals>>,
    /// The time of rate limits, greylists and quotas.
    clock: Clock,
}

impl Script {
    pub(crate) fn reporting_to(refusals: Arc<dyn Refusals>) -> Script {
        Script {
            refusals: Some(refusals),
            ..Script::default()
        }
    }

    /// The same script, its rules reading `clock`.
    pub(crate) fn with_clock(mut self, clock: Clock) -> Script {
        self.clock = clock;
        self
    }

    /// The clock the rules read.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Adds a rule after the existing ones.
    #[track_caller]
    pub(crate) fn add(&self, trigger: Trigger, action: impl Into<Action>) -> RuleHandle {
        self.add_rule(trigger, action.into(), None)
    }

    /// Adds a rule that fires on only some of its matches, as `chance`
    /// draws (service mode's chaos; issue 34 offers it to the fixture).
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    #[track_caller]
    pub(crate) fn add_by_chance(&self, trigger: Trigger, action: Action, chance: SeededChance) -> RuleHandle {
        self.add_rule(trigger, action, Some(chance))
    }

    #[track_caller]
    fn add_rule(&self, trigger: Trigger, action: Action, chance: Option<SeededChance>) -> RuleHandle {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let action = match trigger.kind {
            TriggerKind::Connect => action.for_connect(),
            _ => action,
        };
        let memory = Memory::for_action(&action.kind);
        let chance = chance.map_or_else(OnceLock::new, OnceLock::from);
        let rule = Arc::new(Rule {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            trigger,
            action,
            added_at: Location::caller(),
            times: AtomicUsize::new(usize::MAX),
            hits: AtomicUsize::new(0),
            expected: Mutex::new(None),
            removed: AtomicBool::new(false),
            chance,
            memory,
        });
        let mut rules = self.rules.write().unwrap_or_else(|p| p.into_inner());
        rules.retain(|rule| !rule.removed.load(Ordering::SeqCst));
        rules.push(rule.clone());
        self.any.store(true, Ordering::SeqCst);
        RuleHandle { rule }
    }

    /// Every rule in force, in order: what the service's `GET
    /// /api/v1/rules` lists.
    #[cfg(feature = "http")]
    pub(crate) fn list(&self) -> Vec<RuleListing> {
        let rules = self.rules.read().unwrap_or_else(|p| p.into_inner());
        rules
            .iter()
            .filter(|rule| !rule.removed.load(Ordering::SeqCst))
            .map(|rule| {
                let times = rule.times.load(Ordering::SeqCst);
                RuleListing {
                    id: rule.id,
                    trigger: rule.trigger.clone(),
                    action: rule.action.clone(),
                    hits: rule.hits.load(Ordering::SeqCst),
                    times: (times != usize::MAX).then_some(times),
                    chance: rule.chance.get().map(ToString::to_string),
                }
            })
            .collect()
    }

    /// The rule in force numbered `id` (see [`RuleHandle::id`]).
    #[cfg(feature = "http")]
    pub(crate) fn rule(&self, id: u64) -> Option<RuleHandle> {
        let rules = self.rules.read().unwrap_or_else(|p| p.into_inner());
        rules
            .iter()
            .find(|rule| rule.id == id && !rule.removed.load(Ordering::SeqCst))
            .map(|rule| RuleHandle { rule: rule.clone() })
    }

    /// Removes every rule: the server behaves normally again.
    pub(crate) fn clear(&self) {
        self.rules.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Descriptions of the rules whose `expect` is not met.
    pub(crate) fn unmet_expectations(&self) -> Vec<String> {
        let rules = self.rules.read().unwrap_or_else(|p| p.into_inner());
        rules
            .iter()
            .filter(|rule| !rule.removed.load(Ordering::SeqCst))
            .filter_map(|rule| {
                let expected = (*rule.expected.lock().unwrap_or_else(|p| p.into_inner()))?;
                let hits = rule.hits.load(Ordering::SeqCst);
                (!expected.contains(&hits)).then(|| rule.unmet(expected, hits))
            })
            .collect()
    }

    /// Whether a rule was ever added (a cleared script still says so).
    fn has_rules(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// The action of the first rule that matches `occasion` and has uses
    /// left (a rule with a memory matches when it refuses).
    fn first_match(&self, matches: impl Fn(&TriggerKind) -> bool, occasion: &Occasion<'_>) -> Option<Action> {
        if !self.has_rules() {
            return None;
        }
        let rules = self.rules.read().unwrap_or_else(|p| p.into_inner());
        let mut now = None;
        rules
            .iter()
            .find(|rule| {
                matches(&rule.trigger.kind)
                    && !rule.removed.load(Ordering::SeqCst)
                    && rule.chance.get().is_none_or(SeededChance::fires)
                    && rule.memory.as_ref().is_none_or(|memory| {
                        memory.fires(occasion, *now.get_or_insert_with(|| self.clock.now()))
                    })
                    && rule.claim()
            })
            .map(|rule| rule.action.clone())
    }

    async fn decide(
        &self,
        matches: impl Fn(&TriggerKind) -> bool,
        occasion: &Occasion<'_>,
        normal: impl Future<Output = Decision>,
    ) -> Decision {
        match self.first_match(matches, occasion) {
            None => normal.await,
            Some(action) => action.carry_out(normal).await,
        }
    }
}

/// `1 hit`, `at least 2 hits`, `2..=4 hits`: counted nouns, as a person
/// writes them.
fn show_range((start, end): (Bound<usize>, Bound<usize>)) -> String {
    let hits = |n: usize| if n == 1 { "hit" } else { "hits" };
    match (start, end) {
        (Bound::Included(a), Bound::Included(b)) if a == b => format!("{a} {}", hits(a)),
        (Bound::Included(a), Bound::Unbounded) => format!("at least {a} {}", hits(a)),
        (Bound::Unbounded, Bound::Included(b)) => format!("at most {b} {}", hits(b)),
        (Bound::Unbounded, Bound::Excluded(b)) => format!("fewer than {b} hits"),
        (Bound::Included(a), Bound::Included(b)) => format!("{a} to {b} hits"),
        (Bound::Included(a), Bound::Excluded(b)) => format!("{a} to {} hits", b.saturating_sub(1)),
        (start, end) => format!("{start:?}..{end:?} hits"),
    }
}

/// Whether `decision` refuses what it answers: a reply that `refuses`
/// (`Some(Some(reply))`), a disconnect or a raw reply (`Some(None)` unless
/// the disconnect carries a reply). The session's rule for what refuses
/// differs by command, hence `refuses`.
fn refusal(decision: &Decision, refuses: impl Fn(&Reply) -> bool) -> Option<Option<&Reply>> {
    match decision {
        // No reply reaches the client whole: it got nothing it can act on.
        Decision::Fault(LinkFault::Reset | LinkFault::Silence | LinkFault::CutAfter { .. }, _) => Some(None),
        Decision::Fault(_, inner) => refusal(inner, refuses),
        Decision::Reply(reply) if refuses(reply) => Some(Some(reply)),
        Decision::Disconnect(reply) => Some(reply.as_ref()),
        Decision::Raw(_) => Some(None),
        // Only a complete message has recipients to answer: elsewhere the
        // first reply counts.
        Decision::PerRecipient(replies) => replies.first().filter(|reply| refuses(reply)).map(Some),
        Decision::Reply(_) | Decision::Proceed => None,
    }
}

fn same_address(rule: &str, address: &str) -> bool {
    rule.trim_start_matches('<')
        .trim_end_matches('>')
        .eq_ignore_ascii_case(address)
}

/// A handler that answers from a [`Script`] first and otherwise asks
/// `inner`: how the fixture (and the command line's `--reply`) script
/// failures on top of an ordinary handler.
pub(crate) struct Scripted<H> {
    /// The handler asked when no rule matches.
    pub(crate) inner: H,
    /// The rules.
    pub(crate) script: Arc<Script>,
}

// Scripted is built on the crate's one forwarding mechanism: what it does
// not answer reaches `inner`, every lifecycle hook included.
use crate::handler::Wrapper;
use crate::protocol::Question;

impl<H: Handler> Wrapper for Scripted<H> {
    type Inner = H;

    fn inner(&self) -> &H {
        &self.inner
    }

    async fn decide(&self, session: &Session, question: &Question) -> Decision {
        let decision = if self.script.has_rules() {
            self.scripted(session, question).await
        } else {
            // Nothing to match: the normal answer, without carrying it
            // through the rules' futures (the command line's sink runs here).
            self.inner.decide(session, question).await
        };
        self.report_refusals(session, question, &decision);
        decision
    }
}

impl<H: Handler> Scripted<H> {
    /// The answer of the first rule that matches `question`, else the
    /// normal one.
    async fn scripted(&self, session: &Session, question: &Question) -> Decision {
        // Not awaited unless no rule answers (or the rule proceeds).
        self.script
            .answer(session, question, self.inner.decide(session, question))
            .await
    }

    /// Tells the script's listener what `decision` refused: a recipient,
    /// or a message at its final reply.
    fn report_refusals(&self, session: &Session, question: &Question, decision: &Decision) {
        let Some(refusals) = &self.script.refusals else {
            return;
        };
        match question {
            Question::Rcpt { address, .. } => {
                if let Some(reply) = refusal(decision, |reply| reply.code() >= 400) {
                    refusals.recipient(session.info(), address, reply);
                }
            }
            Question::Message(message) => report_final(&**refusals, session, message, decision),
            _ => {}
        }
    }
}
