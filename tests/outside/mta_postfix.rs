//! Postfix as a relay in front of the fixture: a throwaway instance (its
//! own `config_directory`, `queue_directory` and `data_directory` in a
//! temporary directory, `inet_interfaces = loopback-only`, `relayhost =
//! [127.0.0.1]:PORT` of the fixture, no chroot, a minimal master.cf, no
//! local delivery), run with `postfix start-fg` as a child of the test and
//! stopped at the end, even when the test fails. The message goes in over
//! SMTP to Postfix's own listener on loopback; Postfix's smtp client
//! delivers it to the fixture. Checked: the bytes, the envelope, the DSN
//! requests Postfix passes on, and the bounces it makes from the fixture's
//! refusals.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mta::{Mta, Scenario, Submission};
use smtp_fixture::{ReceivedMessage, Reply, TestSmtpServer};
use support::Client;
use tempfile::TempDir;

use crate::mta;
use crate::support;

/// A running Postfix instance relaying everything to one fixture; stopped
/// when dropped, every process of it gone.
struct Postfix {
    binary: PathBuf,
    dir: TempDir,
    master: Option<Child>,
    /// Where its smtpd listens.
    addr: SocketAddr,
}

impl Postfix {
    /// Debian's Postfix, and what it needs to run: its users, and root.
    fn find_binary() -> Result<PathBuf, String> {
        let binary = support::tool("postfix")?;
        mta::user("postfix").map_err(|why| format!("postfix is there but {why}"))?;
        mta::can_run_daemons()?;
        Ok(binary)
    }

    fn configured(binary: PathBuf, server: &TestSmtpServer) -> Postfix {
        let dir = mta::daemon_dir();
        let path = dir.path();
        let postfix_user = mta::user("postfix").expect("the postfix user");
        std::fs::create_dir_all(path.join("etc")).expect("etc");
        std::fs::create_dir_all(path.join("queue")).expect("queue");
        mta::owned_dir(&path.join("data"), postfix_user);
        let addr = SocketAddr::from(([127, 0, 0, 1], support::free_port()));
        let main_cf = format!(
            "compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = postfix.test
mydomain = postfix.test
myorigin = postfix.test
mydestination =
relayhost = [127.0.0.1]:{port}
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_transport = error:5.1.1 no local delivery here
biff = no
smtp_tls_security_level = none
smtpd_tls_security_level = none
minimal_backoff_time = 1s
maximal_backoff_time = 5s
queue_run_delay = 1s
",
            dir = path.display(),
            port = server.port(),
        );
        // Every service the queue needs, none chrooted; smtpd on loopback.
        let master_cf = format!(
            "{addr} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"
        );
        std::fs::write(path.join("etc/main.cf"), main_cf).expect("main.cf");
        std::fs::write(path.join("etc/master.cf"), master_cf).expect("master.cf");

        let output = std::fs::File::create(path.join("start-fg.out")).expect("an output file");
        let master = mta::reaper(&binary)
            .arg("-c")
            .arg(path.join("etc"))
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("the file twice"))
            .stderr(output)
            .spawn()
            .expect("postfix start-fg starts");
        let mut postfix = Postfix {
            binary,
            dir,
            master: Some(master),
            addr,
        };
        postfix.wait_until_listening();
        postfix
    }

    /// Polls its smtpd port (bounded), failing with the log if Postfix
    /// exits or does not listen.
    fn wait_until_listening(&mut self) {
        let what = format!("Postfix listens on {}", self.addr);
        support::eventually_within(mta::DELIVERY_TIMEOUT, &what, || {
            if TcpStream::connect(self.addr).is_ok() {
                return Some(());
            }
            let exited = self
                .master
                .as_mut()
                .and_then(|master| master.try_wait().ok().flatten());
            if exited.is_some() {
                panic!("Postfix exited ({exited:?}):\n{}", self.log());
            }
            None
        });
    }

    fn command(&self, program: &str) -> Command {
        let mut command = mta::reaper(&self.binary.with_file_name(program));
        command.arg("-c").arg(self.dir.path().join("etc"));
        command
    }

    /// A queue flush: a nudge when a delivery waits.
    fn flush(&self) {
        let mut flush = self.command("postqueue");
        flush.arg("-f");
        mta::run(flush, self.dir.path(), Duration::from_secs(30));
    }

    fn log(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("start-fg.out"), read("maillog"))
    }
}

