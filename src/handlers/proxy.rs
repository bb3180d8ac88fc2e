//! The reference's `PureProxy`: relays every message to an upstream
//! server, and, unlike the reference, lets the client see what the upstream
//! said.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::relay::{
    self, deferred, deliver, headers_need_utf8, key, lost_after_data, mail_command, unavailable,
    utf8_address_refused, utf8_headers_refused, with_x_peer, Delivery, Outcome, SessionEnd, SessionKey,
};
use super::upstream::{one_line, Client, Extensions, Failure, Upstream};
use crate::handler::{Handler, SessionLog};
use crate::protocol::{Command, Decision, Message, Reply, Session, SessionInfo, Verb};

/// Relays every message to an upstream server (the reference's
/// `PureProxy`), adding an `X-Peer: <client ip>` header after the last
/// header line as the reference does.
///
/// The reference hands the message to `smtplib` after it answered `250` and
/// only prints the refusals to its debug stream: refused recipients are
/// lost without a word. Here the relay happens *before* the client gets its
/// final reply, so that reply reflects the upstream, in one of two modes.
///
/// **Whole-message mode** ([`PureProxy::new`], the default): the client's
/// transaction is accepted locally, and at the end of DATA the message is
/// relayed in one upstream session (EHLO, MAIL, one RCPT per recipient,
/// DATA). The final reply is
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
/// success learns nothing of the refused recipients; the per-recipient mode
/// tells each one at its RCPT.
///
/// **Per-recipient mode** ([`PureProxy::per_recipient`]): transparent. The
/// upstream session is opened at the client's MAIL, and each command's
/// reply is the upstream's: a refused RCPT gets the upstream's reply at
/// once (and stays out of the envelope), DATA gets the upstream's `354` or
/// refusal, the final reply is the upstream's. Only a network failure, a
/// timeout or an upstream `421` become `451 4.4.1`, since the client's own
/// session goes on. The upstream transaction ends with the client's (final
/// reply, RSET, QUIT, a new MAIL) and is closed when the client's session
/// ends in any way, a vanished client included; an abandoned message is
/// never ended with a dot, so the upstream drops it. As a backstop, an
/// upstream transaction waiting longer than
/// [`Upstream::idle_timeout`] for the client's next command is closed.
///
/// In both modes `BODY=` and `SMTPUTF8` are passed on only when the
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
/// use smtp_fixture::{Config, SmtpServer, handlers::PureProxy};
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
    per_recipient: bool,
    /// Per-recipient mode: the upstream transaction of each client session
    /// that has one open.
    open: Arc<Mutex<HashMap<SessionKey, Transaction>>>,
}

impl PureProxy {
    /// Relays each message once it is complete (whole-message mode).
    ///
    /// ```
    /// use smtp_fixture::handlers::PureProxy;
    /// let proxy = PureProxy::new("127.0.0.1:25");
    /// assert_eq!(proxy.upstream().address(), "127.0.0.1:25");
    /// assert!(!proxy.is_per_recipient());
    /// ```
    pub fn new(upstream: impl Into<Upstream>) -> PureProxy {
        PureProxy {
            upstream: upstream.into(),
            per_recipient: false,
            open: Arc::default(),
        }
    }

    /// Relays command by command, mirroring the upstream's reply to each
    /// (per-recipient mode).
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::handlers::{PureProxy, Upstream};
    /// let proxy = PureProxy::per_recipient(Upstream::new("127.0.0.1:25").idle_timeout(Duration::from_secs(60)));
    /// assert!(proxy.is_per_recipient());
    /// assert_eq!(proxy.open_transactions(), 0);
    /// ```
    pub fn per_recipient(upstream: impl Into<Upstream>) -> PureProxy {
        PureProxy {
            per_recipient: true,
            ..PureProxy::new(upstream)
        }
    }

    /// Where messages go.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Whether this proxy mirrors every command (per-recipient mode).
    pub fn is_per_recipient(&self) -> bool {
        self.per_recipient
    }

    /// How many client sessions hold an upstream transaction open now
    /// (always 0 in whole-message mode).
    pub fn open_transactions(&self) -> usize {
        lock(&self.open).len()
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

    /// Relays the whole message in one upstream session.
    async fn relay(&self, message: &Message) -> Reply {
        let helo = self.helo_name(&message.session);
        let data = with_x_peer(&message.data, message.peer().ip());
        let envelope = &message.envelope;
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
        }
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
        let (requests, inbox) = mpsc::channel(1);
        tokio::spawn(serve_transaction(client, inbox, self.upstream.get_idle_timeout()));
        lock(&self.open).insert(key, Transaction { requests, extensions });
        reply
    }

