//! Which rule answers a question: each question matched against the
//! triggers that can apply to it.

use std::future::Future;

use super::{same_address, Script, TriggerKind};
use crate::protocol::{Decision, Question};

impl Script {
    /// The answer of the first rule that matches `question`, else `normal`
    /// (awaited only then, or when the rule proceeds). An inbox's rules
    /// answer through here too.
    pub(crate) async fn answer(
        &self,
        question: &Question,
        normal: impl Future<Output = Decision>,
    ) -> Decision {
        match question {
            Question::Connect => self.decide(|t| matches!(t, TriggerKind::Connect), normal).await,
            Question::Command(command) => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::Command(verb) => *verb == command.name(),
                    TriggerKind::CommandMatching(predicate) => predicate(command),
                    _ => false,
                };
                self.decide(matches, normal).await
            }
            Question::Helo { .. } => self.decide(|t| matches!(t, TriggerKind::Helo), normal).await,
            Question::Mail { address, .. } => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::MailFrom(rule) => {
                        rule.as_deref().is_none_or(|rule| same_address(rule, address))
                    }
                    _ => false,
                };
                self.decide(matches, normal).await
            }
            Question::Rcpt { address, .. } => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::RcptTo(rule) => {
                        rule.as_deref().is_none_or(|rule| same_address(rule, address))
                    }
                    _ => false,
                };
                self.decide(matches, normal).await
            }
            Question::Data => self.decide(|t| matches!(t, TriggerKind::Data), normal).await,
            Question::Auth(_) => self.decide(|t| matches!(t, TriggerKind::Auth), normal).await,
            Question::Message(message) => {
                let matches = |t: &TriggerKind| match t {
                    TriggerKind::Message(predicate) => predicate.as_ref().is_none_or(|p| p(message)),
                    _ => false,
                };
                let decision = self.decide(matches, normal).await;
                self.deliveries(message, decision).await
            }
        }
    }
}
