//! A transparent proxy: each command relayed upstream as the client sends
//! it, each reply the upstream's.

mod transaction;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use self::transaction::{Request, Transaction, Unanswered};
use super::relay::{
    deferred, lost_after_data, mail_command, unavailable, unexpected, utf8_address_refused,
    utf8_headers_refused,
};
use super::session_key::{key, SessionKey};
use super::x_peer::{headers_need_utf8, with_x_peer};
use crate::client::{Client, Upstream};
use crate::handler::Handler;
use crate::lock::lock;
use crate::protocol::{Command, Decision, Message, Reply, Session, SessionInfo, Verb};

/// Relays each command to an upstream server as the client sends it, so
/// that every reply the client gets is the upstream's: a transparent
/// variant of [`PureProxy`](super::PureProxy) (which relays each message once it is
/// complete), adding `X-Peer:` the same way.
///
/// The upstream session is opened at the client's MAIL, and each command's
/// reply is the upstream's: a refused RCPT gets the upstream's reply at
/// once (and stays out of the envelope), DATA gets the upstream's `354` or
/// refusal, the final reply is the upstream's. Only a network failure, a
/// timeout or an upstream `421` become `451 4.4.1`, since the client's own
/// session goes on. The upstream transaction ends with the client's (final
/// reply, RSET, QUIT, a new MAIL) and is closed when the client's session
/// ends in any way, a vanished client included
/// ([`Handler::on_close`]); an abandoned message is never ended with a
/// dot, so the upstream drops it. As a backstop, an upstream transaction
/// waiting longer than [`Upstream::idle_timeout`] for the client's next
/// command is closed.
///
/// As in [`PureProxy`](super::PureProxy), `BODY=` and `SMTPUTF8` are passed on only when the
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
/// ```
/// use std::time::Duration;
/// use smtp_fixture::handlers::{PerRecipientProxy, Upstream};
/// let proxy = PerRecipientProxy::new(Upstream::new("127.0.0.1:25").idle_timeout(Duration::from_secs(60)));
/// assert_eq!(proxy.upstream().address(), "127.0.0.1:25");
/// assert_eq!(proxy.open_transactions(), 0);
/// ```
pub struct PerRecipientProxy {
    upstream: Upstream,
    /// The upstream transaction of each client session that has one open.
    open: Arc<Mutex<HashMap<SessionKey, Transaction>>>,
}

impl PerRecipientProxy {
    /// Relays command by command to `upstream`, mirroring its reply to
    /// each.
    pub fn new(upstream: impl Into<Upstream>) -> PerRecipientProxy {
        PerRecipientProxy {
            upstream: upstream.into(),
            open: Arc::default(),
        }
    }

    /// Where messages go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// How many client sessions hold an upstream transaction open now.
    pub fn open_transactions(&self) -> usize {
        lock(&self.open).len()
    }

    fn helo_name(&self, session: &SessionInfo) -> String {
        self.upstream.greeting_name(&session.hostname)
    }

    /// The open upstream transaction of a session, if any (a cheap handle).
    fn transaction(&self, key: SessionKey) -> Option<Transaction> {
        lock(&self.open).get(&key).cloned()
    }

    /// Ends a session's upstream transaction: dropping the last handle
    /// makes its task quit the upstream session.
    fn close(&self, key: SessionKey) -> Option<Transaction> {
        lock(&self.open).remove(&key)
    }

    /// Per-recipient MAIL: opens the upstream session and its transaction.
    async fn open_transaction(&self, session: &Session, address: &str, params: &[String]) -> Reply {
        let key = key(session.info());
        // A transaction the client's session already left (DATA refused as
        // too large, say) is abandoned upstream too.
        drop(self.close(key));
        let helo = self.helo_name(session.info());
        let mut client = match Client::open(&self.upstream, &helo).await {
            Ok(client) => client,
            Err(failure) => return unavailable(&self.upstream, &failure),
        };
        let extensions = client.extensions;
        let smtputf8 = params.iter().any(|p| p == "SMTPUTF8");
        if smtputf8 && !extensions.smtputf8 && !address.is_ascii() {
            tokio::spawn(client.quit());
            return utf8_address_refused(&self.upstream, address);
        }
        let size = params.iter().find_map(|p| p.strip_prefix("SIZE=")?.parse().ok());
        let line = mail_command(address, params, extensions, size);
        let reply = match client.command(&line).await {
            Ok(reply) => reply,
            Err(failure) => return unavailable(&self.upstream, &failure),
        };
        if !reply.is_positive() {
            tokio::spawn(client.quit());
            return self.mirrored("MAIL FROM", reply);
        }
        let transaction = Transaction::start(client, self.upstream.get_idle_timeout());
        lock(&self.open).insert(key, transaction);
        reply
    }

