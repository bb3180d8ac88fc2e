//! LMTP (RFC 2033): `LHLO` instead of `HELO`/`EHLO`, and one final reply
//! per accepted recipient once the message is complete (after DATA's final
//! dot, or `BDAT ... LAST`), in RCPT order (RFC 2033, 4.2).
//!
//! Both ends of a message come here through the resolution of
//! [`Question::Message`]: [`Session::message_answer`] for the handler's one
//! reply, [`Session::per_recipient_answer`] for
//! [`Decision::PerRecipient`]. In SMTP the same decisions give one reply.

use super::{Decision, Question, Session, Step};
use crate::protocol::command::{supported_commands, supported_commands_in, Verb};
use crate::protocol::envelope::Message;
use crate::protocol::reply::{replies, Reply};
use crate::protocol::LinkFault;

#[cfg(test)]
mod tests;

impl Session {
    /// `HELO`, `EHLO` or `LHLO`, each only in its protocol: `LHLO` is an
    /// unknown command in SMTP; `HELO` and `EHLO` get `500` in LMTP (RFC
    /// 2033, 4.1: never a positive reply).
    pub(super) fn greeting_command(&mut self, verb: Verb, arg: Option<&str>) -> Step {
        match (verb, self.config.lmtp) {
            (Verb::Lhlo, false) => self.refuse(replies::unknown_command(verb.name())),
            (Verb::Helo | Verb::Ehlo, true) => self.refuse(replies::lmtp_needs_lhlo(verb.name())),
            _ => self.helo(verb, arg),
        }
    }

    /// MAIL, RCPT or DATA in LMTP before `LHLO`: `503 send LHLO first`
    /// rather than the SMTP text that names HELO.
    pub(super) fn lhlo_missing(&self) -> bool {
        self.config.lmtp && self.info.helo.is_empty()
    }

    /// `HELP`, listing the verbs of the protocol spoken: in LMTP, `LHLO`
    /// and not `HELO`/`EHLO`; in SMTP, not `LHLO`.
    pub(super) fn help_in_protocol(&mut self, arg: Option<&str>) -> Step {
        let lmtp = self.config.lmtp;
        let named = arg.and_then(|arg| Verb::from_name(&arg.to_uppercase()));
        let foreign = match named {
            Some(Verb::Lhlo) => !lmtp,
            Some(Verb::Helo | Verb::Ehlo) => lmtp,
            _ => false,
        };
        if foreign {
            return self.refuse(Reply::new(501, supported_commands_in(lmtp)));
        }
        if !lmtp {
            return self.help(arg);
        }
        if arg.is_none() {
            return Step::Reply(Reply::new(250, supported_commands_in(true)));
        }
        match self.help(arg) {
            Step::Reply(reply) if reply.code() == 501 && reply.text() == supported_commands() => {
                Step::Reply(Reply::new(501, supported_commands_in(true)))
            }
            other => other,
        }
    }

    /// The final answer to a complete message when the handler gave one
    /// reply (`None`: the normal `250 OK`): SMTP sends it once, LMTP once
    /// per recipient.
    pub(super) fn message_answer(&mut self, message: Box<Message>, reply: Option<Reply>) -> Step {
        let reply = reply.unwrap_or_else(replies::ok);
        if !self.config.lmtp || message.rcpt_tos().is_empty() {
            return smtp_answer(message, reply);
        }
        let replies = vec![reply; message.rcpt_tos().len()];
        self.lmtp_answer(message, replies)
    }

    /// [`Decision::PerRecipient`]: for a complete message, LMTP sends each
    /// recipient its reply; SMTP sends the first refusal, or the first reply
    /// when none refuses. For any other question it counts as its first
    /// reply.
    pub(super) fn per_recipient_answer(&mut self, question: Question, replies: Vec<Reply>) -> Step {
        let Question::Message(message) = question else {
            let decision = replies
                .into_iter()
                .next()
                .map_or(Decision::Proceed, Decision::Reply);
            return self.answer(question, decision);
        };
        let count = message.rcpt_tos().len();
        let replies = padded(replies, count);
        if !self.config.lmtp || count == 0 {
            return smtp_answer(message, combined_reply(&replies));
        }
        self.lmtp_answer(message, replies)
    }

    /// A complete message refused by the server itself (too large, not
    /// UTF-8 with `decode_data`): in LMTP once per recipient, as every
    /// final answer.
    pub(super) fn final_refusal(&self, reply: Reply) -> Step {
        let recipients = self.recipient_params.len();
        if !self.config.lmtp || recipients == 0 {
            return Step::Reply(reply);
        }
        Step::PerRecipient(vec![reply; recipients], None)
    }

    /// Every recipient's reply; the message, with only the recipients that
    /// got a 2xx, when there is one.
    fn lmtp_answer(&mut self, message: Box<Message>, replies: Vec<Reply>) -> Step {
        let accepted: Vec<bool> = replies.iter().map(Reply::is_positive).collect();
        let message = accepted
            .contains(&true)
            .then(|| only_recipients(message, &accepted, &self.recipient_params));
        Step::PerRecipient(replies, message)
    }
}

fn smtp_answer(message: Box<Message>, reply: Reply) -> Step {
    if reply.is_positive() {
        Step::Accepted(reply, message)
    } else {
        Step::Reply(reply)
    }
}

