//! The reference's `MailmanProxy`, generalised: some recipients are
//! handled here, the rest relayed upstream.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::relay::{deliver, Delivery, Outcome};
use super::session_key::{key, SessionKey};
use super::x_peer::with_x_peer;
use crate::client::Upstream;
use crate::handler::{Handler, Wrapper};
use crate::lock::lock;
use crate::protocol::{replies, Decision, Envelope, Message, Question, Reply, Session, SessionInfo};

/// Splits each message by recipient: the recipients a resolver calls local
/// go to a local [`Handler`], the others are relayed upstream as
/// [`PureProxy`](super::PureProxy) relays them (the whole message at once).
///
/// **How it maps to the reference's `MailmanProxy`.** `MailmanProxy` (in
/// `smtpd` until Python 3.10) took every recipient whose local part named
/// an existing Mailman list (`list`, `list-admin`, `list-owner`,
/// `list-request`, `list-join`, `list-leave`) out of `rcpttos`, relayed the
/// rest with `PureProxy`'s `_deliver`, and queued the message into Mailman
/// for each list recipient. Here the resolver plays `Utils.list_exists`
/// (any rule: a closure over the address), the local handler plays
/// Mailman's queue, and the relay is `PureProxy`'s. The differences:
///
/// - nothing is tied to Mailman, and the local handler gets the message
///   exactly as received, with only the local recipients in its envelope
///   (the reference added `From:`/`Date:` headers Mailman needed);
/// - the relayed copy gets `X-Peer:` as in `PureProxy` (the reference's
///   `MailmanProxy` skipped it);
/// - refusals reach the client, from either side, in the final reply
///   (see [`PureProxy`](super::PureProxy) for the format): a message
///   delivered to some recipients gets `250` with a line per refused one;
///   refused for all, the refusal.
///
/// **Order and retries.** The local handler decides first
/// ([`Handler::on_message`] with the local part): a transient (4xx) answer
/// is the final reply at once and nothing is relayed, so the client's
/// retry duplicates nothing. Then the rest is relayed; if the upstream
/// defers it (`451`), the client retries the whole message, and the local
/// handler is asked again. Its [`Handler::message_accepted`] is called only
/// once the final reply was positive and reached the client, with the local
/// part, so a handler that delivers there sees each message once.
///
/// **The local handler's other hooks.** It is the server for the session:
/// `on_connect`, `on_command`, `on_helo`, `on_mail_from`, `on_auth`,
/// `session_log` and `on_close` are its (a [`Wrapper`] of it: every
/// question it does not route reaches the local handler's
/// [`decide`](Handler::decide)); `on_rcpt_to` is asked for local recipients only (a
/// refusal keeps the recipient out), `on_data` only when the transaction
/// has a local recipient. Its answers there apply to the whole session or
/// transaction.
///
/// ```
/// use smtp_fixture::handlers::{DebuggingServer, RoutingProxy};
///
/// // Like MailmanProxy: the lists "dev" and "announce" are ours, with the
/// // reference's command suffixes; everything else is relayed.
/// let lists = ["dev", "announce"];
/// let proxy = RoutingProxy::new("mail.example.com:25", DebuggingServer::new(Vec::new()), move |rcpt: &str| {
///     let local_part = rcpt.split('@').next().unwrap_or("").to_lowercase();
///     let (list, command) = local_part.split_once('-').unwrap_or((&local_part, ""));
///     lists.contains(&list) && ["", "admin", "owner", "request", "join", "leave"].contains(&command)
/// });
/// assert!(proxy.is_local("dev-request@lists.example.com"));
/// assert!(!proxy.is_local("bob@example.com"));
/// ```
pub struct RoutingProxy<L> {
    upstream: Upstream,
    local: L,
    is_local: Box<dyn Fn(&str) -> bool + Send + Sync>,
    /// Sessions whose last message the local handler accepted, until its
    /// `message_accepted` is called.
    accepted_locally: Arc<Mutex<HashSet<SessionKey>>>,
}

