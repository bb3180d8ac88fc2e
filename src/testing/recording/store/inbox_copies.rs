//! What an inbox's store takes from its server's store: the message a
//! session just recorded, and the transcript of a session that wrote to
//! the inbox.

use super::{ReceivedMessage, SharedTranscript, Store};

impl Store {
    /// Keeps the transcript of session `id` too, unless it is kept already
    /// (an inbox keeps the sessions that wrote to it).
    pub(crate) fn adopt_transcript(
        &self,
        session_id: u64,
        transcript: impl FnOnce() -> Option<SharedTranscript>,
    ) {
        if self.lock().transcript_of(session_id).is_none() {
            if let Some(transcript) = transcript() {
                self.push_transcript(session_id, transcript);
            }
        }
    }

    /// The newest message of session `id` (a session records one message
    /// at a time, so right after it was recorded, that one).
    pub(crate) fn newest_of_session(&self, session_id: u64) -> Option<ReceivedMessage> {
        let records = self.lock();
        records
            .messages
            .iter()
            .rev()
            .find(|m| m.session_id == session_id)
            .cloned()
    }
}
