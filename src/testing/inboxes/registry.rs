//! The inboxes of one server: which inbox an address belongs to, and each
//! inbox's own records and rules.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use crate::protocol::{Message, SessionInfo};
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::refusals::RejectedMessage;
use crate::testing::recording::store::Store;
use crate::testing::scripting::clock::Clock;
use crate::testing::scripting::rules::{Refusals, Script};
use crate::testing::scripting::trigger::{Trigger, TriggerKind};

/// The domain every inbox's addresses end in, under `.test`, the top-level
/// domain RFC 2606 reserves for testing: it never resolves, so mail to it
/// can only reach this server, and an application's address check (syntax,
/// a dot in the domain) accepts it.
pub(crate) const INBOX_DOMAIN: &str = "inbox.test";

/// One inbox: its name, the messages and refusals addressed to it, and
/// the rules that answer only its recipients.
pub(crate) struct InboxParts {
    /// `box7`: the label before [`INBOX_DOMAIN`] in its addresses.
    pub(crate) id: String,
    pub(crate) store: Arc<Store>,
    pub(crate) script: Arc<Script>,
}

impl InboxParts {
    /// `name@box7.inbox.test`.
    pub(crate) fn address(&self, name: &str) -> String {
        format!("{name}@{}.{INBOX_DOMAIN}", self.id)
    }
}

/// The inboxes of one server, found by the domain of an address.
pub(crate) struct Inboxes {
    /// The server's own records, whose transcripts the inboxes share.
    main: Arc<Store>,
    boxes: RwLock<HashMap<String, Arc<InboxParts>>>,
    /// How many inboxes are open: with none, the server pays one atomic
    /// load per question.
    open: AtomicUsize,
    next: AtomicU64,
    /// Messages each inbox keeps (the server's own bound).
    limit: usize,
    /// The server's clock, which the inboxes' rules read too.
    clock: Clock,
}

impl Inboxes {
    pub(crate) fn new(main: Arc<Store>, limit: usize) -> Inboxes {
        Inboxes {
            main,
            boxes: RwLock::default(),
            open: AtomicUsize::new(0),
            next: AtomicU64::new(0),
            limit,
            clock: Clock::default(),
        }
    }

    /// The same inboxes, their rules reading `clock` (the server's).
    pub(crate) fn with_clock(mut self, clock: Clock) -> Inboxes {
        self.clock = clock;
        self
    }

    /// Opens a new inbox with a name never used before on this server.
    pub(crate) fn open(&self) -> Arc<InboxParts> {
        let number = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let parts = Arc::new(InboxParts {
            id: format!("box{number}"),
            store: Arc::new(Store::bounded(self.limit)),
            script: Arc::new(Script::default().with_clock(self.clock.clone())),
        });
        let mut boxes = self.boxes.write().unwrap_or_else(|p| p.into_inner());
        boxes.insert(parts.id.clone(), parts.clone());
        self.open.store(boxes.len(), Ordering::SeqCst);
        parts
    }

    /// Closes inbox `id`: its addresses are ordinary addresses again, and
    /// its rules answer nothing. Returns it, if it was open.
    pub(crate) fn close(&self, id: &str) -> Option<Arc<InboxParts>> {
        let mut boxes = self.boxes.write().unwrap_or_else(|p| p.into_inner());
        let closed = boxes.remove(&id.to_ascii_lowercase());
        self.open.store(boxes.len(), Ordering::SeqCst);
        closed
    }

