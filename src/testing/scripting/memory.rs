//! What the rules that unfold over time remember between matches: the
//! admitted events of a rate limit, the triplets a greylist saw, the mail
//! each recipient of a quota received. Times are read from the fixture's
//! [`Clock`](super::clock::Clock), so a manual clock drives them all.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use super::action::{ActionKind, Quota};

/// How long a triplet that passed greylisting stays known (postgrey's
/// `--max-age`, 35 days).
const GREYLIST_REMEMBERED: Duration = Duration::from_secs(35 * 24 * 3600);
/// How long a greylisted triplet waits for its retry before it counts as
/// new again (postgrey's `--retry-window`, 2 days; longer for a longer
/// delay).
const GREYLIST_RETRY_WINDOW: Duration = Duration::from_secs(2 * 24 * 3600);
/// Triplets (or recipients) one rule keeps; past it the oldest is
/// forgotten, so a flood of senders cannot grow memory without a bound.
const MAX_REMEMBERED: usize = 100_000;

/// What a rule is deciding about: who sends what to whom, and when.
#[derive(Debug, Clone, Default)]
pub(crate) struct Occasion<'a> {
    /// The session's number (unique within the server).
    pub(crate) session: u64,
    /// The client's address (its IP only, as greylists key it).
    pub(crate) client: Option<IpAddr>,
    /// `MAIL FROM`, once given.
    pub(crate) mail_from: Option<&'a str>,
    /// The recipients concerned: the one at `RCPT TO`, all of them for a
    /// message.
    pub(crate) recipients: Vec<&'a str>,
    /// For a complete message: its size in bytes.
    pub(crate) size: u64,
}

/// One stateful rule's memory.
#[derive(Debug)]
pub(crate) enum Memory {
    /// When the matches admitted in the last window happened.
    RateLimit {
        max: usize,
        window: Duration,
        admitted: Mutex<VecDeque<Duration>>,
    },
    Greylist {
        delay: Duration,
        triplets: Mutex<HashMap<String, Triplet>>,
    },
    Quota {
        quota: Quota,
        /// Per recipient (lower-cased): bytes or messages received.
        used: Mutex<HashMap<String, u64>>,
    },
    PerConnection {
        max: usize,
        /// Matches admitted per session; only the newest sessions are kept
        /// (their numbers rise).
        admitted: Mutex<BTreeMap<u64, usize>>,
    },
}

/// A greylisted triplet's history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Triplet {
    first_seen: Duration,
    last_seen: Duration,
    passed: bool,
}

impl Memory {
    /// The memory `kind` needs, if it needs one.
    pub(crate) fn for_action(kind: &ActionKind) -> Option<Memory> {
        Some(match kind {
            ActionKind::RateLimit { max, window, .. } => Memory::RateLimit {
                max: *max,
                window: *window,
                admitted: Mutex::default(),
            },
            ActionKind::Greylist { delay } => Memory::Greylist {
                delay: *delay,
                triplets: Mutex::default(),
            },
            ActionKind::Quota { quota, .. } => Memory::Quota {
                quota: *quota,
                used: Mutex::default(),
            },
            ActionKind::PerConnection { max, .. } => Memory::PerConnection {
                max: *max,
                admitted: Mutex::default(),
            },
            _ => return None,
        })
    }

