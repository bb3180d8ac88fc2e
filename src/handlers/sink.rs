//! Accepts every message and keeps nothing.

use crate::handler::Handler;

/// Accepts every valid message with `250 OK` and drops it: the fastest way
/// to give a mailer somewhere to send to.
///
/// ```
/// use smtp_fixture::handlers::Sink;
/// use smtp_fixture::protocol::Config;
/// use smtp_fixture::server::SmtpServer;
/// let server = SmtpServer::new(Config::default(), Sink).unwrap();
/// # let _ = server;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Sink;

impl Handler for Sink {}
