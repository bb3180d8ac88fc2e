//! `TestSmtpServer`: start, wait, inspect, stop.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::store::{RefusedRecipient, RejectedMessage, Store};
use crate::testing::recording::transcript::Transcript;
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
/// itself, because the tests of a binary run in parallel. Either each test
/// looks only at its own messages (by recipient, with
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

    /// How long waits last before failing.
    pub fn wait_timeout(&self) -> Duration {
        self.wait_timeout
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
    /// sessions: between tests that share one server (see [sharing
    /// one server](Self#one-server-for-many-tests)). Rules stay: see
    /// [`clear_rules`](Self::clear_rules).
    pub fn clear(&self) {
        self.store.clear();
    }

    /// Removes every rule: the server behaves normally again, and no
    /// expectation of a removed rule is checked any more.
    pub fn clear_rules(&self) {
        self.script.clear();
    }

    /// Checks the rules' expectations (`.expect(n)`) now, as dropping the
    /// server does: for a server that is never dropped (a `static`).
    ///
    /// ```should_panic
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    ///
    /// let server = TestSmtpServer::builder().keep_artifacts(false).start();
    /// server.respond(on::message(), Reply::new(451, "4.3.0 Later")).expect(1);
    /// server.verify(); // panics: the rule never fired
    /// ```
    ///
    /// # Panics
    ///
    /// When a rule fired a number of times outside what it expects, naming
    /// the rule, where it was added, and the report of the sessions.
    #[track_caller]
    pub fn verify(&self) {
        if let Some(problem) = self.unmet_expectations() {
            self.fail(&problem);
        }
    }

    /// What [`verify`](Self::verify) and dropping report, if anything.
    fn unmet_expectations(&self) -> Option<String> {
        let unmet = self.script.unmet_expectations();
        (!unmet.is_empty()).then(|| format!("scripted reply expectations not met:\n  {}", unmet.join("\n  ")))
    }

    /// Fails the test with `problem` and the report of what arrived.
    #[track_caller]
    pub(crate) fn fail(&self, problem: &str) -> ! {
        panic!("{}", report::failure(&self.store, problem))
    }

    /// [`fail`](Self::fail) for a blocking wait that timed out: on a
    /// current-thread tokio runtime, says why nothing could arrive and
    /// names the async twin to use instead.
    #[track_caller]
    pub(crate) fn fail_blocked(&self, problem: &str, async_twin: &str) -> ! {
        match report::blocked_runtime_hint(async_twin) {
            Some(hint) => self.fail(&format!("{problem}\n{hint}")),
            None => self.fail(problem),
        }
    }

    /// [`fail`](Self::fail) from inside a future, reported at `caller`,
    /// the test's line that made the future.
    pub(crate) fn fail_at(&self, caller: &'static Location<'static>, problem: &str) -> ! {
        report::panic_at(caller, report::failure(&self.store, problem))
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
    use crate::testing::recording::store::RejectedMessage;

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
