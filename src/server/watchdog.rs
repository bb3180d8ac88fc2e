//! One timer for all sessions of a server: idle and session time limits,
//! and the signal to stop.
//!
//! A tokio timer per session costs, for every connection, a registration in
//! the timer wheel (which, when it becomes the earliest timer, wakes the
//! runtime through an eventfd: one system call per connection) and a poll
//! of the timer and of a shutdown channel beside every read. Here a session
//! only stores the time of its last read in an atomic; one task per server
//! sleeps until the earliest deadline any session could have, looks at all
//! sessions, and wakes only those that are over their limit.
//!
//! Why the sleeps are long: a session registered after the watchdog went to
//! sleep cannot be due before `now + min(idle, session limit)`, so the
//! watchdog never needs to be told about new sessions.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Why the watchdog woke a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alarm {
    /// Idle for too long, or past the session time limit.
    TimedOut,
    /// The server is stopping.
    ShuttingDown,
}

const NO_ALARM: u8 = 0;
const TIMED_OUT: u8 = 1;
const SHUTTING_DOWN: u8 = 2;

/// The watchdog's side of one session.
pub(super) struct Watched {
    /// Nanoseconds from the watchdog's epoch to the session's last read.
    last_activity: AtomicU64,
    /// Nanoseconds from the epoch to the session's end, if limited.
    session_deadline: Option<u64>,
    alarm: AtomicU8,
    /// The task waiting in [`Registration::alarmed`]: only the session's
    /// own task waits, so one slot is enough. Cheaper than a `Notify`,
    /// whose waiter list is locked twice per wait (once to join, once to
    /// leave), and a session waits beside every read.
    waiter: Mutex<Option<Waker>>,
}

struct Shared {
    epoch: Instant,
    idle_timeout: Duration,
    session_timeout: Option<Duration>,
    sessions: Mutex<Sessions>,
    stopping: AtomicBool,
    /// Wakes the watchdog task when the server stops.
    stop: Notify,
}

#[derive(Default)]
struct Sessions {
    slots: Vec<Option<Arc<Watched>>>,
    free: Vec<usize>,
}

/// The handle a server keeps; cloned into every session.
#[derive(Clone)]
pub(super) struct Watchdog {
    shared: Arc<Shared>,
}

/// A session's registration; dropping it removes the session.
pub(super) struct Registration {
    shared: Arc<Shared>,
    slot: usize,
    watched: Arc<Watched>,
}

impl Watchdog {
    /// A watchdog for sessions with these limits; run [`Watchdog::run`] as a
    /// task.
    pub(super) fn new(idle_timeout: Duration, session_timeout: Option<Duration>) -> Watchdog {
        Watchdog {
            shared: Arc::new(Shared {
                epoch: Instant::now(),
                idle_timeout,
                session_timeout,
                sessions: Mutex::new(Sessions::default()),
                stopping: AtomicBool::new(false),
                stop: Notify::new(),
            }),
        }
    }

    /// Registers a session that starts now.
    pub(super) fn register(&self) -> Registration {
        let shared = &self.shared;
        let now = shared.nanos_since_epoch(Instant::now());
        let watched = Arc::new(Watched {
            last_activity: AtomicU64::new(now),
            session_deadline: shared
                .session_timeout
                .map(|limit| now.saturating_add(nanos(limit))),
            alarm: AtomicU8::new(if shared.stopping.load(Ordering::Acquire) {
                SHUTTING_DOWN
            } else {
                NO_ALARM
            }),
            waiter: Mutex::new(None),
        });
        let mut sessions = shared.lock();
        let slot = match sessions.free.pop() {
            Some(slot) => {
                sessions.slots[slot] = Some(watched.clone());
                slot
            }
            None => {
                sessions.slots.push(Some(watched.clone()));
                sessions.slots.len() - 1
            }
        };
        drop(sessions);
        Registration {
            shared: shared.clone(),
            slot,
            watched,
        }
    }

