#![doc = include_str!("guide.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// rcgen makes keys with the crypto provider's library: it needs one.
#[cfg(all(
    feature = "tls-generate",
    not(any(feature = "tls-ring", feature = "tls-aws-lc"))
))]
compile_error!(
    "feature `tls-generate` needs `tls-ring` or `tls-aws-lc` (the default features have `tls-ring`)"
);

// The crate root is the test author's page: everything a test touches is
// named here and nowhere else. The server library's names live in their
// modules, one click away.

#[cfg(feature = "cli")]
mod cli;
mod client;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handler;
pub mod handlers;
mod lock;
pub mod protocol;
#[cfg(any(feature = "http", feature = "remote"))]
#[cfg_attr(not(feature = "http"), allow(dead_code))] // RemoteServer only spells rules
mod rule_text;
pub mod server;
#[cfg(feature = "http")]
mod service;
pub mod smtpd;
mod testing;

/// The README's examples, compiled and run as doc tests (some use TLS).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "tls"))]
pub struct ReadmeDoctests;

// The fixture: starting it, what it records, scripting it, what a failure
// shows.
pub use testing::{
    on, Action, Attachment, Builder, Direction, Finding, Inbox, Link, LinkSource, MessageData, Quota,
    ReceivedMessage, RefusedRecipient, RejectedMessage, RuleHandle, TestSmtpServer, Transcript,
    TranscriptLine, Trigger, Violation, GMAIL_CLIP_BYTES, MASKED_HEADERS, TIMEOUT_ENV,
};

// Checking mail the way receivers will: DKIM, SPF and DMARC, offline.
#[cfg(feature = "dkim")]
#[cfg_attr(docsrs, doc(cfg(feature = "dkim")))]
pub use testing::{Authentication, DkimResult};

// The same calls against a service-mode binary in another process.
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use testing::{RemoteInbox, RemoteRule, RemoteServer, URL_ENV};

// The words a test shares with the server: replies, the envelope and its
// DSN parameters, how a session was secured and authenticated.
pub use protocol::auth::{Credentials, Mechanism};
pub use protocol::dsn::{MailDsn, Notify, OriginalRecipient, RecipientDsn, Return};
pub use protocol::envelope::{AuthInfo, Envelope, TlsInfo};
pub use protocol::reply::{InvalidReplyCode, Reply, ReplyCode, ReplyError};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use server::tls_faults::TlsVersion;

/// The command line's `main` (feature `cli`): the binary
/// `src/bin/smtp-fixture.rs` only calls it. Not part of the API.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub use cli::main as cli_main;
