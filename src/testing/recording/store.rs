//! What a fixture recorded, shared between the server task (which writes)
//! and the test (which reads and waits).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, Notify};

use super::dns::DnsRecords;
use super::duplicates::Arrivals;
use super::refusals::{RefusedRecipient, RejectedMessage};
use super::transcript::{SharedTranscript, Transcript};
use crate::protocol::{Message, SessionInfo};
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::scripting::rules::Refusals;

/// Sessions whose transcripts are kept; older ones are dropped so a fixture
/// that serves millions of sessions stays bounded.
const MAX_TRANSCRIPTS: usize = 10_000;

/// What the service keeps beside each stored message.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
#[derive(Debug, Clone, Default)]
pub(crate) struct MessageMeta {
    /// The message's number in this store: never reused, so an HTTP client
    /// can name a message (Mailpit's `ID`).
    pub(crate) id: u64,
    /// Whether an HTTP client has read it (Mailpit's `Read`).
    pub(crate) read: bool,
    /// Mailpit's message tags.
    pub(crate) tags: Vec<String>,
}

/// A change to the records, for the service's event stream.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
#[derive(Debug, Clone)]
pub(crate) enum StoreEvent {
    /// The message with this id was stored.
    Accepted(u64),
    /// A message got a refusal as its final reply.
    Rejected(Box<RejectedMessage>),
    /// These messages were deleted (or dropped as the oldest).
    Deleted(Vec<u64>),
    /// Everything was cleared.
    Cleared,
}

#[derive(Default)]
pub(crate) struct Records {
    pub(crate) messages: VecDeque<ReceivedMessage>,
    /// One entry per message, in the same order.
    pub(crate) meta: VecDeque<MessageMeta>,
    pub(crate) rejected: VecDeque<RejectedMessage>,
    pub(crate) refused_recipients: VecDeque<RefusedRecipient>,
    pub(crate) transcripts: VecDeque<(u64, SharedTranscript)>,
    pub(crate) transcripts_dropped: usize,
    /// The id the next message gets.
    next_id: u64,
    /// Messages deleted or dropped since the start (Mailpit's
    /// `MessagesDeleted`).
    pub(crate) deleted: u64,
    /// Messages accepted since the start, and their bytes.
    pub(crate) accepted: u64,
    pub(crate) accepted_bytes: u64,
    /// Messages refused at the final reply since the start.
    pub(crate) rejected_total: u64,
    /// What arrived before, to mark duplicates.
    arrivals: Arrivals,
}

#[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
impl Records {
    /// The live transcript of session `id`, if still kept: the newest
    /// session is usually the one asked for, so the search starts there.
    fn transcript_of(&self, id: u64) -> Option<&SharedTranscript> {
        self.transcripts
            .iter()
            .rev()
            .find(|(session, _)| *session == id)
            .map(|(_, t)| t)
    }

    /// The position of message `id`.
    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        // Ids rise with the position, so a binary search finds it.
        self.meta.binary_search_by_key(&id, |meta| meta.id).ok()
    }
}

/// The records plus the means to wait for them to change.
pub(crate) struct Store {
    records: Mutex<Records>,
    changed: Condvar,
    /// Threads in `wait_until` (changed under the records' lock): with
    /// none, a change wakes nobody and costs no futex call.
    blocked: AtomicUsize,
    notify: Notify,
    /// Messages (and refused messages) kept; the oldest go first beyond it.
    limit: usize,
    /// Made by the first subscriber: its 1 024 slots would be most of an
    /// idle fixture's memory (48 KiB), and a fixture that nobody watches
    /// publishes nothing (asking the channel takes its lock).
    events: OnceLock<broadcast::Sender<StoreEvent>>,
    /// How a message gets its tags as it is stored: service mode sets
    /// Mailpit's sources (`X-Tags`, plus addresses); without it, `X-Tags`.
    tagger: OnceLock<Tagger>,
    /// The test's DNS records, handed to each message recorded.
    dns: DnsRecords,
}

/// The tags of a message about to be stored.
pub(crate) type Tagger = Box<dyn Fn(&ReceivedMessage) -> Vec<String> + Send + Sync>;

impl Default for Store {
    fn default() -> Store {
        Store::bounded(usize::MAX)
    }
}

/// Events a slow event-stream reader may fall behind by before it misses some.
const EVENTS_BUFFERED: usize = 1024;

impl Store {
    /// A store that keeps at most `limit` messages, dropping the oldest.
    pub(crate) fn bounded(limit: usize) -> Store {
        Store {
            records: Mutex::default(),
            changed: Condvar::new(),
            blocked: AtomicUsize::new(0),
            notify: Notify::new(),
            limit: limit.max(1),
            events: OnceLock::new(),
            tagger: OnceLock::new(),
            dns: DnsRecords::default(),
        }
    }

