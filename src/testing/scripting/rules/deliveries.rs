//! LMTP's final reply per recipient in the rules: `on::delivery_to`, and
//! what the final answer refused, for `refused_recipients()` and
//! `rejected()`.

use super::{refusal, same_address, Refusals, Script, TriggerKind};
use crate::protocol::{Decision, Message, Reply, Session};
use crate::testing::scripting::memory::Occasion;

impl Script {
    /// The `on::delivery_to` rules applied to `decision`, the answer to
    /// a complete message: each recipient a rule matches gets the rule's
    /// reply, as long as the message as a whole is accepted. A rule that
    /// disconnects or sends raw bytes answers the whole message.
    pub(super) async fn deliveries(
        &self,
        message: &Message,
        occasion: &Occasion<'_>,
        mut decision: Decision,
    ) -> Decision {
        let recipients = message.rcpt_tos();
        for (index, recipient) in recipients.iter().enumerate() {
            if !decision.goes_per_recipient() {
                break;
            }
            let matches = |t: &TriggerKind| match t {
                TriggerKind::DeliveryTo(rule) => same_address(rule, recipient),
                _ => false,
            };
            let occasion = Occasion {
                recipients: vec![recipient.as_str()],
                ..occasion.clone()
            };
            let Some(action) = self.first_match(matches, &occasion) else {
                continue;
            };
            decision = action
                .carry_out_for_recipient(decision, recipients.len(), index)
                .await;
        }
        decision
    }
}

/// Tells `refusals` what the final answer to `message` refused: in LMTP
/// each refused recipient, and the message when nobody got it; in SMTP the
/// message when its one reply refuses it.
pub(super) fn report_final(
    refusals: &dyn Refusals,
    session: &Session,
    message: &Message,
    decision: &Decision,
) {
    if matches!(decision, Decision::Proceed) {
        // Every recipient got it: nothing to report (the common case).
        return;
    }
    let recipients = message.rcpt_tos();
    // Only LMTP answers per recipient: SMTP needs no list of replies.
    let replies = (session.config().lmtp && !recipients.is_empty())
        .then(|| decision.recipient_replies(recipients.len()))
        .flatten();
    match replies {
        Some(replies) => {
            for (recipient, reply) in recipients.iter().zip(&replies) {
                if !reply.is_positive() {
                    refusals.recipient_after_data(session.info(), recipient, reply);
                }
            }
            if !replies.iter().any(Reply::is_positive) {
                refusals.message(message, replies.first());
            }
        }
        _ => {
            if let Some(reply) = refusal(&decision.clone().combined(), |reply| !reply.is_positive()) {
                refusals.message(message, reply);
            }
        }
    }
}
