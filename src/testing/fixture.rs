//! `TestSmtpServer`: start, wait, inspect, stop.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::artifacts;
use super::diff;
use super::message::ReceivedMessage;
use super::recorder::Recorder;
use super::report;
use super::rules::{Response, RuleHandle, Script, Scripted, Trigger};
use super::runtime::runtime;
use super::secure::AuthPolicy;
#[cfg(feature = "tls")]
use super::secure::TlsChoice;
use super::store::{RefusedRecipient, RejectedMessage, Store};
use super::transcript::Transcript;
use crate::protocol::Config;
use crate::server::{ServerSettings, SmtpServer};

/// The environment variable that overrides the default wait timeout (for
/// slow CI machines): seconds, e.g. `SMTP_FIXTURE_TIMEOUT=30` or `2.5`.
pub const TIMEOUT_ENV: &str = "SMTP_FIXTURE_TIMEOUT";

const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A real SMTP server on `127.0.0.1`, running in the background for one
/// test, recording every message and every session.
///
/// ```
/// use smtp_fixture::TestSmtpServer;
///
/// let server = TestSmtpServer::start();
/// assert_eq!(server.host(), "127.0.0.1");
/// assert!(server.port() > 0);
/// assert!(server.messages().is_empty());
/// ```
///
/// Dropping it stops the server and frees the port. If the test is
/// panicking at that point, the messages and transcripts are written to a
/// directory that is kept, and its path is printed.
///
/// # One server for many tests
///
/// The fixture is `Send + Sync`: a test binary can share one server in a
/// `static` (it starts on first use and is never dropped), and a task on a
/// multi-thread runtime can wait on it. Sharing gives no isolation by
/// itself, because the tests of a binary run in parallel. Either each test
/// looks only at its own messages (by recipient, with
/// [`wait_for_message`](Self::wait_for_message)), or the tests that use the
/// server take turns, each starting with [`clear`](Self::clear), as here.
/// A fixture of its own per test (it starts in well under a millisecond)
/// needs neither.
///
/// ```
/// use std::sync::{LazyLock, Mutex, MutexGuard};
/// use smtp_fixture::TestSmtpServer;
/// # use std::io::{BufRead, BufReader, Write};
/// # use std::net::TcpStream;
/// # fn send_invoice(to: &str, port: u16) {
/// #     let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
/// #     let mut reader = BufReader::new(stream.try_clone().unwrap());
/// #     let mut writer = stream;
/// #     write!(writer, "HELO app\r\nMAIL FROM:<shop@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\nSubject: Invoice\r\n\r\n.\r\nQUIT\r\n").unwrap();
/// #     let mut line = String::new();
/// #     while reader.read_line(&mut line).unwrap() > 0 {}
/// # }
///
/// static SERVER: LazyLock<TestSmtpServer> = LazyLock::new(TestSmtpServer::start);
/// static TURN: Mutex<()> = Mutex::new(());
///
/// /// The shared server to this test alone, emptied.
/// fn server() -> (MutexGuard<'static, ()>, &'static TestSmtpServer) {
///     let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
///     SERVER.clear();
///     (turn, &SERVER)
/// }
///
/// // #[test]
/// fn invoice_goes_to_the_customer() {
///     let (_turn, server) = server();
///     send_invoice("ann@example.com", server.port());
///     assert_eq!(server.wait_for_first_message().envelope.rcpt_to, ["ann@example.com"]);
/// }
///
/// // #[test]
/// fn exactly_one_invoice_is_sent() {
///     let (_turn, server) = server();
///     send_invoice("bob@example.com", server.port());
///     server.assert_message_count(1);
/// }
/// # invoice_goes_to_the_customer();
/// # exactly_one_invoice_is_sent();
/// ```
pub struct TestSmtpServer {
    addr: SocketAddr,
    pub(super) store: Arc<Store>,
    script: Arc<Script>,
    pub(super) wait_timeout: Duration,
    stop: Option<oneshot::Sender<()>>,
    /// Behind a mutex only so that the fixture is `Sync` (a `Receiver` is
    /// not): one server can be shared by every test of a binary.
    stopped: Mutex<mpsc::Receiver<()>>,
    keep_artifacts: bool,
    /// The server certificate as PEM and DER, when TLS is on.
    #[cfg(feature = "tls")]
    certificate: Option<(String, Vec<u8>)>,
    /// The HTTP API's address and its stop signal, with `http_api()`.
    #[cfg(feature = "http")]
    http: Option<(SocketAddr, oneshot::Sender<()>)>,
}

