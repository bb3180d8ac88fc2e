//! The test fixture: [`TestSmtpServer`] and what it records. Private: every
//! name a test uses is re-exported at the crate root.
//!
//! Nothing below this module knows that tests exist: the fixture is a
//! [`Handler`](crate::handler::Handler) that records, run by the ordinary
//! [`SmtpServer`](crate::server::SmtpServer) on a shared background runtime.
//! One folder per concern, in the order a test meets them:
//!
//! - `starting`: the builder, the fixture itself, the background runtime;
//! - `recording`: the handler that records, the store, messages' bytes and
//!   the sessions' transcripts;
//! - `scripting`: triggers, actions and the rules that answer instead of the
//!   server;
//! - `waiting`: reading the records, blocking and async waits, and the
//!   assertions that wait (written once for the server and an inbox);
//! - `inboxes`: one test's share of a server ([`Inbox`]);
//! - `inspecting`: a received message's parsed views, links, lint, snapshot
//!   and assertions;
//! - `reporting`: failure reports, diffs and the artifacts a failed test
//!   keeps.

mod inboxes;
mod inspecting;
mod recording;
#[cfg(feature = "remote")]
mod remote;
mod reporting;
mod scripting;
mod starting;
mod waiting;

pub use inboxes::Inbox;
pub use inspecting::{
    Attachment, Finding, Link, LinkSource, ReceivedMessage, Violation, GMAIL_CLIP_BYTES, MASKED_HEADERS,
};
#[cfg(feature = "dkim")]
pub use inspecting::{Authentication, DkimResult};
pub use recording::{Direction, MessageData, RefusedRecipient, RejectedMessage, Transcript, TranscriptLine};
#[cfg(feature = "remote")]
pub use remote::{RemoteInbox, RemoteRule, RemoteServer, URL_ENV};
pub use scripting::{on, Action, Quota, RuleHandle, Trigger};
pub use starting::{Builder, TestSmtpServer, TIMEOUT_ENV};

// What the service and the command line build on (not part of the API).
#[cfg(feature = "http")]
pub(crate) use inboxes::{
    registry::{answers_only_recipients, inbox_id, InboxParts, Inboxes},
    routing::InboxRouted,
};
#[cfg(feature = "http")]
pub(crate) use recording::{x_tags, DnsRecords, MessageMeta, Recorded, Records, Store, StoreEvent, Tagger};
#[cfg(any(feature = "http", feature = "remote"))]
pub(crate) use scripting::{ActionKind, TriggerKind};
#[cfg(feature = "http")]
pub(crate) use scripting::{Clock, Script, Scripted, SeededChance};
#[cfg(feature = "http")]
pub(crate) use starting::runtime;
