//! The clock of a fixture's rules: greylisting delays, rate-limit windows
//! and quotas' memory read it. Real time by default; with
//! [`Builder::manual_clock`](crate::Builder::manual_clock) it stands still
//! until the test moves it with
//! [`TestSmtpServer::advance`](crate::TestSmtpServer::advance), so a test of
//! a five-minute greylisting delay runs in milliseconds. Socket timeouts and
//! [`Action::delay`](crate::Action::delay) do not read it: they keep real
//! time.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time since the clock was made, as the rules see it: shared by every rule
/// of a server and its inboxes (clones share one clock).
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    state: Arc<Mutex<ClockState>>,
}

#[derive(Debug)]
struct ClockState {
    /// Where real time is counted from; `None`: a manual clock, which
    /// moves only when advanced.
    real_start: Option<Instant>,
    /// What `advance` added.
    advanced: Duration,
}

impl Clock {
    /// A clock that follows real time (and what `advance` adds to it).
    pub(crate) fn real() -> Clock {
        Clock::with_start(Some(Instant::now()))
    }

    /// A clock that stands still until advanced.
    pub(crate) fn manual() -> Clock {
        Clock::with_start(None)
    }

    fn with_start(real_start: Option<Instant>) -> Clock {
        Clock {
            state: Arc::new(Mutex::new(ClockState {
                real_start,
                advanced: Duration::ZERO,
            })),
        }
    }

    /// The time now, since the clock was made.
    pub(crate) fn now(&self) -> Duration {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let real = state.real_start.map_or(Duration::ZERO, |start| start.elapsed());
        real.saturating_add(state.advanced)
    }

    /// Moves the clock forward by `by`.
    pub(crate) fn advance(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.advanced = state.advanced.saturating_add(by);
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::real()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Clock;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let clock = Clock::manual();
        assert_eq!(clock.now(), Duration::ZERO);
        let shared = clock.clone();
        shared.advance(Duration::from_secs(240));
        assert_eq!(clock.now(), Duration::from_secs(240));
    }

    #[test]
    fn a_real_clock_adds_what_was_advanced() {
        let clock = Clock::real();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() >= Duration::from_secs(3600));
    }
}
