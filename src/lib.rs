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

mod client;
pub mod handler;
pub mod handlers;
mod lock;
pub mod protocol;
pub mod server;
#[cfg(feature = "http")]
pub mod service;
pub mod smtpd;
pub mod testing;

/// The README's examples, compiled and run as doc tests (some use TLS).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "tls"))]
pub struct ReadmeDoctests;

pub use handler::{Handler, SessionLog};
pub use protocol::{Config, ConfigError, Decision, Envelope, Message, Reply, SessionInfo};
pub use server::SmtpServer;
#[allow(deprecated)]
pub use testing::Response;
pub use testing::{on, Action, Link, MessageData, ReceivedMessage, TestSmtpServer};