    /// Per-recipient RCPT and DATA: the upstream's reply to `line`.
    async fn forward(&self, session: &Session, line: String, expected: u16) -> Reply {
        let key = key(session.info());
        let Some(transaction) = self.transaction(key) else {
            return crate::protocol::replies::upstream_transaction_closed();
        };
        let command = line.clone();
        match transaction.ask(Request::Command(line)).await {
            Err(unanswered) => {
                drop(self.close(key));
                unavailable(&self.upstream, &unanswered.failure())
            }
            Ok(reply) => {
                let fits = if expected == 354 {
                    reply.code() == 354 || reply.code() >= 400
                } else {
                    !(300..400).contains(&reply.code())
                };
                if !fits {
                    drop(self.close(key));
                    return unexpected(&self.upstream, &command, &reply);
                }
                if reply.code() == 354 {
                    return reply;
                }
                if reply.code() == 421 {
                    drop(self.close(key));
                }
                self.mirrored(&command, reply)
            }
        }
    }

    /// Per-recipient end of DATA: sends the message, mirrors the reply.
    async fn finish(&self, message: &Message) -> Reply {
        // Taken out: whatever happens, the transaction ends here, and the
        // handle dropped at the end makes the upstream session quit.
        let Some(transaction) = self.close(key(&message.session)) else {
            return crate::protocol::replies::upstream_transaction_closed();
        };
        let needs_utf8 = message.envelope.smtputf8() && headers_need_utf8(&message.data);
        if needs_utf8 && !transaction.extensions.smtputf8 {
            // The upstream is after its 354: dropping the handle closes the
            // connection without the final dot, so it discards the message.
            return utf8_headers_refused(&self.upstream);
        }
        let data = with_x_peer(&message.data, message.peer().ip());
        match transaction.ask(Request::Data(data)).await {
            // Never sent: certainly not delivered.
            Err(Unanswered::NotSent) => unavailable(&self.upstream, &Unanswered::NotSent.failure()),
            Err(Unanswered::Failed(failure)) => lost_after_data(&self.upstream, &failure),
            Ok(reply) if (300..400).contains(&reply.code()) => {
                unexpected(&self.upstream, "the message", &reply)
            }
            Ok(reply) => self.mirrored("the message", reply),
        }
    }

    /// The upstream's reply as the client gets it: as it is, except `421`
    /// (the upstream closes, but the client's session goes on) and codes
    /// that make no sense here.
    fn mirrored(&self, command: &str, reply: Reply) -> Reply {
        match reply.code() {
            421 => deferred(&self.upstream, command, &reply),
            200..=299 | 400..=599 => reply,
            _ => unexpected(&self.upstream, command, &reply),
        }
    }
}

impl Handler for PerRecipientProxy {
    async fn on_command(&self, session: &Session, command: &Command) -> Decision {
        // The commands that end the client's transaction end the upstream
        // one (a new MAIL does too, in `on_mail_from`).
        let ends = match command.verb() {
            Some(Verb::Quit) => true,
            Some(Verb::Rset) => command.arg().is_none(),
            Some(Verb::StartTls) => command.arg().is_none() && session.offers_starttls(),
            _ => false,
        };
        if ends {
            drop(self.close(key(session.info())));
        }
        Decision::Proceed
    }

    async fn on_mail_from(&self, session: &Session, address: &str, params: &[String]) -> Decision {
        Decision::Reply(self.open_transaction(session, address, params).await)
    }

    async fn on_rcpt_to(&self, session: &Session, address: &str, _params: &[String]) -> Decision {
        let smtputf8 = self
            .transaction(key(session.info()))
            .map(|t| t.extensions.smtputf8);
        if !address.is_ascii() && smtputf8 == Some(false) {
            return Decision::Reply(utf8_address_refused(&self.upstream, address));
        }
        Decision::Reply(self.forward(session, format!("RCPT TO:<{address}>"), 250).await)
    }

    async fn on_data(&self, session: &Session) -> Decision {
        Decision::Reply(self.forward(session, "DATA".to_string(), 354).await)
    }

    async fn process_message(&self, message: &Message) -> Option<Reply> {
        Some(self.finish(message).await)
    }

    fn on_close(&self, session: &SessionInfo) {
        // However the session ended: its upstream transaction, if any, is
        // abandoned (dropping the last handle quits the upstream session).
        drop(self.close(key(session)));
    }
}