/// Options for a [`TestSmtpServer`], from [`TestSmtpServer::builder`].
///
/// ```
/// use std::time::Duration;
/// use smtp_fixture::TestSmtpServer;
///
/// let server = TestSmtpServer::builder()
///     .data_size_limit(1024)
///     .enable_smtputf8(true)
///     .hostname("mx.test")
///     .wait_timeout(Duration::from_secs(1))
///     .start();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .start()"]
pub struct Builder {
    pub(crate) config: Config,
    /// The server's own settings (connection and time limits).
    pub(crate) settings: ServerSettings,
    wait_timeout: Duration,
    ip: IpAddr,
    port: u16,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsChoice>,
    pub(crate) auth: AuthPolicy,
    keep_artifacts: bool,
    /// With the PROXY protocol: the time a connection has for its header.
    proxy_header_timeout: Option<Duration>,
    /// Starts the HTTP API beside the server (set by `http_api()`).
    #[cfg(feature = "http")]
    pub(crate) http_api: Option<HttpStarter>,
}

/// Starts an HTTP API over a fixture's store and rules on a free port of
/// the address given; returns its address and its stop signal.
#[cfg(feature = "http")]
pub(crate) type HttpStarter =
    fn(IpAddr, Arc<Store>, Arc<Script>) -> io::Result<(SocketAddr, oneshot::Sender<()>)>;

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: Config::default(),
            settings: ServerSettings {
                // Stop quickly when dropped: a test should not wait on a
                // session stuck in a scripted delay.
                shutdown_grace: Duration::from_millis(200),
                ..ServerSettings::default()
            },
            wait_timeout: timeout_from_env().unwrap_or(DEFAULT_WAIT),
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            #[cfg(feature = "tls")]
            tls: None,
            auth: AuthPolicy::Off,
            keep_artifacts: true,
            proxy_header_timeout: None,
            #[cfg(feature = "http")]
            http_api: None,
        }
    }
}

