//! # smtp-fixture
//!
//! A real SMTP server for test suites, and a Rust port of Python's `smtpd`.
//!
//! In a test, start a [`TestSmtpServer`], point the code under test at its
//! port, and look at what arrived:
//!
//! ```
//! use smtp_fixture::TestSmtpServer;
//! use std::io::{BufRead, BufReader, Write};
//! use std::net::TcpStream;
//!
//! let server = TestSmtpServer::start();
//!
//! // Any SMTP client works; here, a few raw lines.
//! let stream = TcpStream::connect(server.addr()).unwrap();
//! let mut reader = BufReader::new(stream.try_clone().unwrap());
//! let mut writer = stream;
//! let mut line = String::new();
//! for command in ["EHLO me", "MAIL FROM:<ann@example.com>", "RCPT TO:<bob@example.com>", "DATA"] {
//!     writer.write_all(format!("{command}\r\n").as_bytes()).unwrap();
//! }
//! writer.write_all(b"Subject: Welcome\r\n\r\nHello Bob\r\n.\r\nQUIT\r\n").unwrap();
//! while reader.read_line(&mut line).unwrap() > 0 {}
//!
//! let message = server.wait_for_messages(1).remove(0);
//! assert_eq!(message.envelope.mail_from, "ann@example.com");
//! assert_eq!(message.envelope.rcpt_to, ["bob@example.com"]);
//! assert_eq!(message.subject().as_deref(), Some("Welcome"));
//! ```
//!
//! The layers, bottom up: [`protocol`] (pure, sans-I/O), [`Handler`] and
//! [`handlers`], [`server`] (tokio), [`smtpd`] (the Python names) and
//! [`testing`] (the fixture).
//!
//! ## Cargo features
//!
//! - `tls` (on by default): STARTTLS and implicit TLS with rustls, and
//!   fresh self-signed certificates (rcgen): `server::TlsConfig`,
//!   `SmtpServer::with_starttls`, the fixture's `Builder::starttls` and its
//!   siblings. Without it (`default-features = false`) everything else
//!   works, and the fixture costs a test build fewer crates.
//! - `cli`: the `smtp-fixture` binary (a port of `python -m smtpd`):
//!   `cargo install smtp-fixture --features cli`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod handler;
pub mod handlers;
pub mod protocol;
pub mod server;
pub mod smtpd;
pub mod testing;

/// The README's examples, compiled and run as doc tests (some use TLS).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "tls"))]
pub struct ReadmeDoctests;

pub use handler::{Handler, SessionLog};
pub use protocol::{Config, ConfigError, Decision, Envelope, Message, Reply, SessionInfo};
pub use server::SmtpServer;
pub use testing::{on, MessageData, ReceivedMessage, TestSmtpServer};
