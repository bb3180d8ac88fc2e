//! Exim (Debian's `exim4-daemon-light`) as a client of the fixture: a
//! throwaway configuration in a temporary directory (spool and logs there,
//! one manualroute router sending everything to the fixture on loopback,
//! no local delivery), the message submitted with `exim -bs` (SMTP on
//! standard input) and delivered by Exim's smtp transport. Checked: the
//! bytes, the envelope, the DSN requests Exim passes on, the bounces it
//! makes from the fixture's refusals, and BDAT exactly when CHUNKING is
//! announced. `.ci/run` unpacks Exim into `/usr/local/lib/smtp-fixture-tools/exim` (installed
//! it would replace Postfix as the system MTA).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use mta::{Mta, Scenario, Submission};
use smtp_fixture::Violation;
use smtp_fixture::{ReceivedMessage, TestSmtpServer};
use tempfile::TempDir;

use crate::mta;
use crate::support;

/// An Exim with its own configuration and spool, relaying everything to
/// one fixture. Nothing runs between submissions: each `exim` runs under
/// the reaper, waited for until it and all it started have exited.
struct Exim {
    binary: PathBuf,
    dir: TempDir,
}

impl Exim {
    /// Debian's Exim, and what it needs to run: its user, and root.
    fn find_binary() -> Result<PathBuf, String> {
        let binary = support::tool("exim4").or_else(|why| support::tool("exim").map_err(|_| why))?;
        mta::user("Debian-exim").map_err(|why| format!("exim4 is there but {why}"))?;
        mta::can_run_daemons()?;
        Ok(binary)
    }

    fn configured(binary: PathBuf, server: &TestSmtpServer) -> Exim {
        let dir = mta::daemon_dir();
        let exim_user = mta::user("Debian-exim").expect("the exim user");
        for sub in ["spool", "log"] {
            mta::owned_dir(&dir.path().join(sub), exim_user);
        }
        let config = format!(
            r"primary_hostname = exim.test
exim_path = {binary}
spool_directory = {dir}/spool
log_file_path = {dir}/log/%slog
keep_environment =
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
dsn_advertise_hosts = *
acl_smtp_rcpt = accept
acl_smtp_data = accept

begin routers
fixture:
  driver = manualroute
  route_list = * 127.0.0.1::{port}
  self = send
  transport = fixture_smtp
  no_more

begin transports
fixture_smtp:
  driver = smtp
  port = {port}
  allow_localhost
  hosts_avoid_tls = *

begin retry
* * F,1m,1m
",
            binary = binary.display(),
            dir = dir.path().display(),
            port = server.port(),
        );
        std::fs::write(dir.path().join("exim.conf"), config).expect("write exim.conf");
        Exim { binary, dir }
    }

    /// Exim with this configuration, under the reaper: done when every
    /// process it started (a background delivery of a bounce) is.
    fn command(&self) -> Command {
        let mut command = mta::reaper(&self.binary);
        command.arg("-C").arg(self.dir.path().join("exim.conf"));
        command
    }

    /// Speaks `session` to `exim -bs` (reception) with foreground delivery:
    /// Exim's replies.
    fn speak(&self, session: &[u8]) -> String {
        let input = self.dir.path().join("session.in");
        std::fs::write(&input, session).expect("write the session");
        let mut command = self.command();
        command.args(["-odf", "-bs"]);
        let (_, replies) = run_with_input(command, &input, self.dir.path());
        replies
    }

    /// A forced queue run: a nudge when a delivery waits.
    fn queue_run(&self) {
        let mut command = self.command();
        command.arg("-qff");
        mta::run(command, self.dir.path(), Duration::from_secs(30));
    }

    fn log(&self) -> String {
        let log =
            |name: &str| std::fs::read_to_string(self.dir.path().join("log").join(name)).unwrap_or_default();
        format!("{}{}", log("mainlog"), log("paniclog"))
    }
}

/// `mta::run` with standard input from a file.
fn run_with_input(mut command: Command, input: &Path, dir: &Path) -> (bool, String) {
    let file = std::fs::File::open(input).expect("the session file");
    let out = dir.join("exim-bs.out");
    let output = std::fs::File::create(&out).expect("an output file");
    let child = command
        .stdin(file)
        .stdout(output.try_clone().expect("the file twice"))
        .stderr(output)
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    let success = mta::finish(child, Duration::from_secs(60)).is_some_and(|s| s.success());
    (success, std::fs::read_to_string(&out).unwrap_or_default())
}

