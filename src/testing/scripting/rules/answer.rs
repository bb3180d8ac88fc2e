//! Which rule answers a question: each question matched against the
//! triggers that can apply to it.

use std::future::Future;

use super::{same_address, Script, TriggerKind};
use crate::protocol::{Decision, Question, Session};
use crate::testing::scripting::memory::Occasion;

impl Script {
    /// The answer of the first rule that matches `question`, else `normal`
    /// (awaited only then, or when the rule proceeds). An inbox's rules
    /// answer through here too.
    pub(crate) async fn answer(
        &self,
        session: &Session,
        question: &Question,
        normal: impl Future<Output = Decision>,
    ) -> Decision {
        let occasion = occasion(session, question);
        let occasion = &occasion;
        match question {
            Question::Connect => {
                self.decide(|t| matches!(t, TriggerKind::Connect), occasion, normal)
                    .await
            }
            Question::Command(command) => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::Command(verb) => *verb == command.name(),
                    TriggerKind::CommandMatching(predicate) => predicate(command),
                    _ => false,
                };
                self.decide(matches, occasion, normal).await
            }
            Question::Helo { .. } => {
                self.decide(|t| matches!(t, TriggerKind::Helo), occasion, normal)
                    .await
            }
            Question::Mail { address, .. } => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::MailFrom(rule) => {
                        rule.as_deref().is_none_or(|rule| same_address(rule, address))
                    }
                    _ => false,
                };
                self.decide(matches, occasion, normal).await
            }
            Question::Rcpt { address, .. } => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::RcptTo(rule) => {
                        rule.as_deref().is_none_or(|rule| same_address(rule, address))
                    }
                    _ => false,
                };
                self.decide(matches, occasion, normal).await
            }
            Question::Data => {
                self.decide(|t| matches!(t, TriggerKind::Data), occasion, normal)
                    .await
            }
            Question::Auth(_) => {
                self.decide(|t| matches!(t, TriggerKind::Auth), occasion, normal)
                    .await
            }
            Question::Message(message) => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::Message(predicate) => predicate.as_ref().is_none_or(|p| p(message)),
                    _ => false,
                };
                let decision = self.decide(matches, occasion, normal).await;
                self.deliveries(message, occasion, decision).await
            }
        }
    }
}

/// Who sends what to whom in `question`, for the rules with a memory.
fn occasion<'a>(session: &'a Session, question: &'a Question) -> Occasion<'a> {
    let envelope = session.envelope();
    let mut occasion = Occasion {
        session: session.info().id,
        client: Some(session.info().peer.ip()),
        mail_from: envelope.map(|envelope| envelope.mail_from.as_str()),
        recipients: Vec::new(),
        size: 0,
    };
    match question {
        Question::Mail { address, .. } => occasion.mail_from = Some(address),
        Question::Rcpt { address, .. } => occasion.recipients = vec![address],
        Question::Message(message) => {
            occasion.mail_from = Some(&message.envelope.mail_from);
            occasion.recipients = message.rcpt_tos().iter().map(String::as_str).collect();
            occasion.size = message.data.len() as u64;
        }
        _ => {
            if let Some(envelope) = envelope {
                occasion.recipients = envelope.rcpt_to.iter().map(String::as_str).collect();
            }
        }
    }
    occasion
}
