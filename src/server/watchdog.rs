//! One timer for all sessions of a server: idle and session time limits,
//! and the signal to stop.
//!
//! A tokio timer per session costs, for every connection, a registration in
//! the timer wheel (which, when it becomes the earliest timer, wakes the
//! runtime through an eventfd: one system call per connection) and a poll
//! of the timer and of a shutdown channel beside every read. Here a session
//! only counts its reads in an atomic; one task per server wakes every
//! eighth of the idle timeout (or sooner, when a session is due), notes
//! which sessions read since it last looked, and wakes only those that are
//! over their limit.
//!
//! Why counts and not times: reading the clock beside every read cost more
//! than the rest of the watchdog together. The price is precision: a read
//! is dated by the scan that first sees it, so an idle session times out
//! between the idle timeout and an eighth more after its last read.
//!
//! Why the watchdog is never told about new sessions: it scans every
//! eighth of the idle timeout anyway, and a new session is dated by the
//! first scan that sees it, like a read.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::AbortHandle;
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

/// How many scans per idle timeout: the idle timeout's precision.
const SCANS_PER_IDLE_TIMEOUT: u32 = 8;
/// The shortest pause between scans, so that a zero idle timeout does not
/// spin.
const MIN_SCAN_INTERVAL: Duration = Duration::from_millis(1);

/// What a session shares with the watchdog.
pub(super) struct Watched {
    /// How many reads the session made; only the session writes it.
    reads: AtomicU64,
    /// Nanoseconds from the epoch to the session's end, if limited.
    session_deadline: Option<u64>,
    alarm: AtomicU8,
    /// The task waiting in [`Registration::alarmed`]: only the session's
    /// own task waits, so one slot is enough. Cheaper than a `Notify`,
    /// whose waiter list is locked twice per wait (once to join, once to
    /// leave), and a session waits beside every read. Locked only when the
    /// waker changes (see [`Registration::poll_alarmed`]).
    waiter: Mutex<Option<Waker>>,
}

/// The watchdog's own view of one session (kept under the sessions lock).
struct Slot {
    watched: Arc<Watched>,
    /// `Watched::reads` at the last scan.
    reads_seen: u64,
    /// Nanoseconds from the epoch to the scan that first saw the session's
    /// latest read ([`NOT_SEEN`] before its first scan).
    last_activity: u64,
    /// The session's task, to cut it off after the shutdown grace (see
    /// [`Watchdog::attach`]).
    task: Option<AbortHandle>,
}

/// `Slot::last_activity` of a session no scan has seen yet.
const NOT_SEEN: u64 = u64::MAX;

struct Shared {
    epoch: Instant,
    idle_timeout: Duration,
    session_timeout: Option<Duration>,
    sessions: Mutex<Sessions>,
    stopping: AtomicBool,
    /// Wakes the watchdog task when the server stops.
    stop: Notify,
    /// Told when the last session ends while the server stops.
    all_ended: Notify,
}

#[derive(Default)]
struct Sessions {
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
}