    /// The open inbox named `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<InboxParts>> {
        if self.is_empty() {
            return None;
        }
        let boxes = self.boxes.read().unwrap_or_else(|p| p.into_inner());
        boxes.get(&id.to_ascii_lowercase()).cloned()
    }

    /// The open inboxes.
    #[cfg_attr(not(feature = "http"), allow(dead_code))] // the service's rule routes
    pub(crate) fn all(&self) -> Vec<Arc<InboxParts>> {
        let boxes = self.boxes.read().unwrap_or_else(|p| p.into_inner());
        boxes.values().cloned().collect()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.load(Ordering::Relaxed) == 0
    }

    /// The open inbox `address` belongs to, if any.
    pub(crate) fn owner(&self, address: &str) -> Option<Arc<InboxParts>> {
        inbox_id(address).and_then(|id| self.get(id))
    }

    /// The one inbox every address of `recipients` belongs to, if there is
    /// one (and at least one recipient).
    pub(crate) fn sole_owner<'a>(
        &self,
        recipients: impl IntoIterator<Item = &'a String>,
    ) -> Option<Arc<InboxParts>> {
        let mut ids = recipients.into_iter().map(|address| inbox_id(address));
        let first = ids.next()??;
        if ids.all(|id| id.is_some_and(|id| id.eq_ignore_ascii_case(first))) {
            self.get(first)
        } else {
            None
        }
    }

    /// Each open inbox that `recipients` name, with the recipients that are
    /// its own.
    fn owners_of(&self, recipients: &[String]) -> Vec<(Arc<InboxParts>, Vec<String>)> {
        let mut owners: Vec<(Arc<InboxParts>, Vec<String>)> = Vec::new();
        for recipient in recipients {
            let Some(inbox) = self.owner(recipient) else {
                continue;
            };
            match owners.iter_mut().find(|(known, _)| Arc::ptr_eq(known, &inbox)) {
                Some((_, own)) => own.push(recipient.clone()),
                None => owners.push((inbox, vec![recipient.clone()])),
            }
        }
        owners
    }

    /// The server recorded the message of session `session_id` to
    /// `recipients`: each inbox among them keeps it, with its own
    /// recipients only.
    pub(crate) fn accepted(&self, session_id: u64, recipients: &[String]) {
        let owners = self.owners_of(recipients);
        if owners.is_empty() {
            return;
        }
        let Some(message) = self.main.newest_of_session(session_id) else {
            return;
        };
        for (inbox, own) in owners {
            inbox.store.push_message(only_to(&message, own));
        }
    }

    /// Session `session_id` wrote to `inbox`: the inbox keeps its transcript.
    pub(crate) fn touched(&self, inbox: &InboxParts, session_id: u64) {
        inbox
            .store
            .adopt_transcript(session_id, || self.main.transcript(session_id));
    }
}

/// `message` as an inbox sees it: addressed to `recipients`, its own.
fn only_to(message: &ReceivedMessage, recipients: Vec<String>) -> ReceivedMessage {
    let mut copy = message.clone();
    copy.envelope.rcpt_to = recipients;
    copy
}

/// Whether an inbox's rule can have `trigger`: one that comes with a
/// recipient (`RCPT TO`, `DATA`, the final reply), so that it can be told
/// whose mail it is.
pub(crate) fn answers_only_recipients(trigger: &Trigger) -> bool {
    matches!(
        trigger.kind,
        TriggerKind::RcptTo(_) | TriggerKind::Data | TriggerKind::Message(_) | TriggerKind::DeliveryTo(_)
    )
}

/// The inbox label of `address` (`box7` of `ann@box7.inbox.test`).
pub(crate) fn inbox_id(address: &str) -> Option<&str> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (_, domain) = address.rsplit_once('@')?;
    let (id, rest) = domain.split_once('.')?;
    (rest.eq_ignore_ascii_case(INBOX_DOMAIN) && !id.is_empty()).then_some(id)
}

/// What the rules refused reaches the server's records, and each inbox
/// whose recipients it names.
impl Refusals for Inboxes {
    fn message(&self, message: &Message, reply: Option<&crate::Reply>) {
        self.main.message(message, reply);
        for (inbox, own) in self.owners_of(message.rcpt_tos()) {
            let mut received: ReceivedMessage = message.clone().into();
            received.envelope.rcpt_to = own;
            inbox.store.push_rejected(RejectedMessage {
                message: received,
                reply: reply.cloned(),
            });
        }
    }

    fn recipient(&self, session: &SessionInfo, address: &str, reply: Option<&crate::Reply>) {
        self.main.recipient(session, address, reply);
        if let Some(inbox) = self.owner(address) {
            self.touched(&inbox, session.id);
            inbox.store.recipient(session, address, reply);
        }
    }

    fn recipient_after_data(&self, session: &SessionInfo, address: &str, reply: &crate::Reply) {
        self.main.recipient_after_data(session, address, reply);
        if let Some(inbox) = self.owner(address) {
            inbox.store.recipient_after_data(session, address, reply);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::inbox_id;

    #[test]
    fn an_address_names_its_inbox_by_the_label_before_the_inbox_domain() {
        assert_eq!(inbox_id("ann@box7.inbox.test"), Some("box7"));
        assert_eq!(inbox_id("<Ann@BOX7.Inbox.TEST>"), Some("BOX7"));
        assert_eq!(inbox_id("ann@box7.inbox.test.example"), None);
        assert_eq!(inbox_id("ann@inbox.test"), None);
        assert_eq!(inbox_id("ann@example.com"), None);
        assert_eq!(inbox_id("postmaster"), None);
    }
}
