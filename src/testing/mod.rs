//! The test fixture: [`TestSmtpServer`] and what it records.
//!
//! Nothing below this module knows that tests exist: the fixture is a
//! [`Handler`](crate::Handler) that records, run by the ordinary
//! [`SmtpServer`](crate::SmtpServer) on a shared background runtime.

mod artifacts;
mod assertions;
mod diff;
mod fixture;
mod lint;
mod message;
mod message_data;
pub mod on;
mod recorder;
mod report;
mod rule_syntax;
mod rules;
mod runtime;
mod secure;
mod store;
mod transcript;

pub use fixture::{Builder, TestSmtpServer, TIMEOUT_ENV};
pub use lint::Violation;
pub use message::{Attachment, ReceivedMessage};
pub use message_data::MessageData;
pub use rule_syntax::{parse_delay_rule, parse_disconnect_rule, parse_duration, parse_reply_rule};
pub use rules::{Response, RuleHandle, Script, Scripted, Trigger};
pub use store::{RefusedRecipient, RejectedMessage};
pub use transcript::{Direction, Transcript, TranscriptLine};
