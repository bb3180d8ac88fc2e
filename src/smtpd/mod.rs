//! The reference's names, for readers coming from Python's `smtpd`: a map
//! from each of its names to this crate's. Where the reference's name
//! differs from ours, an alias of that name is here; where it is the same
//! (`DebuggingServer`, `PureProxy`), the one item lives in
//! [`handlers`](crate::handlers).
//!
//! | Python `smtpd` | here |
//! |---|---|
//! | `SMTPServer` | [`SMTPServer`] = [`SmtpServer`](crate::server::SmtpServer) |
//! | `SMTPChannel` | [`SMTPChannel`] = [`Session`](crate::protocol::Session) |
//! | `DebuggingServer` | [`handlers::DebuggingServer`](crate::handlers::DebuggingServer) |
//! | `PureProxy` | [`handlers::PureProxy`](crate::handlers::PureProxy) (refusals reach the client; [`PerRecipientProxy`](crate::handlers::PerRecipientProxy) mirrors each command's reply) |
//! | `MailmanProxy` | [`MailmanProxy`] = [`RoutingProxy`](crate::handlers::RoutingProxy) |
//! | `process_message` | [`Handler::process_message`](crate::handler::Handler::process_message) |
//! | `SMTPChannel.smtp_MAIL`, `smtp_RCPT`, ... (overridden in a subclass) | [`Handler::on_mail_from`](crate::handler::Handler::on_mail_from), [`Handler::on_rcpt_to`](crate::handler::Handler::on_rcpt_to), ... (one hook per command) |
//! | `DATA_SIZE_DEFAULT` | [`protocol::DATA_SIZE_DEFAULT`](crate::protocol::DATA_SIZE_DEFAULT) |
//!
//! Where this crate differs from the reference on purpose, see the crate
//! README's "Deviations from Python's smtpd".

/// The reference's `SMTPServer`.
pub type SMTPServer<H> = crate::server::SmtpServer<H>;

/// The reference's `SMTPChannel`.
pub type SMTPChannel = crate::protocol::Session;

/// The reference's `MailmanProxy`: local recipients to a local handler, the
/// rest relayed.
pub type MailmanProxy<L> = crate::handlers::RoutingProxy<L>;