    /// Tags each message stored from now on with `tagger` instead of its
    /// `X-Tags` header; the first call wins.
    #[cfg_attr(not(feature = "http"), allow(dead_code))] // set by the service only
    pub(crate) fn tag_with(&self, tagger: Tagger) {
        let _ = self.tagger.set(tagger);
    }

    /// The store, handing `dns` to every message it records.
    pub(crate) fn with_dns(mut self, dns: DnsRecords) -> Store {
        self.dns = dns;
        self
    }

    /// Changes from now on (for the service's event stream).
    #[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StoreEvent> {
        self.events
            .get_or_init(|| broadcast::channel(EVENTS_BUFFERED).0)
            .subscribe()
    }

    fn publish(&self, event: impl FnOnce() -> StoreEvent) {
        if let Some(events) = self.events.get() {
            if events.receiver_count() > 0 {
                let _ = events.send(event());
            }
        }
    }

    /// Deletes the messages for which `doomed` holds; returns their ids.
    #[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
    pub(crate) fn delete_where(
        &self,
        mut doomed: impl FnMut(&ReceivedMessage, &MessageMeta) -> bool,
    ) -> Vec<u64> {
        let mut deleted = Vec::new();
        {
            let mut records = self.lock();
            let records = &mut *records;
            let messages = std::mem::take(&mut records.messages);
            let meta = std::mem::take(&mut records.meta);
            for (message, meta) in messages.into_iter().zip(meta) {
                if doomed(&message, &meta) {
                    deleted.push(meta.id);
                } else {
                    records.messages.push_back(message);
                    records.meta.push_back(meta);
                }
            }
            records.deleted += deleted.len() as u64;
        }
        if !deleted.is_empty() {
            let ids = deleted.clone();
            self.publish(move || StoreEvent::Deleted(ids));
            self.changed();
        }
        deleted
    }

    /// Deletes every message (the refusals and transcripts stay).
    #[cfg_attr(not(feature = "http"), allow(dead_code))] // read by the service only
    pub(crate) fn clear_messages(&self) {
        self.delete_where(|_, _| true);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Records> {
        crate::lock::lock(&self.records)
    }

    /// A session's transcript was marked closed: wakes the waiters. The
    /// mark is made under the transcript's own lock; taking the records'
    /// lock after it keeps `changed`'s promise (a waiter that checked before
    /// this counted itself first, one that checks after sees the mark).
    pub(crate) fn session_closed(&self) {
        drop(self.lock());
        self.changed();
    }

    fn changed(&self) {
        // A waiter counts itself under the records' lock before it checks
        // them, and the change was made under that lock before this: either
        // the change is seen by its check, or the count is seen here.
        if self.blocked.load(Ordering::SeqCst) > 0 {
            self.changed.notify_all();
        }
        self.notify.notify_waiters();
    }

    /// Records a message made elsewhere: an inbox's copy of one the server
    /// recorded.
    pub(crate) fn push_message(&self, message: ReceivedMessage) {
        self.push_message_of(message, None);
    }

    /// Records a message the server accepted, with the transcript of its
    /// session: one lock for the lookup and the push.
    pub(crate) fn push_accepted(&self, message: Message) {
        let session = message.session.id;
        self.push_message_of(
            ReceivedMessage::recorded(message, SharedTranscript::default()),
            Some(session),
        );
    }

    /// Pushes `message`; with `session`, it gets that session's transcript
    /// (looked up under the same lock).
    fn push_message_of(&self, mut message: ReceivedMessage, session: Option<u64>) {
        // Outside the lock: a tagger may parse the message.
        let tags = match self.tagger.get() {
            Some(tagger) => tagger(&message),
            None => x_tags(&message.data),
        };
        let (id, dropped) = {
            let mut records = self.lock();
            if let Some(session) = session {
                message.transcript = records.transcript_of(session).cloned().unwrap_or_default();
                message.dns = self.dns.clone();
            }
            message.duplicate = records.arrivals.arrived(&message, self.limit);
            let id = records.next_id + 1;
            records.next_id = id;
            records.accepted += 1;
            records.accepted_bytes += message.data.len() as u64;
            records.messages.push_back(message);
            records.meta.push_back(MessageMeta {
                id,
                tags,
                ..MessageMeta::default()
            });
            let mut dropped = Vec::new();
            while records.messages.len() > self.limit {
                records.messages.pop_front();
                dropped.extend(records.meta.pop_front().map(|meta| meta.id));
            }
            records.deleted += dropped.len() as u64;
            (id, dropped)
        };
        if !dropped.is_empty() {
            self.publish(|| StoreEvent::Deleted(dropped));
        }
        self.publish(|| StoreEvent::Accepted(id));
        self.changed();
    }

    pub(crate) fn push_rejected(&self, rejected: RejectedMessage) {
        {
            let mut records = self.lock();
            records.rejected.push_back(rejected.clone());
            records.rejected_total += 1;
            if records.rejected.len() > self.limit {
                records.rejected.pop_front();
            }
        }
        self.publish(|| StoreEvent::Rejected(Box::new(rejected)));
        self.changed();
    }

    pub(crate) fn push_refused_recipient(&self, refused: RefusedRecipient) {
        {
            let mut records = self.lock();
            records.refused_recipients.push_back(refused);
            if records.refused_recipients.len() > self.limit {
                records.refused_recipients.pop_front();
            }
        }
        self.changed();
    }

    pub(crate) fn push_transcript(&self, session_id: u64, transcript: SharedTranscript) {
        let mut records = self.lock();
        records.transcripts.push_back((session_id, transcript));
        if records.transcripts.len() > MAX_TRANSCRIPTS {
            records.transcripts.pop_front();
            records.transcripts_dropped += 1;
        }
    }

    pub(crate) fn clear(&self) {
        self.clear_records();
        self.publish(|| StoreEvent::Cleared);
        self.changed();
    }

    fn clear_records(&self) {
        let mut records = self.lock();
        records.deleted += records.messages.len() as u64;
        records.messages.clear();
        records.meta.clear();
        records.rejected.clear();
        records.refused_recipients.clear();
        records.transcripts.retain(|(_, t)| !t.is_closed());
        records.transcripts_dropped = 0;
        records.arrivals.clear();
    }

    /// Blocks until `done` holds for the records, or `timeout` passes.
    /// Returns whether it held.
    pub(crate) fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Records) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut records = self.lock();
        self.blocked.fetch_add(1, Ordering::SeqCst);
        let held = loop {
            if done(&records) {
                break true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break false;
            }
            records = self
                .changed
                .wait_timeout(records, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        };
        self.blocked.fetch_sub(1, Ordering::SeqCst);
        held
    }

    /// Waits, without blocking a thread, until `done` holds; the caller
    /// bounds the time.
    pub(crate) async fn changed_until(&self, mut done: impl FnMut(&Records) -> bool) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(&self.lock()) {
                return;
            }
            notified.await;
        }
    }

    /// A copy of every transcript, oldest first.
    pub(crate) fn transcripts(&self) -> Vec<Transcript> {
        let shared: Vec<SharedTranscript> = self.lock().transcripts.iter().map(|(_, t)| t.clone()).collect();
        shared.iter().map(SharedTranscript::snapshot).collect()
    }

    /// The live transcript of session `id`, if still kept.
    pub(crate) fn transcript(&self, id: u64) -> Option<SharedTranscript> {
        self.lock().transcript_of(id).cloned()
    }
}