fn timeout_from_env() -> Option<Duration> {
    let value = std::env::var(TIMEOUT_ENV).ok()?;
    let seconds: f64 = value.trim().trim_end_matches('s').parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

impl Builder {
    /// Largest message accepted (`552` beyond); `0`: no limit. Default
    /// 33554432, as in the reference.
    pub fn data_size_limit(mut self, bytes: usize) -> Builder {
        self.config.data_size_limit = bytes;
        self
    }

    /// Announce SMTPUTF8 and accept UTF-8 addresses.
    pub fn enable_smtputf8(mut self, enable: bool) -> Builder {
        self.config.enable_smtputf8 = enable;
        self
    }

    /// Require message data to be UTF-8 text (8BITMIME is not announced).
    pub fn decode_data(mut self, decode: bool) -> Builder {
        self.config.decode_data = decode;
        self
    }

    /// The name in the greeting and EHLO reply. Default `localhost`.
    pub fn hostname(mut self, hostname: &str) -> Builder {
        self.config.hostname = hostname.to_string();
        self
    }

    /// Recipients per message before `452`. Default 1000.
    pub fn max_recipients(mut self, count: usize) -> Builder {
        self.config.max_recipients = count;
        self
    }

    /// Sessions at once before `421`. Default 1000.
    pub fn max_connections(mut self, count: usize) -> Builder {
        self.settings.max_connections = count;
        self
    }

    /// How long a client may stay silent before `421`. Default 5 minutes.
    pub fn idle_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.idle_timeout = timeout;
        self
    }

    /// How long a session may last in all before `421`, busy or not.
    /// Default: no limit.
    pub fn session_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.session_timeout = Some(timeout);
        self
    }

    /// Announce exactly the reference's EHLO extensions: no PIPELINING,
    /// DSN, CHUNKING or REQUIRETLS (see [`Config::with_reference_extensions`]).
    pub fn reference_extensions(mut self) -> Builder {
        self.config = self.config.with_reference_extensions();
        self
    }

    /// Announce DSN and accept its parameters (default `true`).
    pub fn dsn(mut self, on: bool) -> Builder {
        self.config.dsn = on;
        self
    }

    /// Announce CHUNKING and BINARYMIME and accept `BDAT` (RFC 3030;
    /// default `true`).
    pub fn chunking(mut self, on: bool) -> Builder {
        self.config.chunking = on;
        self
    }

    /// Announce REQUIRETLS inside TLS and accept it on MAIL (RFC 8689;
    /// default `true`).
    pub fn requiretls(mut self, on: bool) -> Builder {
        self.config.requiretls = on;
        self
    }

    /// Speak LMTP (RFC 2033) instead of SMTP: `LHLO` greets (`HELO` and
    /// `EHLO` get `500`), and each recipient gets its own final reply after
    /// the message, so [`on::delivery_to`](crate::on::delivery_to) can fail
    /// one mailbox of several (the guide's LMTP section shows a session).
    /// Also turns on ENHANCEDSTATUSCODES and PIPELINING, which LMTP
    /// requires (see [`Config::lmtp`]).
    ///
    /// ```
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    /// let server = TestSmtpServer::builder().lmtp().start();
    /// server.respond(on::delivery_to("b@example.com"), Reply::new(452, "4.2.2 Mailbox full"));
    /// ```
    pub fn lmtp(mut self) -> Builder {
        self.config.lmtp = true;
        self
    }

    /// All other engine options at once.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// How long `wait_for_*` wait before failing. Default 5 s, or the
    /// `SMTP_FIXTURE_TIMEOUT` environment variable (seconds).
    pub fn wait_timeout(mut self, timeout: Duration) -> Builder {
        self.wait_timeout = timeout;
        self
    }

    /// Listen on this port instead of a free one (e.g. to restart a server
    /// on the port a client is configured with).
    pub fn port(mut self, port: u16) -> Builder {
        self.port = port;
        self
    }

    /// Listen on this loopback address instead of `127.0.0.1` (e.g. `::1`).
    pub fn ip(mut self, ip: IpAddr) -> Builder {
        self.ip = ip;
        self
    }

    /// Take HAProxy's PROXY protocol (v1 and v2): each connection must
    /// start with a PROXY header (within 5 s); the recorded
    /// [`peer`](ReceivedMessage::peer) is the client it names, and
    /// [`proxy`](ReceivedMessage::proxy) the proxy (see
    /// [`SmtpServer::with_proxy_protocol`]).
    pub fn proxy_protocol(self) -> Builder {
        let timeout = self
            .proxy_header_timeout
            .unwrap_or(crate::server::PROXY_HEADER_TIMEOUT);
        self.proxy_header_timeout(timeout)
    }

    /// Take the PROXY protocol, with `timeout` for the header.
    pub fn proxy_header_timeout(mut self, timeout: Duration) -> Builder {
        self.proxy_header_timeout = Some(timeout);
        self
    }

    /// Whether a failing test keeps the messages and transcripts in a
    /// temporary directory (default `true`). Tests that fail on purpose
    /// (`#[should_panic]`) turn it off, so a suite leaves nothing behind.
    pub fn keep_artifacts(mut self, keep: bool) -> Builder {
        self.keep_artifacts = keep;
        self
    }

    /// Starts the server; the port listens when this returns.
    ///
    /// # Panics
    ///
    /// When the port cannot be bound or the options do not go together;
    /// [`Builder::try_start`] returns the error instead.
    #[track_caller]
    pub fn start(self) -> TestSmtpServer {
        let addr = SocketAddr::new(self.ip, self.port);
        self.try_start()
            .unwrap_or_else(|error| panic!("smtp-fixture: cannot start a test server on {addr}: {error}"))
    }

    /// Starts the server, or says why it could not.
    pub fn try_start(self) -> io::Result<TestSmtpServer> {
        let store = Arc::new(Store::default());
        let script = Arc::new(Script::reporting_to(store.clone()));
        let handler = Scripted {
            inner: Recorder {
                store: store.clone(),
                auth: self.auth,
            },
            script: script.clone(),
        };
        let mut server = SmtpServer::new(self.config, handler)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?
            .with_settings(self.settings);
        if let Some(timeout) = self.proxy_header_timeout {
            server = server.with_proxy_protocol(timeout);
        }
        #[cfg(feature = "tls")]
        let mut certificate = None;
        #[cfg(feature = "tls")]
        if let Some(choice) = &self.tls {
            let tls = choice.certificate()?;
            certificate = Some((tls.certificate_pem().to_string(), tls.certificate_der().to_vec()));
            server = if choice.implicit {
                server.with_implicit_tls(tls)
            } else {
                server.with_starttls(tls)
            };
        }
        // Bound here, in the caller's thread: the port accepts connections
        // (into the backlog) before this function returns.
        let listener = std::net::TcpListener::bind(SocketAddr::new(self.ip, self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stop_requested) = oneshot::channel::<()>();
        let (stopped_tx, stopped) = mpsc::channel();
        runtime().spawn(async move {
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                let shutdown = async {
                    let _ = stop_requested.await;
                };
                let _ = server.run(listener, shutdown).await;
            }
            let _ = stopped_tx.send(());
        });
        #[cfg(feature = "http")]
        let http = match self.http_api {
            Some(start) => Some(start(self.ip, store.clone(), script.clone())?),
            None => None,
        };
        Ok(TestSmtpServer {
            #[cfg(feature = "http")]
            http,
            addr,
            store,
            script,
            wait_timeout: self.wait_timeout,
            stop: Some(stop),
            stopped: Mutex::new(stopped),
            keep_artifacts: self.keep_artifacts,
            #[cfg(feature = "tls")]
            certificate,
        })
    }
}

