//! The test fixture: [`TestSmtpServer`] and what it records.
//!
//! Nothing below this module knows that tests exist: the fixture is a
//! [`Handler`](crate::Handler) that records, run by the ordinary
//! [`SmtpServer`](crate::SmtpServer) on a shared background runtime.

mod artifacts;
mod assertions;
mod diff;
mod fixture;
mod links;
mod lint;
pub(crate) mod message;
mod message_data;
pub mod on;
mod recipients;
mod recorder;
mod report;
mod rule_syntax;
pub(crate) mod rules;
pub(crate) mod runtime;
mod secure;
mod snapshot;
pub(crate) mod store;
pub(crate) mod transcript;

pub use fixture::{Builder, TestSmtpServer, TIMEOUT_ENV};
pub use links::{Link, LinkSource};
pub use lint::Violation;
pub use message::{Attachment, ReceivedMessage};
pub use message_data::MessageData;
pub use rule_syntax::{
    parse_cut_rule, parse_delay_rule, parse_disconnect_rule, parse_duration, parse_reply_rule,
    parse_reset_rule, parse_silence_rule, parse_stop_reading_rule, parse_throttle_rule,
};
pub use rules::{Response, RuleHandle, Script, Scripted, Trigger};
pub use snapshot::MASKED_HEADERS;
pub use store::{RefusedRecipient, RejectedMessage};
pub use transcript::{Direction, Transcript, TranscriptLine};