/// One reply per recipient: missing ones are the normal `250 OK`, extra
/// ones are dropped.
fn padded(mut replies: Vec<Reply>, count: usize) -> Vec<Reply> {
    replies.truncate(count);
    replies.resize_with(count, replies::ok);
    replies
}

/// The one SMTP reply for per-recipient replies: the first refusal (the
/// message is not delivered to anyone, so the client retries or bounces
/// it whole), else the first reply.
fn combined_reply(replies: &[Reply]) -> Reply {
    replies
        .iter()
        .find(|reply| !reply.is_positive())
        .or(replies.first())
        .cloned()
        .unwrap_or_else(replies::ok)
}

/// `message` for the recipients marked in `accepted` only, with their RCPT
/// parameters (`params`: how many each RCPT had) and DSN requests.
fn only_recipients(mut message: Box<Message>, accepted: &[bool], params: &[usize]) -> Box<Message> {
    let envelope = &mut message.envelope;
    let recipients = std::mem::take(&mut envelope.rcpt_to);
    if params.len() == recipients.len() && params.iter().sum::<usize>() == envelope.rcpt_options.len() {
        let mut options = std::mem::take(&mut envelope.rcpt_options).into_iter();
        for (&count, &keep) in params.iter().zip(accepted) {
            let these = options.by_ref().take(count);
            if keep {
                envelope.rcpt_options.extend(these);
            } else {
                these.for_each(drop);
            }
        }
    }
    envelope.rcpt_to = recipients
        .into_iter()
        .zip(accepted)
        .filter_map(|(recipient, &keep)| keep.then_some(recipient))
        .collect();
    let kept = &envelope.rcpt_to;
    envelope.rcpt_dsn.retain(|dsn| kept.contains(&dsn.recipient));
    message
}

impl Decision {
    /// Whether this answer to a complete message accepts it as a whole, so
    /// that a recipient may still get a reply of its own: `Proceed`, a 2xx
    /// reply, per-recipient replies, each also under a link fault.
    pub(crate) fn goes_per_recipient(&self) -> bool {
        match self {
            Decision::Proceed | Decision::PerRecipient(_) => true,
            Decision::Reply(reply) => reply.is_positive(),
            Decision::Fault(_, decision) => decision.goes_per_recipient(),
            Decision::Disconnect(_) | Decision::Raw(_) => false,
        }
    }

    /// This answer to a complete message to `recipients` recipients, with
    /// recipient `index` answered by `reply` (the others keep theirs). A
    /// decision that refuses the message, disconnects or sends raw bytes
    /// stays as it is.
    ///
    /// ```
    /// use smtp_fixture::protocol::Decision;
    /// use smtp_fixture::Reply;
    ///
    /// let full = Reply::new(452, "4.2.2 Mailbox full");
    /// let decision = Decision::Proceed.with_recipient_reply(3, 1, full.clone());
    /// assert_eq!(decision, Decision::PerRecipient(vec![Reply::new(250, "OK"), full, Reply::new(250, "OK")]));
    ///
    /// let refused = Decision::Reply(Reply::new(554, "No"));
    /// assert_eq!(refused.clone().with_recipient_reply(3, 1, Reply::new(250, "OK")), refused);
    /// ```
    pub fn with_recipient_reply(self, recipients: usize, index: usize, reply: Reply) -> Decision {
        let mut replies = match self {
            Decision::Fault(fault, decision) => {
                return Decision::Fault(
                    fault,
                    Box::new(decision.with_recipient_reply(recipients, index, reply)),
                )
            }
            Decision::Proceed => vec![replies::ok(); recipients],
            Decision::Reply(same) if same.is_positive() => vec![same; recipients],
            Decision::PerRecipient(replies) => padded(replies, recipients),
            other => return other,
        };
        if let Some(slot) = replies.get_mut(index) {
            *slot = reply;
        }
        Decision::PerRecipient(replies)
    }

    /// The reply each of `recipients` recipients gets from this answer to a
    /// complete message, in LMTP; `None` when no reply of its own goes out
    /// (a disconnect, raw bytes, a reply cut or replaced by a link fault).
    pub(crate) fn recipient_replies(&self, recipients: usize) -> Option<Vec<Reply>> {
        match self {
            Decision::Proceed => Some(vec![replies::ok(); recipients]),
            Decision::Reply(reply) => Some(vec![reply.clone(); recipients]),
            Decision::PerRecipient(replies) => Some(padded(replies.clone(), recipients)),
            Decision::Fault(
                LinkFault::Throttle { .. } | LinkFault::StopReading | LinkFault::ReplyLost { .. },
                decision,
            ) => decision.recipient_replies(recipients),
            Decision::Fault(..) | Decision::Disconnect(_) | Decision::Raw(_) => None,
        }
    }

    /// The one reply SMTP gives for this answer to a complete message, when
    /// it has replies per recipient: the first refusal, else the first
    /// reply. Other decisions stay as they are.
    pub(crate) fn combined(self) -> Decision {
        match self {
            Decision::PerRecipient(replies) => Decision::Reply(combined_reply(&replies)),
            Decision::Fault(fault, decision) => Decision::Fault(fault, Box::new(decision.combined())),
            other => other,
        }
    }
}
