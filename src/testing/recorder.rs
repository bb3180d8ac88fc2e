//! The fixture's handler: records accepted messages and every session's
//! transcript into the fixture's store.

use std::sync::Arc;

use crate::handler::{Handler, SessionLog};
use crate::protocol::auth::Credentials;
use crate::protocol::{replies, Decision, Message, Session, SessionInfo};

use super::message::ReceivedMessage;
use super::secure::AuthPolicy;
use super::store::Store;
use super::transcript::TranscriptLog;

pub(crate) struct Recorder {
    pub(crate) store: Arc<Store>,
    pub(crate) auth: AuthPolicy,
}

impl Handler for Recorder {
    async fn on_auth(&self, _session: &Session, credentials: &Credentials) -> Decision {
        if self.auth.accepts(credentials) {
            Decision::Proceed
        } else {
            Decision::Reply(replies::auth_invalid())
        }
    }

    fn message_accepted(&self, message: Message) {
        let transcript = self.store.transcript(message.session.id).unwrap_or_default();
        self.store
            .push_message(ReceivedMessage::recorded(message, transcript));
    }

    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        let (log, shared) = TranscriptLog::new(session.id, session.peer, session.proxy);
        self.store.push_transcript(session.id, shared);
        Some(Box::new(log))
    }
}
