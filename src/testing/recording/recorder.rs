//! Recording into the fixture's store: every accepted message, and every
//! session's transcript. One wrapper serves the fixture (around its AUTH
//! check) and service mode (around the command line's handler).

use std::sync::Arc;

use crate::handler::{Handler, SessionLog, Wrapper};
use crate::protocol::auth::Credentials;
use crate::protocol::{replies, Decision, Message, Session, SessionInfo};

use super::auth_policy::AuthPolicy;
use super::store::Store;
use super::transcript::TranscriptLog;

/// The fixture's handler: records, and checks AUTH against its policy.
pub(crate) type Recorder = Recorded<AuthPolicy>;

impl Recorder {
    /// Records into `store`; AUTH as `auth` says.
    pub(crate) fn new(store: Arc<Store>, auth: AuthPolicy) -> Recorder {
        Recorded { store, inner: auth }
    }
}

/// A handler that records every accepted message and every session's
/// transcript into a fixture's store, and otherwise is `inner`. Service
/// mode's `Service::handler` makes one.
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
        self.store.push_accepted(message);
    }

    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        let (log, shared) = TranscriptLog::new(session.id, session.peer, session.proxy);
        let store = Arc::downgrade(&self.store);
        let log = log.on_closed(move || {
            if let Some(store) = store.upgrade() {
                store.session_closed();
            }
        });
        self.store.push_transcript(session.id, shared);
        Some(match self.inner.session_log(session) {
            Some(other) => Box::new(Tee(Box::new(log), other)),
            None => Box::new(log),
        })
    }
}

/// The fixture's AUTH check: the credentials its builder allows, else
/// `535`. Everything else is the default.
impl Handler for AuthPolicy {
    async fn on_auth(&self, _session: &Session, credentials: &Credentials) -> Decision {
        if self.accepts(credentials) {
            Decision::Proceed
        } else {
            Decision::Reply(replies::auth_invalid())
        }
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