    /// Tells every session, present and future, that the server stops.
    pub(super) fn stop(&self) {
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::Release);
        shared.stop.notify_one();
        let sessions = shared.lock();
        for watched in sessions.slots.iter().flatten() {
            watched.raise(SHUTTING_DOWN);
        }
    }

    /// Wakes sessions that are over their limits, until the server stops.
    pub(super) async fn run(self) {
        let shared = &*self.shared;
        // The earliest any session registered from now on can be due.
        let fresh_limit = shared
            .session_timeout
            .map_or(shared.idle_timeout, |limit| limit.min(shared.idle_timeout));
        while !shared.stopping.load(Ordering::Acquire) {
            let now = Instant::now();
            let earliest = shared.wake_overdue(now);
            let next = earliest.map_or(now + fresh_limit, |due| due.min(now + fresh_limit));
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = shared.stop.notified() => {}
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Sessions> {
        crate::lock::lock(&self.sessions)
    }

    fn nanos_since_epoch(&self, at: Instant) -> u64 {
        nanos(at.saturating_duration_since(self.epoch))
    }

    /// Raises the alarm of every session that is due at `now`; returns
    /// when the next one will be.
    fn wake_overdue(&self, now: Instant) -> Option<Instant> {
        let now_nanos = self.nanos_since_epoch(now);
        let idle = nanos(self.idle_timeout);
        let sessions = self.lock();
        let mut earliest: Option<u64> = None;
        for watched in sessions.slots.iter().flatten() {
            if watched.alarm.load(Ordering::Relaxed) != NO_ALARM {
                continue;
            }
            let idle_due = watched.last_activity.load(Ordering::Relaxed).saturating_add(idle);
            let due = watched.session_deadline.map_or(idle_due, |end| end.min(idle_due));
            if due <= now_nanos {
                watched.raise(TIMED_OUT);
            } else {
                earliest = Some(earliest.map_or(due, |e| e.min(due)));
            }
        }
        earliest.map(|due| self.epoch + Duration::from_nanos(due))
    }
}

impl Watched {
    fn raise(&self, alarm: u8) {
        if self
            .alarm
            .compare_exchange(NO_ALARM, alarm, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let waiter = self.waiter.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(waker) = waiter {
                waker.wake();
            }
        }
    }
}

impl Registration {
    /// The session read something: its idle time starts again.
    pub(super) fn touch(&self) {
        let now = self.shared.nanos_since_epoch(Instant::now());
        self.watched.last_activity.store(now, Ordering::Relaxed);
    }

    /// Why the session must end, if it must.
    pub(super) fn alarm(&self) -> Option<Alarm> {
        match self.watched.alarm.load(Ordering::Acquire) {
            TIMED_OUT => Some(Alarm::TimedOut),
            SHUTTING_DOWN => Some(Alarm::ShuttingDown),
            _ => None,
        }
    }

    /// Completes when the watchdog raises this session's alarm (at once if
    /// it already did).
    pub(super) async fn alarmed(&self) -> Alarm {
        std::future::poll_fn(|cx| {
            if let Some(alarm) = self.alarm() {
                return Poll::Ready(alarm);
            }
            let mut waiter = self.watched.waiter.lock().unwrap_or_else(PoisonError::into_inner);
            if !waiter.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
                *waiter = Some(cx.waker().clone());
            }
            drop(waiter);
            // Raised before the waker was in place: `raise` found no one
            // to wake, so look again.
            match self.alarm() {
                Some(alarm) => Poll::Ready(alarm),
                None => Poll::Pending,
            }
        })
        .await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sessions = self.shared.lock();
        if let Some(slot) = sessions.slots.get_mut(self.slot) {
            *slot = None;
            sessions.free.push(self.slot);
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_idle_session_is_woken_after_the_idle_timeout() {
        let watchdog = Watchdog::new(Duration::from_secs(10), None);
        tokio::spawn(watchdog.clone().run());
        let session = watchdog.register();
        let started = Instant::now();
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn reading_postpones_the_idle_timeout() {
        let watchdog = Watchdog::new(Duration::from_secs(10), None);
        tokio::spawn(watchdog.clone().run());
        let session = watchdog.register();
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(7)).await;
        session.touch();
        assert_eq!(session.alarm(), None);
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(17));
    }

    #[tokio::test(start_paused = true)]
    async fn the_session_limit_holds_however_busy_the_session_is() {
        let watchdog = Watchdog::new(Duration::from_secs(10), Some(Duration::from_secs(25)));
        tokio::spawn(watchdog.clone().run());
        let session = watchdog.register();
        let started = Instant::now();
        let busy = async {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                session.touch();
            }
        };
        tokio::select! {
            alarm = session.alarmed() => assert_eq!(alarm, Alarm::TimedOut),
            () = busy => unreachable!(),
        }
        assert_eq!(started.elapsed(), Duration::from_secs(25));
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_registered_while_the_watchdog_sleeps_is_still_timed() {
        let watchdog = Watchdog::new(Duration::from_secs(10), None);
        tokio::spawn(watchdog.clone().run());
        tokio::time::sleep(Duration::from_secs(4)).await;
        let session = watchdog.register();
        let registered = Instant::now();
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        assert_eq!(registered.elapsed(), Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_wakes_every_session_and_marks_later_ones() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        let task = tokio::spawn(watchdog.clone().run());
        let sessions: Vec<_> = (0..3).map(|_| watchdog.register()).collect();
        watchdog.stop();
        for session in &sessions {
            assert_eq!(session.alarmed().await, Alarm::ShuttingDown);
        }
        assert_eq!(watchdog.register().alarm(), Some(Alarm::ShuttingDown));
        task.await.expect("the watchdog task ends when the server stops");
    }

    #[tokio::test(start_paused = true)]
    async fn slots_of_ended_sessions_are_reused() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        for _ in 0..100 {
            drop(watchdog.register());
        }
        let kept: Vec<_> = (0..5).map(|_| watchdog.register()).collect();
        assert_eq!(watchdog.shared.lock().slots.len(), 5);
        drop(kept);
        assert_eq!(watchdog.shared.lock().free.len(), 5);
    }
}