    /// Whether the rule fires (refuses) on `occasion` at `now`; when it
    /// lets the occasion through, this remembers it.
    pub(crate) fn fires(&self, occasion: &Occasion<'_>, now: Duration) -> bool {
        match self {
            Memory::RateLimit {
                max,
                window,
                admitted,
            } => {
                let mut admitted = admitted.lock().unwrap_or_else(|p| p.into_inner());
                while admitted
                    .front()
                    .is_some_and(|&at| now.saturating_sub(at) >= *window)
                {
                    admitted.pop_front();
                }
                if admitted.len() >= *max {
                    return true;
                }
                admitted.push_back(now);
                false
            }
            Memory::Greylist { delay, triplets } => {
                let key = triplet_key(occasion);
                let mut triplets = triplets.lock().unwrap_or_else(|p| p.into_inner());
                greylisted(&mut triplets, key, *delay, now)
            }
            Memory::Quota { quota, used } => {
                let mut used = used.lock().unwrap_or_else(|p| p.into_inner());
                let (cost, limit) = match quota {
                    Quota::Bytes(limit) => (occasion.size, *limit),
                    Quota::Messages(limit) => (1, *limit),
                };
                let recipients: Vec<String> = occasion
                    .recipients
                    .iter()
                    .map(|r| r.to_ascii_lowercase())
                    .collect();
                let full = recipients
                    .iter()
                    .any(|r| used.get(r).copied().unwrap_or(0).saturating_add(cost) > limit);
                if full {
                    return true;
                }
                for recipient in recipients {
                    if used.len() >= MAX_REMEMBERED && !used.contains_key(&recipient) {
                        // Bounded: a recipient past the bound is not counted.
                        continue;
                    }
                    *used.entry(recipient).or_insert(0) += cost;
                }
                false
            }
            Memory::PerConnection { max, admitted } => {
                let mut admitted = admitted.lock().unwrap_or_else(|p| p.into_inner());
                let count = admitted.entry(occasion.session).or_insert(0);
                if *count >= *max {
                    return true;
                }
                *count += 1;
                while admitted.len() > MAX_REMEMBERED {
                    admitted.pop_first();
                }
                false
            }
        }
    }
}

/// `client sender recipients`, lower-cased: what a greylist keys on.
fn triplet_key(occasion: &Occasion<'_>) -> String {
    let client = occasion.client.map(|ip| ip.to_string()).unwrap_or_default();
    let sender = occasion.mail_from.unwrap_or_default();
    let recipients = occasion.recipients.join(",");
    format!("{client} {sender} {recipients}").to_ascii_lowercase()
}

/// Whether `key` is refused at `now` by a greylist of `delay`, updating its
/// history.
fn greylisted(triplets: &mut HashMap<String, Triplet>, key: String, delay: Duration, now: Duration) -> bool {
    let retry_window = GREYLIST_RETRY_WINDOW.max(delay.saturating_mul(2));
    let new = Triplet {
        first_seen: now,
        last_seen: now,
        passed: false,
    };
    let Some(triplet) = triplets.get_mut(&key) else {
        if triplets.len() >= MAX_REMEMBERED {
            forget_oldest(triplets);
        }
        triplets.insert(key, new);
        return true;
    };
    let refused = if triplet.passed {
        if now.saturating_sub(triplet.last_seen) > GREYLIST_REMEMBERED {
            *triplet = new;
            true
        } else {
            false
        }
    } else if now.saturating_sub(triplet.first_seen) > retry_window {
        // Retried too late: a new first attempt.
        *triplet = new;
        true
    } else if now.saturating_sub(triplet.first_seen) >= delay {
        triplet.passed = true;
        false
    } else {
        true
    };
    triplet.last_seen = now;
    refused
}