impl Drop for Postfix {
    /// `postfix stop`, then waits for every Postfix process to be gone
    /// (the reaper that runs `start-fg` exits only then; stopped with
    /// SIGTERM, it kills them all).
    fn drop(&mut self) {
        let Some(master) = self.master.take() else {
            return;
        };
        let mut stop = self.command("postfix");
        stop.arg("stop");
        let (stopped, _) = mta::run(stop, self.dir.path(), Duration::from_secs(20));
        mta::finish(master, Duration::from_secs(if stopped { 20 } else { 0 }));
    }
}

/// The session that carried `message`: Postfix's smtp client uses DATA
/// (it has no BDAT, whatever the server announces).
#[track_caller]
fn assert_data_used(server: &TestSmtpServer, message: &ReceivedMessage) {
    let transcript = server.transcript_of(message).expect("its session");
    assert_eq!(mta::commands(&transcript, "DATA").len(), 1, "{transcript}");
    assert!(mta::commands(&transcript, "BDAT").is_empty(), "{transcript}");
}

impl Mta for Postfix {
    const HOSTNAME: &'static str = "postfix.test";
    const RECEIVED_BY: &'static str = "by postfix.test (Postfix)";
    const BOUNCE: &'static [&'static str] = &[
        "report-type=delivery-status",
        // Postfix writes ENVID and ORCPT decoded from xtext.
        "Original-Envelope-Id: Order+42",
        "Original-Recipient: rfc822;Ann@Example.com",
        "Final-Recipient: rfc822; ann@example.com",
        "Action: failed",
        "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 No such user here",
        "Content-Type: text/rfc822-headers",
        "Subject: Your order 42",
    ];
    // NOTIFY=SUCCESS could not be passed on: Postfix reports "relayed"
    // (RFC 3461, 5.2.2).
    const NOTICE: &'static [&'static str] = &[
        "Action: relayed",
        "Original-Envelope-Id: Order+42",
        "Final-Recipient: rfc822; ann@example.com",
    ];

    fn find() -> Result<PathBuf, String> {
        Postfix::find_binary()
    }

    fn relaying_to(binary: PathBuf, server: &TestSmtpServer) -> Postfix {
        Postfix::configured(binary, server)
    }

    /// Submits to Postfix over SMTP, one command at a time.
    #[track_caller]
    fn submit(&self, submission: &Submission) {
        let mut client = Client::greeted(self.addr);
        let ehlo = client.command("EHLO submitter.test");
        assert!(ehlo.starts_with("250") && ehlo.contains("DSN"), "{ehlo}");
        for line in &submission.commands {
            let reply = client.command(line);
            assert!(reply.starts_with("250"), "{line}: {reply}");
        }
        assert_eq!(client.code("DATA"), 354);
        client.send(&mta::dot_stuffed(&submission.message));
        let reply = client.reply();
        assert!(reply.starts_with("250"), "{reply}\n{}", self.log());
        assert_eq!(client.code("QUIT"), 221);
    }

    fn wait_for_delivery(&self, server: &TestSmtpServer, count: usize) -> Vec<ReceivedMessage> {
        mta::wait_for_delivery(server, count, || self.flush(), || self.log())
    }

    fn check_relayed(server: &TestSmtpServer, message: &ReceivedMessage) {
        assert!(message.envelope.eight_bit_mime(), "{:?}", message.envelope);
        message.assert_rfc_clean();
        // Postfix gives every recipient an ORCPT: the address as first given.
        let carol = message
            .envelope
            .recipient_dsn("carol@example.com")
            .expect("carol's DSN");
        assert_eq!(
            carol.orcpt.as_ref().map(|o| o.address.as_str()),
            Some("carol@example.com")
        );
        assert_eq!(carol.notify, None);
        assert_data_used(server, message);
    }

    fn check_utf8(message: &ReceivedMessage) {
        assert!(message.envelope.eight_bit_mime());
        // Postfix adds an ORCPT in xtext: ORCPT=rfc822;zo+C3+AB@ex+C3+A4mple.com.
        let dsn = message
            .envelope
            .recipient_dsn(mta::UTF8_RECIPIENT)
            .expect("the ORCPT Postfix adds");
        assert_eq!(
            dsn.orcpt.as_ref().map(|o| o.address.as_str()),
            Some(mta::UTF8_RECIPIENT)
        );
    }
}