/// The SMTP session the tests speak to Exim: EHLO, the submission's MAIL
/// and RCPTs, the message, QUIT.
fn session(submission: &Submission) -> Vec<u8> {
    let mut session = b"EHLO submitter.test\r\n".to_vec();
    for line in &submission.commands {
        session.extend_from_slice(line.as_bytes());
        session.extend_from_slice(b"\r\n");
    }
    session.extend_from_slice(b"DATA\r\n");
    session.extend_from_slice(&mta::dot_stuffed(&submission.message));
    session.extend_from_slice(b"QUIT\r\n");
    session
}

/// The session that carried `message`, and that Exim used BDAT for the
/// message exactly when the fixture announced CHUNKING (DATA otherwise).
#[track_caller]
fn assert_bdat_iff_chunking(server: &TestSmtpServer, message: &ReceivedMessage) {
    let transcript = server.transcript_of(message).expect("its session");
    let chunking = mta::announced(&transcript, "CHUNKING");
    let bdat = mta::commands(&transcript, "BDAT");
    let data = mta::commands(&transcript, "DATA");
    if chunking {
        assert!(!bdat.is_empty() && data.is_empty(), "{transcript}");
    } else {
        assert!(bdat.is_empty() && data.len() == 1, "{transcript}");
    }
}

impl Mta for Exim {
    const HOSTNAME: &'static str = "exim.test";
    const RECEIVED_BY: &'static str = "by exim.test";
    const BOUNCE: &'static [&'static str] = &[
        "report-type=delivery-status",
        // Exim writes ENVID and ORCPT as they came, in xtext.
        "Original-Envelope-ID: Order+2B42",
        "Original-Recipient: rfc822;Ann+40Example.com",
        "Final-Recipient: rfc822;ann@example.com",
        "Action: failed",
        "Status: 5.0.0",
        "Diagnostic-Code: smtp; 550 5.1.1 No such user here",
        "Content-type: text/rfc822-headers",
        "Subject: Your order 42",
    ];
    // NOTIFY=SUCCESS could not be passed on, so Exim sends the success
    // notice itself. It says "delivered" (RFC 3461, 5.2.2 asks for
    // "relayed" when the next hop does not take DSN).
    const NOTICE: &'static [&'static str] = &[
        "Action: delivered",
        "Status: 2.0.0",
        "Original-Envelope-ID: Order+2B42",
        "Final-Recipient: rfc822;ann@example.com",
    ];

    fn find() -> Result<PathBuf, String> {
        Exim::find_binary()
    }

    fn relaying_to(binary: PathBuf, server: &TestSmtpServer) -> Exim {
        Exim::configured(binary, server)
    }

    /// Speaks the session to `exim -bs`; Exim must take the message.
    #[track_caller]
    fn submit(&self, submission: &Submission) {
        let replies = self.speak(&session(submission));
        assert!(
            replies.contains("\n250 OK id=")
                && replies.matches("250 Accepted").count() == submission.recipients(),
            "Exim did not take the message:\n{replies}\n{}",
            self.log()
        );
    }

    fn wait_for_delivery(&self, server: &TestSmtpServer, count: usize) -> Vec<ReceivedMessage> {
        mta::wait_for_delivery(server, count, || self.queue_run(), || self.log())
    }

    fn check_relayed(server: &TestSmtpServer, message: &ReceivedMessage) {
        // Exim sends 8-bit data without BODY=8BITMIME, even when it was
        // declared and the server announces 8BITMIME (its smtp transport never
        // sends BODY=): the bytes arrive intact all the same.
        assert!(!message.envelope.eight_bit_mime(), "{:?}", message.envelope);
        // ... which the client lint reports, and only that.
        assert_eq!(message.lint(), [Violation::EightBitWithoutBody]);
        // Exim passes each recipient's DSN parameters on as given, and adds none.
        let carol = message.envelope.recipient_dsn("carol@example.com");
        assert!(
            carol.is_none_or(|dsn| dsn.notify.is_none() && dsn.orcpt.is_none()),
            "{carol:?}"
        );
        assert_bdat_iff_chunking(server, message);
    }

    fn check_utf8(message: &ReceivedMessage) {
        assert!(!message.envelope.eight_bit_mime(), "Exim sends no BODY=");
    }
}

#[test]
fn exim_relays_the_message_byte_for_byte_with_the_dsn_requests() {
    mta::scenario::<Exim>(Scenario::RelaysWithDsn);
}

#[test]
fn exim_bounces_a_refused_recipient_with_the_envid_the_orcpt_and_headers_only() {
    mta::scenario::<Exim>(Scenario::BouncesARefusedRecipient);
}

#[test]
fn exim_without_dsn_at_the_fixture_sends_no_dsn_parameters_and_notifies_the_sender() {
    mta::scenario::<Exim>(Scenario::WithoutDsnAtTheFixture);
}

#[test]
fn exim_passes_smtputf8_on_to_a_fixture_that_announces_it() {
    mta::scenario::<Exim>(Scenario::PassesSmtputf8);
}