impl TestSmtpServer {
    /// Starts a server with the default options on a free port of
    /// `127.0.0.1`. Not `async`: works in any test.
    #[track_caller]
    pub fn start() -> TestSmtpServer {
        Builder::default().start()
    }

    /// Options before starting.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The IP address as text, e.g. `127.0.0.1`.
    pub fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The certificate a client should trust, as PEM, when TLS is on: the
    /// CA made for this server, which issued the server's certificate (with
    /// [`Builder::tls_untrusted`], not the one that issued it), or the
    /// chain given to [`Builder::tls_certificate`] (lettre:
    /// `Certificate::from_pem`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.as_ref().map(|(pem, _)| pem.as_str())
    }

    /// The certificate a client should trust, as DER, when TLS is on (see
    /// [`certificate_pem`](Self::certificate_pem)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate.as_ref().map(|(_, der)| der.as_slice())
    }

    /// The address of the HTTP API, when the fixture was built with
    /// [`Builder::http_api`] (feature `http`).
    #[cfg(feature = "http")]
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(addr, _)| *addr)
    }

    /// The base URL of the HTTP API and web page, e.g.
    /// `http://127.0.0.1:41234`, when built with [`Builder::http_api`]:
    /// what a browser-driving test or a Mailpit client is pointed at.
    #[cfg(feature = "http")]
    pub fn http_url(&self) -> Option<String> {
        self.http_addr().map(|addr| format!("http://{addr}"))
    }

    /// How long waits last before failing.
    pub fn wait_timeout(&self) -> Duration {
        self.wait_timeout
    }

    /// Scripts a reply: when `trigger` happens, answer with `response`
    /// instead of the normal reply. Rules are checked in the order added;
    /// the rule stays in force for the life of the server (the handle only
    /// tunes it: `.times(n)`, `.expect(n)`, `.hits()`).
    ///
    /// ```
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    /// use std::time::Duration;
    ///
    /// let server = TestSmtpServer::start();
    /// server.respond(on::rcpt_to("bounce@example.com"), Reply::new(550, "5.1.1 No such user"));
    /// server.respond(on::message(), Reply::new(451, "4.3.0 Try again later")).times(1);
    /// server.respond(on::data(), Reply::disconnect()).times(1);
    /// server.respond(on::any_mail_from(), Reply::new(250, "OK").after(Duration::from_millis(10)));
    /// ```
    #[track_caller]
    pub fn respond(&self, trigger: Trigger, response: impl Into<Response>) -> RuleHandle {
        self.script.add(trigger, response)
    }

    /// The messages accepted so far, in order. A snapshot that copies no
    /// body: its [`data`](ReceivedMessage::data) shares the fixture's
    /// buffers.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        self.store.lock().messages.iter().cloned().collect()
    }

    /// Messages that got a refusal as their final reply (from a scripted
    /// reply or handler), in order. Like [`messages`](Self::messages), the
    /// snapshot shares the bodies.
    pub fn rejected(&self) -> Vec<RejectedMessage> {
        self.store.lock().rejected.iter().cloned().collect()
    }

    /// Recipients refused at `RCPT TO` by a scripted rule (or the handler),
    /// in order: they are in no envelope. Refusals the server makes itself
    /// (bad syntax, the recipient limit) are only in the transcripts. In
    /// LMTP also the recipients refused by their own final reply after the
    /// message ([`RefusedRecipient::after_data`]): the message recorded for
    /// the others does not name them.
    pub fn refused_recipients(&self) -> Vec<RefusedRecipient> {
        self.store.lock().refused_recipients.iter().cloned().collect()
    }

    /// The transcript of every session so far (also open ones), oldest first.
    pub fn transcripts(&self) -> Vec<Transcript> {
        self.store.transcripts()
    }

    /// The transcript of the session a message arrived on.
    pub fn transcript_of(&self, message: &ReceivedMessage) -> Option<Transcript> {
        self.store.transcript(message.session_id).map(|t| t.snapshot())
    }

    /// Forgets the messages, the refusals and the transcripts of finished
    /// sessions: between tests that share one server (see the crate docs on
    /// sharing).
    pub fn clear(&self) {
        self.store.clear();
    }

    /// Blocks until at least `count` messages were accepted and returns
    /// them all.
    ///
    /// # Panics
    ///
    /// After the wait timeout, with a report of what did arrive and the
    /// SMTP transcripts.
    #[track_caller]
    pub fn wait_for_messages(&self, count: usize) -> Vec<ReceivedMessage> {
        if !self
            .store
            .wait_until(self.wait_timeout, |r| r.messages.len() >= count)
        {
            self.fail(&self.count_problem(count));
        }
        self.messages()
    }

    /// [`wait_for_messages`](Self::wait_for_messages) for async tests: waits
    /// without blocking the runtime's thread.
    pub async fn wait_for_messages_async(&self, count: usize) -> Vec<ReceivedMessage> {
        let wait = self.store.changed_until(|r| r.messages.len() >= count);
        if !self.bounded(wait).await {
            self.fail(&self.count_problem(count));
        }
        self.messages()
    }

    /// Blocks until a message was accepted and returns the first one: the
    /// short form of `wait_for_messages(1).remove(0)`.
    ///
    /// # Panics
    ///
    /// After the wait timeout, with a report of the sessions.
    #[track_caller]
    pub fn wait_for_first_message(&self) -> ReceivedMessage {
        self.wait_for_messages(1).swap_remove(0)
    }

    /// [`wait_for_first_message`](Self::wait_for_first_message) for async tests.
    pub async fn wait_for_first_message_async(&self) -> ReceivedMessage {
        self.wait_for_messages_async(1).await.swap_remove(0)
    }

    /// Blocks until a message for which `matches` holds was accepted, and
    /// returns the first such message.
    ///
    /// # Panics
    ///
    /// After the wait timeout, listing what did arrive.
    #[track_caller]
    pub fn wait_for_message(&self, matches: impl Fn(&ReceivedMessage) -> bool) -> ReceivedMessage {
        let mut found = None;
        self.store.wait_until(self.wait_timeout, |r| {
            found = r.messages.iter().find(|m| matches(m)).cloned();
            found.is_some()
        });
        found.unwrap_or_else(|| self.fail(&self.no_match_problem()))
    }

    /// [`wait_for_message`](Self::wait_for_message) for async tests. The
    /// predicate may borrow locals, as in the sync form; the future is
    /// `Send` when the predicate is `Sync`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use smtp_fixture::TestSmtpServer;
    /// # use std::time::Duration;
    ///
    /// let server = TestSmtpServer::builder().wait_timeout(Duration::from_millis(50)).keep_artifacts(false).start();
    /// let wanted = String::from("ann@example.com"); // a local, borrowed below
    /// let waiting = server.wait_for_message_async(|m| m.envelope.rcpt_to.contains(&wanted));
    /// # let _ = waiting;
    /// # }
    /// ```
    pub async fn wait_for_message_async(
        &self,
        matches: impl Fn(&ReceivedMessage) -> bool,
    ) -> ReceivedMessage {
        let wait = self.store.changed_until(|r| r.messages.iter().any(&matches));
        self.bounded(wait).await;
        let found = self.messages().into_iter().find(|m| matches(m));
        found.unwrap_or_else(|| self.fail(&self.no_match_problem()))
    }

    fn no_match_problem(&self) -> String {
        format!(
            "expected a message matching the predicate within {:?}, but none of the {} received matched.",
            self.wait_timeout,
            self.store.lock().messages.len()
        )
    }

    /// Waits `period` and fails if any message arrives meanwhile (use after
    /// the messages you expect, to check that nothing more comes).
    ///
    /// # Panics
    ///
    /// As soon as an unexpected message is accepted.
    #[track_caller]
    pub fn assert_no_new_messages(&self, period: Duration) {
        let before = self.store.lock().messages.len();
        if self.store.wait_until(period, |r| r.messages.len() > before) {
            self.fail(&format!(
                "expected no new message within {period:?}, but message {} arrived.",
                before + 1
            ));
        }
    }

    /// Checks that exactly `count` messages were accepted, waiting up to the
    /// wait timeout for them to arrive.
    ///
    /// # Panics
    ///
    /// With a diff of the counts and the report.
    #[track_caller]
    pub fn assert_message_count(&self, count: usize) {
        self.store
            .wait_until(self.wait_timeout, |r| r.messages.len() >= count);
        let actual = self.store.lock().messages.len();
        if actual != count {
            let diff = diff::diff(&count, &actual);
            self.fail(&format!("expected {count} messages, got {actual}.\n{diff}"));
        }
    }

    /// Waits for `wait` up to the wait timeout. The timer runs on the
    /// fixture's runtime, so the caller's runtime needs none, and `wait`
    /// runs in the caller's task, so it may borrow. Returns whether it
    /// finished.
    pub(super) async fn bounded(&self, wait: impl std::future::Future<Output = ()>) -> bool {
        let mut timer = runtime().spawn(tokio::time::sleep(self.wait_timeout));
        let finished = tokio::select! {
            biased;
            () = wait => true,
            _ = &mut timer => false,
        };
        timer.abort();
        finished
    }

    fn count_problem(&self, count: usize) -> String {
        let arrived = self.store.lock().messages.len();
        format!(
            "expected at least {count} message{} within {:?}, but {arrived} arrived.",
            if count == 1 { "" } else { "s" },
            self.wait_timeout
        )
    }

    #[track_caller]
    pub(super) fn fail(&self, problem: &str) -> ! {
        panic!("{}", report::failure(&self.store, problem))
    }

    /// Writes every message (`NNN.eml`) and transcript (`transcripts.txt`)
    /// to a new directory that is kept, and returns its path.
    pub fn save_artifacts(&self) -> io::Result<PathBuf> {
        artifacts::save(&self.store)
    }
}