#[test]
fn postfix_relays_the_message_byte_for_byte_with_the_dsn_requests() {
    mta::scenario::<Postfix>(Scenario::RelaysWithDsn);
}

#[test]
fn postfix_bounces_a_refused_recipient_with_the_envid_the_orcpt_and_headers_only() {
    mta::scenario::<Postfix>(Scenario::BouncesARefusedRecipient);
}

#[test]
fn postfix_without_dsn_at_the_fixture_sends_no_dsn_parameters_and_reports_relayed() {
    mta::scenario::<Postfix>(Scenario::WithoutDsnAtTheFixture);
}

#[test]
fn postfix_passes_smtputf8_on_to_a_fixture_that_announces_it() {
    mta::scenario::<Postfix>(Scenario::PassesSmtputf8);
}

/// Greylisting as Postfix meets it: the fixture greylists for five minutes
/// of its manual clock; Postfix's first attempt gets `451 4.7.1` and the
/// message is deferred; a queue flush before the delay is greylisted
/// again; after `advance(5 min)` the next flush delivers it, exactly once.
/// Postfix's own retry timing is real time: a flush (`postqueue -f`)
/// stands in for its backoff (1 s to 5 s here, so a retry also comes on
/// its own), and every wait is bounded by the fixture's wait timeout.
#[test]
fn postfix_retries_through_greylisting_and_delivers_exactly_once() {
    let binary = crate::needs_tool!(Postfix::find_binary());
    let server = mta::fixture()
        .manual_clock()
        .greylist(Duration::from_secs(5 * 60))
        .start();
    let postfix = Postfix::configured(binary, &server);
    postfix.submit(&Submission {
        commands: vec![
            "MAIL FROM:<shop@example.com>".to_string(),
            "RCPT TO:<ann@example.com>".to_string(),
        ],
        message: b"Subject: Greylisted order\r\nMessage-ID: <order-7@shop.example.com>\r\n\r\nThanks.\r\n"
            .to_vec(),
    });

    let greylisted = |at_least: usize| {
        let what = format!("{at_least} greylisted attempt(s) by Postfix");
        support::eventually_within(mta::DELIVERY_TIMEOUT, &what, || {
            let refused = server.refused_recipients();
            (refused.len() >= at_least).then_some(refused)
        })
    };
    let first = greylisted(1);
    assert_eq!(first[0].address, "ann@example.com");
    assert_eq!(first[0].reply.as_ref().map(Reply::code), Some(451), "{first:?}");
    // A retry before the delay is greylisted again.
    let before = first.len();
    postfix.flush();
    greylisted(before + 1);
    assert!(server.messages().is_empty(), "nothing passes before the delay");

    server.advance(Duration::from_secs(5 * 60));
    postfix.flush();
    let delivered = postfix.wait_for_delivery(&server, 1);
    assert_eq!(delivered[0].envelope.rcpt_to, ["ann@example.com"]);
    assert_eq!(delivered[0].subject().as_deref(), Some("Greylisted order"));
    // Delivered is delivered: Postfix's queue holds nothing more to send
    // (its `postqueue -p` says the queue is empty), so nothing else comes.
    let what = "Postfix's queue to be empty";
    support::eventually_within(mta::DELIVERY_TIMEOUT, what, || {
        let mut list = postfix.command("postqueue");
        list.arg("-p");
        let (_, output) = mta::run(list, postfix.dir.path(), Duration::from_secs(30));
        output.contains("Mail queue is empty").then_some(())
    });
    assert_eq!(server.messages().len(), 1, "{}", postfix.log());
    server.assert_no_duplicates();
}
