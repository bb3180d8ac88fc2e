//! `TestSmtpServer`: start, wait, inspect, stop.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::testing::inboxes::registry::Inboxes;
use crate::testing::recording::store::Store;
use crate::testing::reporting::{artifacts, report};
use crate::testing::scripting::action::Action;
use crate::testing::scripting::rules::{RuleHandle, Script};
use crate::testing::scripting::trigger::Trigger;

/// The environment variable that overrides the default wait timeout (for
/// slow CI machines): seconds, e.g. `SMTP_FIXTURE_TIMEOUT=30` or `2.5`.
pub const TIMEOUT_ENV: &str = "SMTP_FIXTURE_TIMEOUT";

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
/// itself, because the tests of a binary run in parallel. The simplest way
/// is an [`Inbox`](crate::Inbox) per test ([`inbox`](Self::inbox)):
/// addresses, messages, waits and rules of its own, checked when it drops.
/// Otherwise each test looks only at its own messages (by recipient, with
/// [`wait_for_message_to`](Self::wait_for_message_to)), or the tests that
/// use the server take turns, each starting with [`clear`](Self::clear) and
/// [`clear_rules`](Self::clear_rules), as here. A `static` is never dropped,
/// so the expectations of its rules (`.expect(n)`) are checked only by
/// [`verify`](Self::verify). A fixture of its own per test (it starts in
/// well under a millisecond) needs none of this.
///
/// Under `cargo nextest`, every test runs in a process of its own: a
/// `static` server is then one server per test, started by the first use in
/// that process. The recipe still works; it only shares nothing.
///
/// ```
/// use std::sync::{LazyLock, Mutex, MutexGuard};
/// use smtp_fixture::{on, Reply, TestSmtpServer};
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
/// /// The shared server to this test alone, emptied, without rules.
/// fn server() -> (MutexGuard<'static, ()>, &'static TestSmtpServer) {
///     let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
///     SERVER.clear();
///     SERVER.clear_rules();
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
///
/// // #[test]
/// fn the_invoice_is_accepted_once() {
///     let (_turn, server) = server();
///     server.respond(on::message(), Reply::new(250, "2.0.0 Queued")).expect(1);
///     send_invoice("cy@example.com", server.port());
///     server.wait_for_first_message();
///     server.verify(); // the static is never dropped: check the expectation now
/// }
/// # invoice_goes_to_the_customer();
/// # exactly_one_invoice_is_sent();
/// # the_invoice_is_accepted_once();
/// ```
pub struct TestSmtpServer {
    pub(crate) addr: SocketAddr,
    pub(crate) store: Arc<Store>,
    pub(crate) script: Arc<Script>,
    /// The inboxes handed out ([`inbox`](Self::inbox)).
    pub(crate) inboxes: Arc<Inboxes>,
    pub(crate) wait_timeout: Duration,
    pub(crate) stop: Option<oneshot::Sender<()>>,
    /// Behind a mutex only so that the fixture is `Sync` (a `Receiver` is
    /// not): one server can be shared by every test of a binary.
    pub(crate) stopped: Mutex<mpsc::Receiver<()>>,
    pub(crate) keep_artifacts: bool,
    /// The server certificate as PEM and DER, when TLS is on.
    #[cfg(feature = "tls")]
    pub(crate) certificate: Option<(String, Vec<u8>)>,
    /// The HTTP API's address and its stop signal, with `http_api()`.
    #[cfg(feature = "http")]
    pub(crate) http: Option<(SocketAddr, oneshot::Sender<()>)>,
}

impl TestSmtpServer {
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
    /// [`Builder::tls_untrusted`](crate::Builder::tls_untrusted), not the one that issued it), or the
    /// chain given to [`Builder::tls_certificate`](crate::Builder::tls_certificate) (lettre:
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
    /// [`Builder::http_api`](crate::Builder::http_api) (feature `http`).
    #[cfg(feature = "http")]
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|(addr, _)| *addr)
    }

    /// The base URL of the HTTP API and web page, e.g.
    /// `http://127.0.0.1:41234`, when built with [`Builder::http_api`](crate::Builder::http_api):
    /// what a browser-driving test or a Mailpit client is pointed at.
    #[cfg(feature = "http")]
    pub fn http_url(&self) -> Option<String> {
        self.http_addr().map(|addr| format!("http://{addr}"))
    }

    /// Scripts a reply: when `trigger` happens, carry out `action` (a
    /// [`Reply`](crate::Reply), or an [`Action`] such as a disconnect)
    /// instead of the normal reply. Rules are checked in the order added;
    /// the rule stays in force for the life of the server, or until
    /// [`RuleHandle::remove`] or [`clear_rules`](Self::clear_rules) (the
    /// handle also tunes it: `.times(n)`, `.expect(n)`, `.hits()`).
    ///
    /// ```
    /// use smtp_fixture::{on, Action, Reply, TestSmtpServer};
    /// use std::time::Duration;
    ///
    /// let server = TestSmtpServer::start();
    /// server.respond(on::rcpt_to("bounce@example.com"), Reply::new(550, "5.1.1 No such user"));
    /// server.respond(on::message(), Reply::new(451, "4.3.0 Try again later")).times(1);
    /// server.respond(on::data(), Action::disconnect()).times(1);
    /// server.respond(on::any_mail_from(), Action::reply(Reply::new(250, "OK")).after(Duration::from_millis(10)));
    /// ```
    #[track_caller]
    pub fn respond(&self, trigger: Trigger, action: impl Into<Action>) -> RuleHandle {
        self.script.add(trigger, action)
    }

    /// Moves the rules' clock forward by `by`: greylisting delays,
    /// rate-limit windows and quotas see the time pass at once. Meant for a
    /// fixture built with [`Builder::manual_clock`](crate::Builder::manual_clock),
    /// whose clock moves only here; on a real clock it adds to real time.
    /// Socket timeouts and [`Action::delay`] do not see it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::{on, Action, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::builder().manual_clock().start();
    /// server.respond(on::message(), Action::rate_limit(10, Duration::from_secs(60)));
    /// // ... 10 messages accepted, the 11th refused ...
    /// server.advance(Duration::from_secs(60)); // the window is over: mail flows again
    /// ```
    pub fn advance(&self, by: Duration) {
        self.script.clock().advance(by);
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
                        eprintln!("smtp-fixture: the test failed; could not save messages: {error}");
                    }
                }
            }
            return;
        }
        if let Some(problem) = self.unmet_expectations() {
            panic!("{}", report::failure(&self.store, &problem));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TestSmtpServer;
    use crate::protocol::Envelope;
    use crate::testing::inspecting::message::ReceivedMessage;
    use crate::testing::recording::refusals::RejectedMessage;

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
