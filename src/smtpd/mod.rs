//! The reference's names, for readers coming from Python's `smtpd`.
//!
//! | Python `smtpd` | here |
//! |---|---|
//! | `SMTPServer` | [`SMTPServer`] = [`SmtpServer`](crate::SmtpServer) |
//! | `SMTPChannel` | [`SMTPChannel`] = [`Session`](crate::protocol::Session) |
//! | `DebuggingServer` | [`DebuggingServer`] |
//! | `PureProxy` | [`PureProxy`] (refusals reach the client; [`PerRecipientProxy`](crate::handlers::PerRecipientProxy) mirrors each command's reply) |
//! | `MailmanProxy` | [`MailmanProxy`] = [`RoutingProxy`](crate::handlers::RoutingProxy) |
//! | `process_message` | [`Handler::process_message`](crate::Handler::process_message) |
//! | `SMTPChannel.smtp_MAIL`, `smtp_RCPT`, ... (overridden in a subclass) | [`Handler::on_mail_from`](crate::Handler::on_mail_from), [`Handler::on_rcpt_to`](crate::Handler::on_rcpt_to), ... (one hook per command) |
//! | `DATA_SIZE_DEFAULT` | [`DATA_SIZE_DEFAULT`] |
//!
//! Where this crate differs from the reference on purpose, see the crate
//! README's "Deviations from Python's smtpd".

pub use crate::handlers::{DebuggingServer, PureProxy};
pub use crate::protocol::config::DATA_SIZE_DEFAULT;

/// The reference's `SMTPServer`.
pub type SMTPServer<H> = crate::SmtpServer<H>;

/// The reference's `SMTPChannel`.
pub type SMTPChannel = crate::protocol::Session;

/// The reference's `MailmanProxy`: local recipients to a local handler, the
/// rest relayed.
pub type MailmanProxy<L> = crate::handlers::RoutingProxy<L>;
