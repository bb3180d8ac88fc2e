//! What a fixture recorded, shared between the server task (which writes)
//! and the test (which reads and waits).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::message::ReceivedMessage;
use super::rules::Refusals;
use super::transcript::{SharedTranscript, Transcript};
use crate::protocol::{Message, SessionInfo};

/// Sessions whose transcripts are kept; older ones are dropped so a fixture
/// that serves millions of sessions stays bounded.
const MAX_TRANSCRIPTS: usize = 10_000;

/// A message the fixture refused at its final reply (kept so a test can see
/// the attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedMessage {
    /// The message as it would have been recorded.
    pub message: ReceivedMessage,
    /// The reply the client got instead of 250; `None` when the connection
    /// was cut or a scripted raw reply was sent instead.
    pub reply: Option<crate::Reply>,
}

/// A recipient refused at `RCPT TO` by a scripted rule or the handler: it
/// is in no envelope, so this is its only record besides the transcript.
///
/// ```
/// use smtp_fixture::{on, Reply, TestSmtpServer};
/// # use std::io::{BufRead, BufReader, Write};
/// # use std::net::TcpStream;
///
/// let server = TestSmtpServer::start();
/// server.respond(on::rcpt_to("gone@example.com"), Reply::new(550, "5.1.1 No such user"));
/// # let stream = TcpStream::connect(server.addr()).unwrap();
/// # let mut reader = BufReader::new(stream.try_clone().unwrap());
/// # let mut writer = stream;
/// # let mut line = String::new();
/// # writer.write_all(b"HELO me\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<gone@example.com>\r\nQUIT\r\n").unwrap();
/// # while reader.read_line(&mut line).unwrap() > 0 {}
/// // ... the application sends to gone@example.com ...
/// let refused = server.refused_recipients();
/// assert_eq!(refused[0].address, "gone@example.com");
/// assert_eq!(refused[0].reply.as_ref().map(|r| r.code()), Some(550));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedRecipient {
    /// The forward path as the client gave it, without angle brackets.
    pub address: String,
    /// The reply the client got; `None` when the connection was cut
    /// instead, or a raw reply was sent.
    pub reply: Option<crate::Reply>,
    /// The session it was refused in (see
    /// [`TestSmtpServer::transcripts`](crate::TestSmtpServer::transcripts)).
    pub session_id: u64,
}

#[derive(Default)]
pub(crate) struct Records {
    pub(crate) messages: Vec<ReceivedMessage>,
    pub(crate) rejected: Vec<RejectedMessage>,
    pub(crate) refused_recipients: Vec<RefusedRecipient>,
    pub(crate) transcripts: VecDeque<(u64, SharedTranscript)>,
    pub(crate) transcripts_dropped: usize,
}

/// The records plus the means to wait for them to change.
#[derive(Default)]
pub(crate) struct Store {
    records: Mutex<Records>,
    changed: Condvar,
    notify: Notify,
}

impl Store {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Records> {
        self.records
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn changed(&self) {
        self.changed.notify_all();
        self.notify.notify_waiters();
    }

    pub(crate) fn push_message(&self, message: ReceivedMessage) {
        self.lock().messages.push(message);
        self.changed();
    }

    pub(crate) fn push_rejected(&self, rejected: RejectedMessage) {
        self.lock().rejected.push(rejected);
        self.changed();
    }

    pub(crate) fn push_refused_recipient(&self, refused: RefusedRecipient) {
        self.lock().refused_recipients.push(refused);
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
        let mut records = self.lock();
        records.messages.clear();
        records.rejected.clear();
        records.refused_recipients.clear();
        records.transcripts.retain(|(_, t)| !t.snapshot().closed);
        records.transcripts_dropped = 0;
    }

    /// Blocks until `done` holds for the records, or `timeout` passes.
    /// Returns whether it held.
    pub(crate) fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Records) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut records = self.lock();
        loop {
            if done(&records) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            records = self
                .changed
                .wait_timeout(records, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
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
        let records = self.lock();
        records
            .transcripts
            .iter()
            .rev()
            .find(|(session, _)| *session == id)
            .map(|(_, t)| t.clone())
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
        });
    }
}
