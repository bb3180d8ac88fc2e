//! The reference's `PureProxy`: relays every message to an upstream
//! server once it is complete, and, unlike the reference, lets the client
//! see what the upstream said.

use std::net::IpAddr;

use super::relay::{deliver, Delivery, Outcome};
use super::x_peer::with_x_peer;
use crate::client::Upstream;
use crate::handler::Handler;
use crate::protocol::{Message, Reply};

/// Relays every message to an upstream server (the reference's
/// `PureProxy`), adding an `X-Peer: <client ip>` header after the last
/// header line as the reference does.
///
/// The reference hands the message to `smtplib` after it answered `250` and
/// only prints the refusals to its debug stream: refused recipients are
/// lost without a word. Here the relay happens *before* the client gets its
/// final reply, so that reply reflects the upstream.
///
/// The client's transaction is accepted locally, and at the end of DATA the
/// message is relayed in one upstream session (EHLO, MAIL, one RCPT per
/// recipient, DATA). The final reply is
///
/// | upstream | client gets |
/// |---|---|
/// | took the message for every recipient | the upstream's final reply |
/// | took it for some, refused (5xx) others | `250`: the upstream's text, then `Not delivered to N of M recipients:` and one line `<addr> refused: 550 ...` per refused recipient |
/// | refused every recipient, or MAIL, DATA or the message (5xx) | the upstream's reply (one line per recipient if they got different ones) |
/// | unreachable, timed out, broke the protocol, or said 4xx anywhere | `451 4.4.1 ...` naming the cause: the client keeps the message and retries |
///
/// A recipient deferred with 4xx defers the whole message: nothing is sent
/// to the others either, so the client's retry cannot duplicate it. The one
/// case where a retry may duplicate is a connection lost after the final
/// dot, before the upstream's reply: RFC 5321 (6.1) prefers that to a loss,
/// and the `451` says so. A client that reads only the code of a partial
/// success learns nothing of the refused recipients;
/// [`PerRecipientProxy`](super::PerRecipientProxy) tells each one at its
/// RCPT.
///
/// `BODY=` and `SMTPUTF8` are passed on only when the
/// upstream announces 8BITMIME or SMTPUTF8 (and `SIZE=` when it announces
/// SIZE). A message that needs SMTPUTF8 (a UTF-8 address, or UTF-8 in the
/// headers) to an upstream without it is refused: `553 5.6.7` for an
/// address, `554 5.6.9` for the headers (RFC 6531, 3.5); a UTF-8 recipient
/// is refused alone. The message bytes are relayed exactly, dot-stuffed on
/// the way: 8-bit data goes as it came, also to an upstream that does not
/// announce 8BITMIME (as the reference does; most servers are 8-bit clean).
///
/// Like the reference, a proxy relays for anyone who can connect: listen on
/// a loopback address unless you mean to run an open relay.
///
/// ```no_run
/// use smtp_fixture::handlers::PureProxy;
/// use smtp_fixture::protocol::Config;
/// use smtp_fixture::server::SmtpServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let proxy = PureProxy::new("mail.example.com:25");
/// let server = SmtpServer::new(Config::default(), proxy).expect("valid config");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8025").await?;
/// server.run(listener, async { tokio::signal::ctrl_c().await.ok(); }).await
/// # }
/// ```
pub struct PureProxy {
    upstream: Upstream,
}

impl PureProxy {
    /// Relays each message to `upstream` once it is complete.
    ///
    /// ```
    /// use smtp_fixture::handlers::PureProxy;
    /// let proxy = PureProxy::new("127.0.0.1:25");
    /// assert_eq!(proxy.upstream().address(), "127.0.0.1:25");
    /// ```
    pub fn new(upstream: impl Into<Upstream>) -> PureProxy {
        PureProxy {
            upstream: upstream.into(),
        }
    }

    /// Where messages go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// `data` with an `X-Peer: <ip>` header line inserted where the
    /// reference puts it: before the first empty line, or at the end when
    /// there is none.
    ///
    /// ```
    /// use smtp_fixture::handlers::PureProxy;
    /// let ip = "192.0.2.1".parse().unwrap();
    /// assert_eq!(
    ///     PureProxy::insert_x_peer(b"Subject: hi\r\n\r\nbody\r\n", ip),
    ///     b"Subject: hi\r\nX-Peer: 192.0.2.1\r\n\r\nbody\r\n".to_vec()
    /// );
    /// ```
    pub fn insert_x_peer(data: &[u8], ip: IpAddr) -> Vec<u8> {
        with_x_peer(data, ip)
    }
}

impl Handler for PureProxy {
    /// Relays the whole message in one upstream session.
    async fn process_message(&self, message: &Message) -> Option<Reply> {
        let helo = self.upstream.greeting_name(&message.session.hostname);
        let data = with_x_peer(&message.data, message.peer().ip());
        let envelope = &message.envelope;
        Some(
            match deliver(&self.upstream, &helo, envelope, &envelope.rcpt_to, &data).await {
                Delivery::Retry(reply) => reply,
                Delivery::Done {
                    accepted,
                    refused,
                    reply,
                } => {
                    let mut outcome = Outcome::default();
                    outcome.add(accepted, refused, reply);
                    outcome.reply()
                }
            },
        )
    }
}