impl<L: Handler> RoutingProxy<L> {
    /// Recipients for which `is_local` is true go to `local`; the others
    /// to `upstream`.
    pub fn new(
        upstream: impl Into<Upstream>,
        local: L,
        is_local: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> RoutingProxy<L> {
        RoutingProxy {
            upstream: upstream.into(),
            local,
            is_local: Box::new(is_local),
            accepted_locally: Arc::default(),
        }
    }

    /// The local handler.
    pub fn local(&self) -> &L {
        &self.local
    }

    /// Where the other recipients go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Whether `recipient` is handled locally.
    pub fn is_local(&self, recipient: &str) -> bool {
        (self.is_local)(recipient)
    }

    /// `message` with only the local recipients.
    fn local_part(&self, message: &Message) -> Message {
        Message {
            session: message.session.clone(),
            envelope: self.local_envelope(&message.envelope),
            data: message.data.clone(),
            unstuffed_dot_lines: message.unstuffed_dot_lines,
        }
    }

    fn local_envelope(&self, envelope: &Envelope) -> Envelope {
        Envelope {
            rcpt_to: envelope
                .rcpt_to
                .iter()
                .filter(|r| self.is_local(r))
                .cloned()
                .collect(),
            rcpt_dsn: envelope
                .rcpt_dsn
                .iter()
                .filter(|dsn| self.is_local(&dsn.recipient))
                .cloned()
                .collect(),
            ..envelope.clone()
        }
    }

    /// Asks the local handler about the local part (its `on_message` when
    /// there is a session, else its `process_message`), relays the rest,
    /// and returns the final reply.
    async fn route(&self, session: Option<&Session>, message: &Message) -> Decision {
        let key = key(&message.session);
        lock(&self.accepted_locally).remove(&key);
        let (local, remote): (Vec<String>, Vec<String>) = message
            .envelope
            .rcpt_to
            .iter()
            .cloned()
            .partition(|r| self.is_local(r));
        let mut outcome = Outcome::default();
        let mut local_accepted = false;
        if !local.is_empty() {
            let part = self.local_part(message);
            let decision = match session {
                Some(session) => {
                    self.local
                        .decide(session, &Question::Message(Box::new(part)))
                        .await
                }
                None => match self.local.process_message(&part).await {
                    Some(reply) => Decision::Reply(reply),
                    None => Decision::Proceed,
                },
            };
            // Replies per local recipient count as one, as in SMTP: the
            // local part is delivered whole or not at all.
            let decision = decision.combined();
            match decision {
                Decision::Proceed => {
                    outcome.delivered(local.len(), None);
                    local_accepted = true;
                }
                Decision::Reply(reply) if reply.is_positive() => {
                    outcome.delivered(local.len(), Some(reply));
                    local_accepted = true;
                }
                Decision::Reply(reply) if reply.is_permanent() => {
                    outcome.refused(local.into_iter().map(|r| (r, reply.clone())));
                }
                // Deferred (or an odd code): nothing was relayed yet, so
                // the client's retry of the whole message is clean.
                other => return other,
            }
        }
        if !remote.is_empty() {
            let helo = self.upstream.greeting_name(&message.session.hostname);
            let data = with_x_peer(&message.data, message.peer().ip());
            match deliver(&self.upstream, &helo, &message.envelope, &remote, &data).await {
                Delivery::Retry(reply) => return Decision::Reply(reply),
                Delivery::Done {
                    accepted,
                    refused,
                    reply,
                } => outcome.add(accepted, refused, reply),
            }
        }
        let reply = outcome.reply();
        if reply.is_positive() && local_accepted {
            lock(&self.accepted_locally).insert(key);
        }
        Decision::Reply(reply)
    }
}

/// What `process_message` answers for the local handler's decision.
fn final_reply(decision: Decision) -> Option<Reply> {
    match decision {
        Decision::Proceed => None,
        Decision::Reply(reply) => Some(reply),
        Decision::Disconnect(reply) => Some(reply.unwrap_or_else(replies::local_handler_closed)),
        Decision::Raw(_) => Some(replies::local_handler_no_reply()),
        // A fault of the link means nothing without a link: its decision counts.
        Decision::Fault(_, decision) => final_reply(*decision),
        decision @ Decision::PerRecipient(_) => final_reply(decision.combined()),
    }
}

impl<L: Handler> Wrapper for RoutingProxy<L> {
    type Inner = L;

    fn inner(&self) -> &L {
        &self.local
    }

    async fn decide(&self, session: &Session, question: &Question) -> Decision {
        match question {
            Question::Rcpt { address, .. } if !self.is_local(address) => Decision::Proceed,
            Question::Data => {
                let has_local = session
                    .envelope()
                    .is_some_and(|envelope| envelope.rcpt_to.iter().any(|r| self.is_local(r)));
                if has_local {
                    self.local.decide(session, question).await
                } else {
                    Decision::Proceed
                }
            }
            Question::Message(message) => self.route(Some(session), message).await,
            _ => self.local.decide(session, question).await,
        }
    }

    /// The same as deciding on the message for a caller without a session:
    /// the local handler is asked its `process_message`.
    async fn process_message(&self, message: &Message) -> Option<Reply> {
        final_reply(self.route(None, message).await)
    }

    fn message_accepted(&self, message: Message) {
        let local_accepted = lock(&self.accepted_locally).remove(&key(&message.session));
        if local_accepted {
            let envelope = self.local_envelope(&message.envelope);
            self.local.message_accepted(Message { envelope, ..message });
        }
    }

    fn on_close(&self, session: &SessionInfo) {
        // A final reply that never reached the client leaves its mark
        // here; the session's end clears it.
        lock(&self.accepted_locally).remove(&key(session));
        self.local.on_close(session);
    }
}