impl Sessions {
    /// How many sessions are registered.
    fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
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
    /// The session's own copy of `Watched::reads`, so counting a read is
    /// one store.
    reads: u64,
    /// A clone of the waker in `Watched::waiter`: while the task's waker
    /// stays the same, waiting again locks nothing.
    registered: Option<Waker>,
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
                all_ended: Notify::new(),
            }),
        }
    }

    /// Registers a session that starts now.
    pub(super) fn register(&self) -> Registration {
        let shared = &self.shared;
        // Only a session limit needs the start time exactly; the idle time
        // starts at the first scan that sees the session.
        let session_deadline = shared.session_timeout.map(|limit| {
            shared
                .nanos_since_epoch(Instant::now())
                .saturating_add(nanos(limit))
        });
        let watched = Arc::new(Watched {
            reads: AtomicU64::new(0),
            session_deadline,
            alarm: AtomicU8::new(if shared.stopping.load(Ordering::Acquire) {
                SHUTTING_DOWN
            } else {
                NO_ALARM
            }),
            waiter: Mutex::new(None),
        });
        let entry = Slot {
            watched: watched.clone(),
            reads_seen: 0,
            last_activity: NOT_SEEN,
            task: None,
        };
        let mut sessions = shared.lock();
        let slot = match sessions.free.pop() {
            Some(slot) => {
                sessions.slots[slot] = Some(entry);
                slot
            }
            None => {
                sessions.slots.push(Some(entry));
                sessions.slots.len() - 1
            }
        };
        drop(sessions);
        Registration {
            shared: shared.clone(),
            slot,
            watched,
            reads: 0,
            registered: None,
        }
    }

    /// Tells every session, present and future, that the server stops.
    pub(super) fn stop(&self) {
        let shared = &self.shared;
        shared.stopping.store(true, Ordering::Release);
        shared.stop.notify_one();
        let sessions = shared.lock();
        for slot in sessions.slots.iter().flatten() {
            slot.watched.raise(SHUTTING_DOWN);
        }
    }

    /// Links the session registered as `registration_slot` (see
    /// [`Registration::slot`]) to its task, so that [`Watchdog::abort_all`]
    /// can cut it off. A session that already ended is left alone; its slot
    /// cannot have been reused, as only the caller registers sessions.
    pub(super) fn attach(&self, registration_slot: usize, task: AbortHandle) {
        let mut sessions = self.shared.lock();
        if let Some(Some(slot)) = sessions.slots.get_mut(registration_slot) {
            slot.task = Some(task);
        }
    }

    /// Cuts off the task of every session still registered.
    pub(super) fn abort_all(&self) {
        let sessions = self.shared.lock();
        for task in sessions
            .slots
            .iter()
            .flatten()
            .filter_map(|slot| slot.task.as_ref())
        {
            task.abort();
        }
    }

    /// Completes once no session is registered; only after [`Watchdog::stop`]
    /// (only then do ending sessions say so).
    pub(super) async fn all_ended(&self) {
        loop {
            let notified = self.shared.all_ended.notified();
            if self.shared.lock().live() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Wakes sessions that are over their limits, until the server stops.
    pub(super) async fn run(self) {
        let shared = &*self.shared;
        // A session registered during a pause can be due no sooner than
        // its session limit after: pauses no longer than that see it in
        // time.
        let idle_interval = shared.idle_timeout / SCANS_PER_IDLE_TIMEOUT;
        let interval = shared
            .session_timeout
            .map_or(idle_interval, |limit| limit.min(idle_interval))
            .max(MIN_SCAN_INTERVAL);
        while !shared.stopping.load(Ordering::Acquire) {
            let now = Instant::now();
            let earliest = shared.wake_overdue(now);
            let next = earliest.map_or(now + interval, |due| due.min(now + interval));
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

    /// Dates the reads made since the last scan at `now`, and raises the
    /// alarm of every session that is due; returns when the next one will
    /// be.
    fn wake_overdue(&self, now: Instant) -> Option<Instant> {
        let now_nanos = self.nanos_since_epoch(now);
        let idle = nanos(self.idle_timeout);
        let mut sessions = self.lock();
        let mut earliest: Option<u64> = None;
        for slot in sessions.slots.iter_mut().flatten() {
            let watched = &*slot.watched;
            if watched.alarm.load(Ordering::Relaxed) != NO_ALARM {
                continue;
            }
            let reads = watched.reads.load(Ordering::Relaxed);
            if slot.last_activity == NOT_SEEN || reads != slot.reads_seen {
                slot.reads_seen = reads;
                slot.last_activity = now_nanos;
            }
            let idle_due = slot.last_activity.saturating_add(idle);
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
    pub(super) fn touch(&mut self) {
        self.reads = self.reads.wrapping_add(1);
        self.watched.reads.store(self.reads, Ordering::Relaxed);
    }

    /// Why the session must end, if it must.
    pub(super) fn alarm(&self) -> Option<Alarm> {
        match self.watched.alarm.load(Ordering::Acquire) {
            TIMED_OUT => Some(Alarm::TimedOut),
            SHUTTING_DOWN => Some(Alarm::ShuttingDown),
            _ => None,
        }
    }

    /// Ready when the watchdog raised this session's alarm; otherwise the
    /// task is woken when it does.
    pub(super) fn poll_alarmed(&mut self, cx: &mut Context<'_>) -> Poll<Alarm> {
        if let Some(alarm) = self.alarm() {
            return Poll::Ready(alarm);
        }
        // The slot still holds the waker stored last time: only `raise`
        // takes it out, and only after it set the alarm, which was not set
        // just now.
        if self
            .registered
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let waker = cx.waker().clone();
        *self.watched.waiter.lock().unwrap_or_else(PoisonError::into_inner) = Some(waker.clone());
        self.registered = Some(waker);
        // Raised before the waker was in place: `raise` found no one to
        // wake, so look again.
        match self.alarm() {
            Some(alarm) => Poll::Ready(alarm),
            None => Poll::Pending,
        }
    }

    /// Completes when the watchdog raises this session's alarm (at once if
    /// it already did).
    pub(super) async fn alarmed(&mut self) -> Alarm {
        std::future::poll_fn(|cx| self.poll_alarmed(cx)).await
    }
}

impl Registration {
    /// The session's slot, for [`Watchdog::attach`].
    pub(super) fn slot(&self) -> usize {
        self.slot
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut sessions = self.shared.lock();
        let ended = sessions.slots.get_mut(self.slot).and_then(Option::take);
        if ended.is_some() {
            sessions.free.push(self.slot);
        }
        let last = sessions.live() == 0;
        drop(sessions);
        // The task handle is dropped outside the lock: it may free the task.
        drop(ended);
        if last && self.shared.stopping.load(Ordering::Acquire) {
            self.shared.all_ended.notify_one();
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// Whether `elapsed` is `limit`, or later by at most the scan interval
    /// (the watchdog's precision for idle time).
    fn within_a_scan(elapsed: Duration, limit: Duration, idle: Duration) -> bool {
        elapsed >= limit && elapsed <= limit + idle / SCANS_PER_IDLE_TIMEOUT
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_session_is_woken_after_the_idle_timeout() {
        let idle = Duration::from_secs(10);
        let watchdog = Watchdog::new(idle, None);
        tokio::spawn(watchdog.clone().run());
        let mut session = watchdog.register();
        let started = Instant::now();
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        assert!(
            within_a_scan(started.elapsed(), idle, idle),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn reading_postpones_the_idle_timeout() {
        let idle = Duration::from_secs(10);
        let watchdog = Watchdog::new(idle, None);
        tokio::spawn(watchdog.clone().run());
        let mut session = watchdog.register();
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(7)).await;
        session.touch();
        assert_eq!(session.alarm(), None);
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        let elapsed = started.elapsed();
        assert!(
            within_a_scan(elapsed, Duration::from_secs(17), idle),
            "{elapsed:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_session_limit_holds_however_busy_the_session_is() {
        let watchdog = Watchdog::new(Duration::from_secs(10), Some(Duration::from_secs(25)));
        tokio::spawn(watchdog.clone().run());
        let mut session = watchdog.register();
        let reads = session.watched.clone();
        let started = Instant::now();
        let busy = async {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                // What `touch` does, from beside the waiting session.
                reads.reads.fetch_add(1, Ordering::Relaxed);
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
        let idle = Duration::from_secs(10);
        let watchdog = Watchdog::new(idle, None);
        tokio::spawn(watchdog.clone().run());
        tokio::time::sleep(Duration::from_secs(4)).await;
        let mut session = watchdog.register();
        let registered = Instant::now();
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        let elapsed = registered.elapsed();
        assert!(within_a_scan(elapsed, idle, idle), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_limit_shorter_than_a_scan_interval_is_kept() {
        let limit = Duration::from_secs(3);
        let watchdog = Watchdog::new(Duration::from_secs(300), Some(limit));
        tokio::spawn(watchdog.clone().run());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut session = watchdog.register();
        let registered = Instant::now();
        assert_eq!(session.alarmed().await, Alarm::TimedOut);
        assert_eq!(registered.elapsed(), limit);
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_wakes_every_session_and_marks_later_ones() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        let task = tokio::spawn(watchdog.clone().run());
        let mut sessions: Vec<_> = (0..3).map(|_| watchdog.register()).collect();
        watchdog.stop();
        for session in &mut sessions {
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

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let count = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn the_alarm_wakes_the_latest_waker_even_when_the_waker_changed() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        let mut session = watchdog.register();
        let (first_count, first) = counting_waker();
        let (second_count, second) = counting_waker();
        assert!(session
            .poll_alarmed(&mut Context::from_waker(&first))
            .is_pending());
        // The same waker again: nothing to store.
        assert!(session
            .poll_alarmed(&mut Context::from_waker(&first))
            .is_pending());
        assert!(session
            .poll_alarmed(&mut Context::from_waker(&second))
            .is_pending());
        watchdog.stop();
        assert_eq!(first_count.0.load(Ordering::SeqCst), 0);
        assert_eq!(second_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            session.poll_alarmed(&mut Context::from_waker(&second)),
            Poll::Ready(Alarm::ShuttingDown)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_is_seen_by_the_next_scan() {
        let idle = Duration::from_secs(8);
        let watchdog = Watchdog::new(idle, None);
        let mut session = watchdog.register();
        let shared = &watchdog.shared;
        let start = Instant::now();
        assert_eq!(shared.wake_overdue(start), Some(start + idle));
        session.touch();
        let later = start + Duration::from_secs(3);
        assert_eq!(shared.wake_overdue(later), Some(later + idle));
        // No read since: the due time stays.
        assert_eq!(
            shared.wake_overdue(later + Duration::from_secs(1)),
            Some(later + idle)
        );
        assert_eq!(shared.wake_overdue(later + idle), None);
        assert_eq!(session.alarm(), Some(Alarm::TimedOut));
    }

    #[tokio::test(start_paused = true)]
    async fn the_last_session_ends_the_wait_and_aborting_cuts_tasks_off() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        let registration = watchdog.register();
        let slot = registration.slot();
        let task = tokio::spawn(async move {
            let _held = registration;
            std::future::pending::<()>().await;
        });
        watchdog.attach(slot, task.abort_handle());
        watchdog.stop();
        let still_running = tokio::time::timeout(Duration::from_secs(1), watchdog.all_ended()).await;
        assert!(still_running.is_err(), "a session is still registered");
        watchdog.abort_all();
        watchdog.all_ended().await;
        assert!(task.await.expect_err("aborted").is_cancelled());
    }

    #[tokio::test]
    async fn attaching_a_session_that_already_ended_changes_nothing() {
        let watchdog = Watchdog::new(Duration::from_secs(300), None);
        let registration = watchdog.register();
        let slot = registration.slot();
        let task = tokio::spawn(async move { drop(registration) });
        let abort = task.abort_handle();
        task.await.expect("the task ends");
        watchdog.attach(slot, abort);
        assert_eq!(watchdog.shared.lock().live(), 0);
        watchdog.stop();
        watchdog.all_ended().await;
    }
}
