//! [`Inbox`]: one test's share of a server, made by
//! [`TestSmtpServer::inbox`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::testing::recording::store::Store;
use crate::testing::reporting::report;
use crate::testing::scripting::action::Action;
use crate::testing::scripting::rules::{RuleHandle, Script};
use crate::testing::scripting::trigger::Trigger;
use crate::testing::starting::fixture::TestSmtpServer;

use super::registry::{answers_only_recipients, InboxParts, Inboxes, INBOX_DOMAIN};

/// One test's share of a server: addresses of its own, the mail sent to
/// them, and rules that answer only them. Made by
/// [`TestSmtpServer::inbox`].
///
/// Its addresses are `name@boxN.inbox.test` ([`address`](Self::address)):
/// a subdomain per inbox under `.test`, the top-level domain reserved for
/// testing (RFC 2606), so they never reach a real mail server, pass the
/// address checks applications make, and leave the local part to the test
/// (`ann`, `ann+tag`, anything an application puts there). The server still
/// accepts mail to any address; the inbox sees only mail to its own.
///
/// It has the server's reading, waiting and scripting methods with the same
/// names and types, scoped to its addresses:
///
/// - [`messages`](Self::messages) and the waits see the messages with at
///   least one recipient of the inbox, each with `envelope.rcpt_to`
///   cut down to the inbox's own recipients: a message to two inboxes is
///   seen by both, each with its recipients;
/// - [`refused_recipients`](Self::refused_recipients) and
///   [`rejected`](Self::rejected) hold its recipients' refusals, and
///   [`transcripts`](Self::transcripts) the sessions that named one of its
///   addresses;
/// - a rule from [`respond`](Self::respond) answers only the inbox's
///   recipients: at `RCPT TO` for its addresses, and at `DATA` and the
///   final reply (`on::data()`, `on::message()`, `on::delivery_to`) when
///   every recipient of the transaction is the inbox's. A message to this
///   inbox and to other addresses (another inbox's, or anyone's) gets at
///   `DATA` and at its final reply only the server's rules: the final reply
///   is one for all recipients, so no inbox decides it alone. The server's
///   own rules are asked first, then the inbox's.
///
/// Dropping the inbox closes it (its addresses become ordinary ones, its
/// rules go) and checks its rules' expectations, as dropping a server
/// does; [`verify`](Self::verify) checks them earlier.
///
/// ```
/// use std::sync::LazyLock;
/// use smtp_fixture::{on, Reply, TestSmtpServer};
/// # use std::io::{BufRead, BufReader, Write};
/// # use std::net::TcpStream;
/// # fn send(to: &str, port: u16) {
/// #     let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
/// #     let mut reader = BufReader::new(stream.try_clone().unwrap());
/// #     let mut writer = stream;
/// #     write!(writer, "HELO app\r\nMAIL FROM:<shop@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\nSubject: Invoice\r\n\r\n.\r\nQUIT\r\n").unwrap();
/// #     let mut line = String::new();
/// #     while reader.read_line(&mut line).unwrap() > 0 {}
/// # }
///
/// static SERVER: LazyLock<TestSmtpServer> = LazyLock::new(TestSmtpServer::start);
///
/// // #[test], in parallel with the binary's other tests
/// fn invoice_goes_to_the_customer() {
///     let inbox = SERVER.inbox();
///     let ann = inbox.address("ann");
///     send(&ann, SERVER.port());
///     assert_eq!(inbox.wait_for_first_message().envelope.rcpt_to, [ann]);
///     inbox.assert_message_count(1); // the other tests' mail is not counted
/// }
///
/// // #[test]
/// fn an_unknown_customer_is_refused() {
///     let inbox = SERVER.inbox();
///     inbox.respond(on::any_rcpt_to(), Reply::new(550, "5.1.1 No such user")).expect(1);
///     send(&inbox.address("gone"), SERVER.port());
///     assert_eq!(inbox.refused_recipients().len(), 1);
/// } // the inbox drops: its rule fired once, as expected
/// # invoice_goes_to_the_customer();
/// # an_unknown_customer_is_refused();
/// ```
pub struct Inbox {
    pub(crate) store: Arc<Store>,
    pub(crate) script: Arc<Script>,
    pub(crate) wait_timeout: Duration,
    parts: Arc<InboxParts>,
    inboxes: Arc<Inboxes>,
}

