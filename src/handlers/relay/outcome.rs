//! The one final reply for a message relayed to one or more destinations.

use crate::client::one_line;
use crate::protocol::{replies, Reply};

/// The recipients of one message and what became of them, gathered from
/// one or more destinations, and the one reply that tells the client.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    delivered: usize,
    refused: Vec<(String, Reply)>,
    reply: Option<Reply>,
}

impl Outcome {
    /// `count` recipients got the message; `reply` (the destination's
    /// final reply) replaces the one before, so the upstream's, added last,
    /// is the one the client sees.
    pub(crate) fn delivered(&mut self, count: usize, reply: Option<Reply>) {
        self.delivered += count;
        if reply.is_some() {
            self.reply = reply;
        }
    }

    /// These recipients were refused for good.
    pub(crate) fn refused(&mut self, refused: impl IntoIterator<Item = (String, Reply)>) {
        self.refused.extend(refused);
    }

    /// Adds what the upstream did.
    pub(crate) fn add(&mut self, accepted: Vec<String>, refused: Vec<(String, Reply)>, reply: Option<Reply>) {
        self.delivered(accepted.len(), reply);
        self.refused(refused);
    }

    /// The final reply: the destination's positive reply when anyone got
    /// the message, with one more line per refused recipient; the refusal
    /// when nobody did (one line per recipient if they differ).
    pub(crate) fn reply(self) -> Reply {
        if self.delivered > 0 {
            let base = self.reply.unwrap_or_else(replies::ok);
            if self.refused.is_empty() {
                return base;
            }
            let total = self.delivered + self.refused.len();
            let mut lines: Vec<String> = base.lines().iter().map(|line| line.to_string()).collect();
            lines.push(format!(
                "Not delivered to {} of {total} recipients:",
                self.refused.len()
            ));
            lines.extend(self.refused.iter().map(|(rcpt, reply)| refusal_line(rcpt, reply)));
            return Reply::multiline(base.code(), lines);
        }
        let Some((_, first)) = self.refused.first() else {
            return crate::protocol::replies::no_valid_recipients();
        };
        if self.refused.iter().all(|(_, reply)| reply == first) {
            return first.clone();
        }
        let lines = self.refused.iter().map(|(rcpt, reply)| refusal_line(rcpt, reply));
        Reply::multiline(first.code(), lines)
    }
}

fn refusal_line(rcpt: &str, reply: &Reply) -> String {
    format!("<{rcpt}> refused: {}", one_line(reply))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        let refused = Reply::new(550, "5.1.1 No such user");
        let mut all_refused = Outcome::default();
        all_refused.refused([("a@x".into(), refused.clone()), ("b@x".into(), refused.clone())]);
        assert_eq!(all_refused.reply(), refused);

        let mut mixed = Outcome::default();
        mixed.refused([
            ("a@x".into(), refused.clone()),
            ("b@x".into(), Reply::new(553, "bad")),
        ]);
        assert_eq!(
            mixed.reply().to_string(),
            "550-<a@x> refused: 550 5.1.1 No such user\n550 <b@x> refused: 553 bad"
        );

        let mut partial = Outcome::default();
        partial.add(
            vec!["a@x".into()],
            vec![("b@x".into(), refused)],
            Some(Reply::new(250, "2.0.0 queued")),
        );
        assert_eq!(
            partial.reply().to_string(),
            "250-2.0.0 queued\n250-Not delivered to 1 of 2 recipients:\n250 <b@x> refused: 550 5.1.1 No such user"
        );
    }
}
