//! Which stored messages are second arrivals of one already stored: the
//! same `Message-ID` (or, without one, the same bytes) to the same
//! recipients, as a sender that retries after a lost final reply sends it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use mail_parser::MessageParser;

use crate::testing::inspecting::message::ReceivedMessage;

/// Messages remembered for the check; past it the oldest are forgotten (a
/// store that keeps fewer forgets them sooner).
const MAX_REMEMBERED: usize = 1 << 20;

/// The keys of the messages stored so far, oldest first, bounded.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    keys: HashSet<u64>,
    order: VecDeque<u64>,
}

impl Arrivals {
    /// Remembers `message`; whether one with its key arrived before.
    /// `limit`: how many messages the store keeps.
    pub(crate) fn arrived(&mut self, message: &ReceivedMessage, limit: usize) -> bool {
        let key = key(message);
        if !self.keys.insert(key) {
            return true;
        }
        self.order.push_back(key);
        while self.order.len() > limit.min(MAX_REMEMBERED) {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        false
    }

    pub(crate) fn clear(&mut self) {
        self.keys.clear();
        self.order.clear();
    }
}

/// What two arrivals of one message share: its identity and its
/// recipients (a copy per recipient, each in a transaction of its own, is
/// no duplicate).
pub(crate) fn same_message(a: &ReceivedMessage, b: &ReceivedMessage) -> bool {
    identity(a) == identity(b) && recipients(a) == recipients(b)
}

fn key(message: &ReceivedMessage) -> u64 {
    let mut hasher = DefaultHasher::new();
    identity(message).hash(&mut hasher);
    recipients(message).hash(&mut hasher);
    hasher.finish()
}

#[derive(Hash, PartialEq, Eq)]
enum Identity<'a> {
    MessageId(String),
    Bytes(&'a [u8]),
}

fn identity(message: &ReceivedMessage) -> Identity<'_> {
    let id = MessageParser::new()
        .with_message_ids()
        .parse_headers(&message.data[..])
        .and_then(|parsed| parsed.message_id().map(str::to_string));
    match id {
        Some(id) => Identity::MessageId(id),
        None => Identity::Bytes(&message.data),
    }
}

fn recipients(message: &ReceivedMessage) -> Vec<String> {
    let mut recipients: Vec<String> = message
        .envelope
        .rcpt_to
        .iter()
        .map(|r| r.to_ascii_lowercase())
        .collect();
    recipients.sort();
    recipients
}

#[cfg(test)]
mod tests {
    use super::{same_message, Arrivals};
    use crate::protocol::Envelope;
    use crate::testing::inspecting::message::ReceivedMessage;

    fn message(to: &str, data: &str) -> ReceivedMessage {
        let envelope = Envelope {
            rcpt_to: vec![to.to_string()],
            ..Envelope::default()
        };
        ReceivedMessage::new(envelope, data.as_bytes().to_vec())
    }

    #[test]
    fn a_second_arrival_of_one_message_id_or_of_the_same_bytes_is_a_duplicate() {
        let mut arrivals = Arrivals::default();
        let first = message("a@x", "Message-ID: <1@x>\r\nDate: Mon\r\n\r\nHi\r\n");
        let retried = message("A@x", "Message-ID: <1@x>\r\nDate: Tue\r\n\r\nHi\r\n");
        let to_another = message("b@x", "Message-ID: <1@x>\r\n\r\nHi\r\n");
        let no_id = message("a@x", "Subject: hi\r\n\r\nHi\r\n");
        let other_bytes = message("a@x", "Subject: hi\r\n\r\nHo\r\n");
        let seen: Vec<bool> = [&first, &retried, &to_another, &no_id, &other_bytes, &no_id]
            .iter()
            .map(|m| arrivals.arrived(m, usize::MAX))
            .collect();
        assert_eq!(seen, [false, true, false, false, false, true]);
        assert!(same_message(&first, &retried));
        assert!(!same_message(&first, &to_another));
    }

    #[test]
    fn the_memory_is_bounded_by_the_store() {
        let mut arrivals = Arrivals::default();
        let (a, b) = (message("a@x", "A"), message("a@x", "B"));
        assert!(!arrivals.arrived(&a, 1));
        assert!(!arrivals.arrived(&b, 1));
        assert!(!arrivals.arrived(&a, 1), "a was forgotten when b came");
    }
}