impl Refusals for Store {
    fn message(&self, message: &Message, reply: Option<&crate::Reply>) {
        self.push_rejected(RejectedMessage {
            message: message.clone().into(),
            reply: reply.cloned(),
        });
    }

    fn recipient(&self, session: &SessionInfo, address: &str, reply: Option<&crate::Reply>) {
        self.push_refused_recipient(RefusedRecipient {
            address: address.to_string(),
            reply: reply.cloned(),
            session_id: session.id,
            after_data: false,
        });
    }

    fn recipient_after_data(&self, session: &SessionInfo, address: &str, reply: &crate::Reply) {
        self.push_refused_recipient(RefusedRecipient {
            address: address.to_string(),
            reply: Some(reply.clone()),
            session_id: session.id,
            after_data: true,
        });
    }
}

/// The tags an `X-Tags: a, b` header gives (Mailpit tags a message so as
/// it stores it): trimmed, sorted, each once. Reads only the header block.
pub(crate) fn x_tags(data: &[u8]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut value: Option<String> = None;
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if let Some(value) = &mut value {
                value.push_str(&String::from_utf8_lossy(line));
            }
            continue;
        }
        if let Some(done) = value.take() {
            tags.extend(done.split(',').map(|t| t.trim().to_string()));
        }
        if line.is_empty() {
            break;
        }
        if line.len() > 7 && line[..7].eq_ignore_ascii_case(b"x-tags:") {
            value = Some(String::from_utf8_lossy(&line[7..]).into_owned());
        }
    }
    if let Some(done) = value {
        tags.extend(done.split(',').map(|t| t.trim().to_string()));
    }
    tags.retain(|t| !t.is_empty());
    tags.sort();
    tags.dedup();
    tags
}

mod inbox_copies;
#[cfg(test)]
mod tests;
