//! `TestSmtpServer`: start, wait, inspect, stop.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::action::Action;
use super::artifacts;
use super::builder::Builder;
use super::diff;
use super::message::ReceivedMessage;
use super::report;
use super::rules::{RuleHandle, Script};
use super::runtime::runtime;
use super::store::{RefusedRecipient, RejectedMessage, Store};
use super::transcript::Transcript;
use super::trigger::Trigger;

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
    pub(super) addr: SocketAddr,
    pub(super) store: Arc<Store>,
    pub(super) script: Arc<Script>,
    pub(super) wait_timeout: Duration,
    pub(super) stop: Option<oneshot::Sender<()>>,
    /// Behind a mutex only so that the fixture is `Sync` (a `Receiver` is
    /// not): one server can be shared by every test of a binary.
    pub(super) stopped: Mutex<mpsc::Receiver<()>>,
    pub(super) keep_artifacts: bool,
    /// The server certificate as PEM and DER, when TLS is on.
    #[cfg(feature = "tls")]
    pub(super) certificate: Option<(String, Vec<u8>)>,
    /// The HTTP API's address and its stop signal, with `http_api()`.
    #[cfg(feature = "http")]
    pub(super) http: Option<(SocketAddr, oneshot::Sender<()>)>,
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

    /// Scripts a reply: when `trigger` happens, carry out `action` (a
    /// [`Reply`](crate::Reply), or an [`Action`] such as a disconnect)
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
                        eprintln!("smtp-fixture: the test failed; could not save messages: {error}");
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
