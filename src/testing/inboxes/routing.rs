//! The handler layer that lets an inbox's rules answer its recipients and
//! hands each inbox its copy of a recorded message.

use std::sync::Arc;

use crate::handler::{Handler, Wrapper};
use crate::protocol::{Decision, Message, Question, Session};

use super::registry::Inboxes;

/// Asks the rules of the inbox a question concerns, then `inner`. Sits
/// under the server's own rules, which are asked first, and over the
/// handler that records.
pub(crate) struct InboxRouted<H> {
    pub(crate) inner: H,
    pub(crate) inboxes: Arc<Inboxes>,
}

impl<H: Handler> Wrapper for InboxRouted<H> {
    type Inner = H;

    fn inner(&self) -> &H {
        &self.inner
    }

    async fn decide(&self, session: &Session, question: &Question) -> Decision {
        let normal = self.inner.decide(session, question);
        if self.inboxes.is_empty() {
            return normal.await;
        }
        let inbox = match question {
            // A recipient is the inbox's own: its rules may refuse it.
            Question::Rcpt { address, .. } => self.inboxes.owner(address).inspect(|inbox| {
                self.inboxes.touched(inbox, session.info().id);
            }),
            // The whole transaction is one inbox's only when every
            // recipient is; a message to several inboxes (or to others
            // too) gets only the server's rules here.
            Question::Data => session
                .envelope()
                .and_then(|envelope| self.inboxes.sole_owner(&envelope.rcpt_to)),
            Question::Message(message) => self.inboxes.sole_owner(message.rcpt_tos()),
            _ => None,
        };
        match inbox {
            Some(inbox) => inbox.script.answer(session, question, normal).await,
            None => normal.await,
        }
    }

    fn message_accepted(&self, message: Message) {
        let inboxes =
            (!self.inboxes.is_empty()).then(|| (message.session.id, message.envelope.rcpt_to.clone()));
        self.inner.message_accepted(message);
        if let Some((session, recipients)) = inboxes {
            self.inboxes.accepted(session, &recipients);
        }
    }
}