impl TestSmtpServer {
    /// A new inbox on this server: addresses of its own, and the server's
    /// methods scoped to them (see [`Inbox`]). Takes `&self`, so a server
    /// in a `static` gives one to each test, from any thread.
    pub fn inbox(&self) -> Inbox {
        let parts = self.inboxes.open();
        Inbox {
            store: parts.store.clone(),
            script: parts.script.clone(),
            wait_timeout: self.wait_timeout,
            parts,
            inboxes: self.inboxes.clone(),
        }
    }
}

impl Inbox {
    /// An address of this inbox: `name@boxN.inbox.test` (see
    /// [`Inbox`] for why). `name` is the local part, used as given.
    ///
    /// ```
    /// let server = smtp_fixture::TestSmtpServer::start();
    /// let (first, second) = (server.inbox(), server.inbox());
    /// assert!(first.address("ann").starts_with("ann@box"));
    /// assert!(first.address("ann").ends_with(".inbox.test"));
    /// assert_ne!(first.address("ann"), second.address("ann"));
    /// ```
    pub fn address(&self, name: &str) -> String {
        self.parts.address(name)
    }

    /// The inbox's name on its server, e.g. `box7`: the label its
    /// addresses' domain starts with.
    pub fn id(&self) -> &str {
        &self.parts.id
    }

    /// The domain of its addresses, e.g. `box7.inbox.test`.
    pub fn domain(&self) -> String {
        format!("{}.{INBOX_DOMAIN}", self.parts.id)
    }

    /// Scripts a reply for this inbox's recipients only, as
    /// [`TestSmtpServer::respond`] does for everyone: `on::rcpt_to(..)` and
    /// `on::any_rcpt_to()` for its addresses, `on::data()`,
    /// `on::message()` and `on::delivery_to(..)` when every recipient is
    /// the inbox's (see [`Inbox`] for a message to several inboxes).
    ///
    /// # Panics
    ///
    /// For a trigger that comes before any recipient (`on::connect()`,
    /// `on::helo()`, `on::mail_from(..)`, `on::auth()`, `on::command(..)`):
    /// nothing there says whose mail it is, so it belongs on the server.
    #[track_caller]
    pub fn respond(&self, trigger: Trigger, action: impl Into<Action>) -> RuleHandle {
        if !answers_only_recipients(&trigger) {
            panic!(
                "smtp-fixture: an inbox's rule answers only its own recipients, and {trigger} comes before any \
                 recipient; add it to the server instead (TestSmtpServer::respond)"
            );
        }
        self.script.add(trigger, action)
    }

    /// Greylists this inbox's recipients (every one of its addresses), as
    /// [`Builder::greylist`](crate::Builder::greylist) does for a whole
    /// server: `451 4.7.1` until a (client, sender, recipient) triplet
    /// retries `delay` or more after its first attempt, on the server's
    /// clock.
    ///
    /// ```
    /// use std::time::Duration;
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::builder().manual_clock().start();
    /// let inbox = server.inbox();
    /// inbox.greylist(Duration::from_secs(300));
    /// server.advance(Duration::from_secs(301)); // a retry now passes
    /// ```
    #[track_caller]
    pub fn greylist(&self, delay: Duration) -> RuleHandle {
        self.script.add(Trigger::rcpt_to(None), Action::greylist(delay))
    }
}

impl fmt::Debug for Inbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbox")
            .field("domain", &self.domain())
            .field("messages", &self.store.lock().messages.len())
            .finish()
    }
}

impl fmt::Display for Inbox {
    /// Its messages and transcripts, as failure reports show them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Inbox {}", self.domain())?;
        f.write_str(&report::received(&self.store))
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.inboxes.close(&self.parts.id);
        if std::thread::panicking() {
            // Never a second panic here: it would abort the test binary.
            return;
        }
        if let Some(problem) = self.unmet_expectations() {
            panic!(
                "{}",
                report::failure(&self.store, &format!("inbox {}: {problem}", self.domain()))
            );
        }
    }
}
