//! The test fixture: [`TestSmtpServer`] and what it records.
//!
//! Nothing below this module knows that tests exist: the fixture is a
//! [`Handler`](crate::Handler) that records, run by the ordinary
//! [`SmtpServer`](crate::SmtpServer) on a shared background runtime.

mod action;
mod artifacts;
mod assertions;
mod builder;
#[cfg_attr(not(feature = "http"), allow(dead_code))] // service mode's chaos
pub(crate) mod chaos;
mod diff;
mod fixture;
mod links;
mod lint;
pub(crate) mod message;
mod message_data;
pub mod on;
mod recipients;
pub(crate) mod recorder;
mod report;
mod rule_syntax;
pub(crate) mod rules;
pub(crate) mod runtime;
mod secure;
mod snapshot;
pub(crate) mod store;
pub(crate) mod transcript;
mod trigger;

pub use action::Action;
#[allow(deprecated)]
pub use action::Response;
pub use builder::Builder;
pub use fixture::{TestSmtpServer, TIMEOUT_ENV};
pub use links::{Link, LinkSource};
pub use lint::Violation;
pub use message::{Attachment, ReceivedMessage};
pub use message_data::MessageData;
#[cfg(feature = "http")]
pub(crate) use rule_syntax::parse_duration;
pub use rule_syntax::{RuleKind, RuleSyntaxError};
pub use rules::{RuleHandle, Script, Scripted};
pub use snapshot::MASKED_HEADERS;
pub use store::{RefusedRecipient, RejectedMessage};
pub use transcript::{Direction, Transcript, TranscriptLine};
pub use trigger::Trigger;
