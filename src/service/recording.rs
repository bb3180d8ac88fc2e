//! The handler of service mode: records what the server accepted into the
//! service's store (with the session transcripts), then lets the wrapped
//! handler do what it does (print, relay, drop).

use std::sync::Arc;

use crate::handler::{Handler, SessionLog, Wrapper};
use crate::protocol::{Message, SessionInfo};
use crate::testing::message::ReceivedMessage;
use crate::testing::store::Store;
use crate::testing::transcript::TranscriptLog;

/// A handler that records every accepted message and every session's
/// transcript for the service, and otherwise is `inner`. Made by
/// [`Service::handler`](super::Service::handler).
///
/// The store takes each accepted message: `inner`'s
/// [`message_accepted`](Handler::message_accepted) is not called (its
/// [`process_message`](Handler::process_message) is, before the reply).
pub struct Recorded<H> {
    pub(crate) store: Arc<Store>,
    pub(crate) inner: H,
}

impl<H: Handler> Wrapper for Recorded<H> {
    type Inner = H;

    fn inner(&self) -> &H {
        &self.inner
    }

    fn message_accepted(&self, message: Message) {
        let transcript = self.store.transcript(message.session.id).unwrap_or_default();
        self.store
            .push_message(ReceivedMessage::recorded(message, transcript));
    }

    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        let (log, shared) = TranscriptLog::new(session.id, session.peer, session.proxy);
        self.store.push_transcript(session.id, shared);
        Some(match self.inner.session_log(session) {
            Some(other) => Box::new(Tee(Box::new(log), other)),
            None => Box::new(log),
        })
    }
}

/// Two session logs fed the same traffic.
struct Tee(Box<dyn SessionLog>, Box<dyn SessionLog>);

impl SessionLog for Tee {
    fn received(&mut self, line: &[u8]) {
        self.0.received(line);
        self.1.received(line);
    }
    fn received_data(&mut self, line: &[u8]) {
        self.0.received_data(line);
        self.1.received_data(line);
    }
    fn received_cut(&mut self, start: &[u8], length: usize, data: bool) {
        self.0.received_cut(start, length, data);
        self.1.received_cut(start, length, data);
    }
    fn sent(&mut self, bytes: &[u8]) {
        self.0.sent(bytes);
        self.1.sent(bytes);
    }
    fn note(&mut self, text: &str) {
        self.0.note(text);
        self.1.note(text);
    }
}
