#![doc = include_str!("guide.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod handler;
pub mod handlers;
pub mod protocol;
pub mod server;
pub mod smtpd;
pub mod testing;

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use handler::{Handler, SessionLog};
pub use protocol::{Config, ConfigError, Decision, Envelope, Message, Reply, SessionInfo};
pub use server::SmtpServer;
pub use testing::{on, MessageData, ReceivedMessage, Response, TestSmtpServer};
