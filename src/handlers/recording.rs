//! Keeps every accepted message in memory, for programs that embed the
//! server library (tests use the richer `TestSmtpServer`).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::handler::Handler;
use crate::protocol::Message;

/// Accepts every valid message and keeps it; clones share the same list,
/// so one clone can go to the server and another stay with the caller.
///
/// ```
/// use smtp_fixture::handlers::Recording;
/// use smtp_fixture::protocol::Config;
/// use smtp_fixture::server::SmtpServer;
///
/// let recording = Recording::default();
/// let server = SmtpServer::new(Config::default(), recording.clone()).unwrap();
/// # let _ = server;
/// // ... run the server, send mail ...
/// assert!(recording.messages().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Recording {
    messages: Arc<Mutex<Vec<Message>>>,
}

impl Recording {
    fn lock(&self) -> MutexGuard<'_, Vec<Message>> {
        crate::lock::lock(&self.messages)
    }

    /// A copy of the messages accepted so far, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.lock().clone()
    }

    /// The messages accepted so far, leaving the list empty.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.lock())
    }

    /// How many messages were accepted so far.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no message was accepted yet.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

impl Handler for Recording {
    fn message_accepted(&self, message: Message) {
        self.lock().push(message);
    }
}