fn forget_oldest(triplets: &mut HashMap<String, Triplet>) {
    let oldest = triplets
        .iter()
        .min_by_key(|(_, triplet)| triplet.last_seen)
        .map(|(key, _)| key.clone());
    if let Some(key) = oldest {
        triplets.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Memory, Occasion};
    use crate::testing::scripting::action::{Action, Quota};

    fn memory(action: Action) -> Memory {
        Memory::for_action(&action.kind).expect("a stateful action")
    }

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(60 * n)
    }

    #[test]
    fn a_rate_limit_admits_max_per_sliding_window() {
        let limit = memory(Action::rate_limit(2, minutes(1)));
        let any = Occasion::default();
        let fired: Vec<bool> = [0, 10, 20, 59, 60, 61, 70]
            .iter()
            .map(|&s| limit.fires(&any, Duration::from_secs(s)))
            .collect();
        // 0 and 10 admitted; 20 and 59 refused; at 60 the event of 0 left
        // the window, at 61 none had (10 is still in it), at 70 10 left.
        assert_eq!(fired, [false, false, true, true, false, true, false]);
    }

    #[test]
    fn a_greylist_passes_a_triplet_after_the_delay_and_remembers_it() {
        let greylist = memory(Action::greylist(minutes(5)));
        let occasion = Occasion {
            client: Some("127.0.0.1".parse().unwrap()),
            mail_from: Some("a@example.com"),
            recipients: vec!["b@example.com"],
            ..Occasion::default()
        };
        let other = Occasion {
            recipients: vec!["c@example.com"],
            ..Occasion::default()
        };
        assert!(greylist.fires(&occasion, minutes(0)));
        assert!(greylist.fires(&occasion, minutes(4)));
        assert!(greylist.fires(&other, minutes(4)));
        assert!(!greylist.fires(&occasion, minutes(6)));
        assert!(!greylist.fires(&occasion, minutes(60 * 24 * 30)));
        // The other triplet's first attempt was at 4 minutes.
        assert!(greylist.fires(&other, minutes(8)));
        assert!(!greylist.fires(&other, minutes(9)));
    }

    #[test]
    fn a_flood_of_senders_keeps_the_greylist_bounded() {
        let greylist = memory(Action::greylist(minutes(5)));
        let senders: Vec<String> = (0..=super::MAX_REMEMBERED).map(|n| format!("s{n}@x")).collect();
        for (n, sender) in senders.iter().enumerate() {
            let occasion = Occasion {
                mail_from: Some(sender),
                ..Occasion::default()
            };
            assert!(greylist.fires(&occasion, Duration::from_millis(n as u64)));
        }
        let Memory::Greylist { triplets, .. } = &greylist else {
            unreachable!()
        };
        let triplets = triplets.lock().unwrap();
        assert_eq!(triplets.len(), super::MAX_REMEMBERED);
        assert!(
            !triplets.keys().any(|key| key.contains(" s0@x ")),
            "the oldest went first"
        );
    }

    #[test]
    fn a_greylisted_triplet_retried_too_late_starts_again() {
        let greylist = memory(Action::greylist(minutes(5)));
        let any = Occasion::default();
        assert!(greylist.fires(&any, minutes(0)));
        assert!(greylist.fires(&any, minutes(3 * 24 * 60)));
        assert!(!greylist.fires(&any, minutes(3 * 24 * 60 + 5)));
    }

    #[test]
    fn a_per_connection_cap_counts_each_session_apart() {
        let cap = memory(Action::per_connection(2));
        let on = |session| Occasion {
            session,
            ..Occasion::default()
        };
        let fired: Vec<bool> = [1, 1, 2, 1, 2, 2]
            .iter()
            .map(|&s| cap.fires(&on(s), Duration::ZERO))
            .collect();
        assert_eq!(fired, [false, false, false, true, false, true]);
    }

    #[test]
    fn a_quota_refuses_what_would_overflow_a_recipient() {
        let quota = memory(Action::quota(Quota::Bytes(100)));
        let to = |recipient, size| Occasion {
            recipients: vec![recipient],
            size,
            ..Occasion::default()
        };
        assert!(!quota.fires(&to("a@x", 60), Duration::ZERO));
        assert!(quota.fires(&to("A@x", 60), Duration::ZERO));
        assert!(!quota.fires(&to("a@x", 40), Duration::ZERO));
        assert!(!quota.fires(&to("b@x", 100), Duration::ZERO));
        let messages = memory(Action::quota(Quota::Messages(1)));
        assert!(!messages.fires(&to("a@x", 1), Duration::ZERO));
        assert!(messages.fires(&to("a@x", 1), Duration::ZERO));
    }
}