    /// Per-recipient RCPT and DATA: the upstream's reply to `line`.
    async fn forward(&self, session: &Session, line: String, expected: u16) -> Reply {
        let key = key(session.info());
        let Some(transaction) = self.transaction(key) else {
            return no_transaction();
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
            return no_transaction();
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

fn no_transaction() -> Reply {
    Reply::new(
        451,
        "4.4.1 The upstream transaction is no longer open; try again later",
    )
}

fn unexpected(upstream: &Upstream, command: &str, reply: &Reply) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream} answered {command} with an unexpected {}; try again later",
            one_line(reply)
        ),
    )
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The maps hold no invariant a panic could break halfway.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A handle on the task that owns one upstream connection in per-recipient
/// mode. The task ends the upstream session once every handle is dropped.
#[derive(Clone)]
struct Transaction {
    requests: mpsc::Sender<Job>,
    extensions: Extensions,
}

/// A request and where its answer goes.
type Job = (Request, oneshot::Sender<Result<Reply, Failure>>);

enum Request {
    /// A command line, CRLF not included.
    Command(String),
    /// The message (after `354`).
    Data(Vec<u8>),
}

/// Why a request got no reply.
enum Unanswered {
    /// The upstream session had already ended (idle too long, or broken
    /// earlier): the request never reached the upstream.
    NotSent,
    /// It was sent, then the connection failed.
    Failed(Failure),
}

impl Unanswered {
    fn failure(self) -> Failure {
        match self {
            Unanswered::NotSent => Failure("the upstream session had already closed".to_string()),
            Unanswered::Failed(failure) => failure,
        }
    }
}

impl Transaction {
    async fn ask(&self, request: Request) -> Result<Reply, Unanswered> {
        let (answer, reply) = oneshot::channel();
        if self.requests.send((request, answer)).await.is_err() {
            return Err(Unanswered::NotSent);
        }
        match reply.await {
            Ok(result) => result.map_err(Unanswered::Failed),
            // The task was cancelled (the runtime is shutting down).
            Err(_) => Err(Unanswered::Failed(Failure("upstream session ended".to_string()))),
        }
    }
}

/// Owns the upstream connection of one per-recipient transaction: runs the
/// commands the hooks send, and ends the session when the hooks let go
/// (transaction over, client gone) or the client stays silent longer than
/// `idle`.
async fn serve_transaction(mut client: Client, mut requests: mpsc::Receiver<Job>, idle: Duration) {
    loop {
        let (request, answer) = match tokio::time::timeout(idle, requests.recv()).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => break,
        };
        let result = match request {
            Request::Command(line) => client.command(&line).await,
            Request::Data(data) => client.send_data(&data).await,
        };
        let usable = matches!(&result, Ok(reply) if reply.code() != 421);
        let _ = answer.send(result);
        if !usable {
            // Broken or closing: no QUIT, just close the connection.
            return;
        }
    }
    client.quit().await;
}

impl Handler for PureProxy {
    async fn on_command(&self, session: &Session, command: &Command) -> Decision {
        if self.per_recipient {
            // The commands that end the client's transaction end the
            // upstream one (a new MAIL does too, in `on_mail`).
            let ends = match command.verb() {
                Some(Verb::Quit) => true,
                Some(Verb::Rset) => command.arg().is_none(),
                Some(Verb::StartTls) => command.arg().is_none() && session.offers_starttls(),
                _ => false,
            };
            if ends {
                drop(self.close(key(session.info())));
            }
        }
        Decision::Proceed
    }

    async fn on_mail(&self, session: &Session, address: &str, params: &[String]) -> Decision {
        if !self.per_recipient {
            return Decision::Proceed;
        }
        Decision::Reply(self.open_transaction(session, address, params).await)
    }

    async fn on_rcpt(&self, session: &Session, address: &str, _params: &[String]) -> Decision {
        if !self.per_recipient {
            return Decision::Proceed;
        }
        let smtputf8 = self
            .transaction(key(session.info()))
            .map(|t| t.extensions.smtputf8);
        if !address.is_ascii() && smtputf8 == Some(false) {
            return Decision::Reply(utf8_address_refused(&self.upstream, address));
        }
        Decision::Reply(self.forward(session, format!("RCPT TO:<{address}>"), 250).await)
    }

    async fn on_data(&self, session: &Session) -> Decision {
        if !self.per_recipient {
            return Decision::Proceed;
        }
        Decision::Reply(self.forward(session, "DATA".to_string(), 354).await)
    }

    async fn process_message(&self, message: &Message) -> Option<Reply> {
        Some(if self.per_recipient {
            self.finish(message).await
        } else {
            self.relay(message).await
        })
    }

    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        if !self.per_recipient {
            return None;
        }
        // The log is dropped when the session ends, however it ends: then
        // its upstream transaction, if any, is closed.
        let open = Arc::clone(&self.open);
        let key = relay::key(session);
        Some(Box::new(SessionEnd {
            inner: None,
            on_end: Some(Box::new(move || {
                let abandoned = lock(&open).remove(&key);
                drop(abandoned);
            })),
        }))
    }
}