impl fmt::Debug for TestSmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestSmtpServer")
            .field("addr", &self.addr)
            .field("messages", &self.store.lock().messages.len())
            .finish()
    }
}

impl fmt::Display for TestSmtpServer {
    /// The messages and transcripts, as failure reports show them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "TestSmtpServer on {}", self.addr)?;
        f.write_str(&report::received(&self.store))
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        #[cfg(feature = "http")]
        if let Some((_, stop)) = self.http.take() {
            let _ = stop.send(());
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            // Wait until the listener is closed, so the port is free (and
            // refuses connections) once drop returns.
            let stopped = self
                .stopped
                .get_mut()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let _ = stopped.recv_timeout(Duration::from_secs(5));
        }
        if std::thread::panicking() {
            // Never a second panic here: it would abort the test binary.
            if self.keep_artifacts {
                match artifacts::save(&self.store) {
                    Ok(path) => eprintln!(
                        "smtp-fixture: the test failed; messages and transcripts kept in {}",
                        path.display()
                    ),
                    Err(error) => {
                        eprintln!("smtp-fixture: the test failed; could not save messages: {error}")
                    }
                }
            }
            return;
        }
        let unmet = self.script.unmet_expectations();
        if !unmet.is_empty() {
            let problem = format!("scripted reply expectations not met:\n  {}", unmet.join("\n  "));
            panic!("{}", report::failure(&self.store, &problem));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TestSmtpServer;
    use crate::protocol::Envelope;
    use crate::testing::message::ReceivedMessage;
    use crate::testing::store::RejectedMessage;

    #[test]
    fn snapshots_share_the_stored_bodies() {
        let server = TestSmtpServer::start();
        let body = vec![b'x'; 1 << 20];
        let pointer = body.as_ptr();
        let message = ReceivedMessage::new(Envelope::default(), body);
        server.store.push_rejected(RejectedMessage {
            message: message.clone(),
            reply: None,
        });
        server.store.push_message(message);

        let stored = server.store.lock().messages[0].data.as_ptr();
        assert_eq!(stored, pointer, "recording copied the body");
        let (first, second) = (server.messages(), server.messages());
        assert_eq!(first[0].data.as_ptr(), stored);
        assert_eq!(second[0].data.as_ptr(), stored);
        assert_eq!(server.wait_for_messages(1)[0].data.as_ptr(), stored);
        assert_eq!(server.rejected()[0].message.data.as_ptr(), stored);
    }
}
