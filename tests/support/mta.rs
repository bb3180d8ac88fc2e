//! Shared by the tests that run real MTAs as clients of the fixture
//! (tests/outside/mta_exim.rs, tests/outside/mta_postfix.rs): the message they relay, a
//! directory their own users can reach, bounded waits, and the checks of
//! what arrived.

// Each test binary that includes this uses a different part of it.
#![allow(dead_code)]

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use smtp_fixture::{on, ReceivedMessage, Reply, TestSmtpServer};
use smtp_fixture::{Builder, Transcript};

/// How long an MTA gets to deliver: bounded, never asserted (a queue run
/// on a busy two-core machine can take seconds).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// The fixture the MTAs relay to: its defaults, with waits long enough
/// for a queue run.
pub fn fixture() -> Builder {
    TestSmtpServer::builder().wait_timeout(DELIVERY_TIMEOUT)
}

/// The envelope the tests submit: DSN requests on MAIL and on two of the
/// three recipients (NOTIFY and ORCPT on the first, NOTIFY=NEVER on the
/// second, nothing on the third), the body declared 8-bit.
pub const MAIL: &str = "MAIL FROM:<shop@example.com> BODY=8BITMIME RET=HDRS ENVID=Order+2B42";
/// See [`MAIL`].
pub const RCPTS: [&str; 3] = [
    "RCPT TO:<ann@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Ann+40Example.com",
    "RCPT TO:<bob@example.com> NOTIFY=NEVER",
    "RCPT TO:<carol@example.com>",
];
/// The recipients of [`RCPTS`], in order.
pub const RECIPIENTS: [&str; 3] = ["ann@example.com", "bob@example.com", "carol@example.com"];

/// The message submitted. It has the headers an MTA would otherwise add
/// (Date, Message-ID), so the only one it adds is its Received line; and
/// what a relay could get wrong: 8-bit text, a lone dot, lines starting
/// with dots, a tab, trailing spaces, an empty line, a 900-byte line.
pub fn message() -> Vec<u8> {
    let mut message = concat!(
        "From: Shop <shop@example.com>\r\n",
        "To: Ann <ann@example.com>, bob@example.com, carol@example.com\r\n",
        "Subject: Your order 42\r\n",
        "Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n",
        "Message-ID: <order-42@shop.example.com>\r\n",
        "MIME-Version: 1.0\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "Content-Transfer-Encoding: 8bit\r\n",
        "\r\n",
        "Grüße, Ann! Café, ñ, €.\r\n",
        ".\r\n",
        "..two dots\r\n",
        ".one dot\r\n",
        "\tafter a tab, before three spaces   \r\n",
        "\r\n",
    )
    .as_bytes()
    .to_vec();
    message.extend_from_slice(&[b'x'; 900]);
    message.extend_from_slice(b"\r\nlast line\r\n");
    message
}

/// `message` as DATA carries it: lines starting with a dot get another,
/// then the terminator.
pub fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// What a test gives an MTA: the MAIL and RCPT command lines, and the
/// message.
pub struct Submission {
    /// MAIL first, then each RCPT.
    pub commands: Vec<String>,
    /// The message, not dot-stuffed.
    pub message: Vec<u8>,
}

impl Submission {
    /// [`MAIL`], [`RCPTS`] and [`message()`]: the DSN requests.
    pub fn with_dsn() -> Submission {
        Submission {
            commands: std::iter::once(MAIL).chain(RCPTS).map(String::from).collect(),
            message: message(),
        }
    }

    /// A UTF-8 sender, recipient and headers, with `SMTPUTF8` (RFC 6531)
    /// and `BODY=8BITMIME` on MAIL.
    pub fn utf8() -> Submission {
        Submission {
            commands: vec![
                format!("MAIL FROM:<{UTF8_SENDER}> SMTPUTF8 BODY=8BITMIME"),
                format!("RCPT TO:<{UTF8_RECIPIENT}>"),
            ],
            message: format!(
                "From: Jürgen <{UTF8_SENDER}>\r\n\
                 To: Zoë <{UTF8_RECIPIENT}>\r\n\
                 Subject: Grüße aus Köln\r\n\
                 Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n\
                 Message-ID: <utf8-1@shop.example.com>\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\
                 Content-Transfer-Encoding: 8bit\r\n\
                 \r\n\
                 Hallo Zoë, schöne Grüße!\r\n\
                 .\r\n"
            )
            .into_bytes(),
        }
    }

    /// The number of RCPT commands.
    pub fn recipients(&self) -> usize {
        self.commands.len() - 1
    }
}

/// The UTF-8 sender of [`Submission::utf8`].
pub const UTF8_SENDER: &str = "jürgen@exämple.com";
/// The UTF-8 recipient of [`Submission::utf8`].
pub const UTF8_RECIPIENT: &str = "zoë@exämple.com";

/// A relayed message split into the Received header the MTA put on top
/// (with its continuation lines) and the rest, which must be what was
/// submitted.
pub fn split_received(data: &[u8]) -> (&[u8], &[u8]) {
    assert!(
        data.starts_with(b"Received: "),
        "no Received header on top:\n{}",
        String::from_utf8_lossy(data)
    );
    let mut at = 0;
    loop {
        let end = data[at..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("the header ends");
        at += end + 2;
        if !matches!(data.get(at), Some(b' ' | b'\t')) {
            return data.split_at(at);
        }
    }
}

/// Checks that `relayed` is `submitted` relayed: one Received header
/// added on top by `host`, the rest byte for byte as submitted.
#[track_caller]
pub fn assert_relayed_unchanged(relayed: &ReceivedMessage, host: &str, submitted: &[u8]) {
    let (received, rest) = split_received(&relayed.data);
    let received = String::from_utf8_lossy(received);
    assert!(received.contains(host), "{received}");
    if rest != submitted {
        pretty_assertions::assert_eq!(String::from_utf8_lossy(rest), String::from_utf8_lossy(submitted));
        panic!("the relayed bytes differ from the submitted ones (not as text)");
    }
}

/// The envelope and the DSN requests every MTA passes on as submitted:
/// sender, recipients in order, `SIZE=` (the fixture announces SIZE),
/// `RET`, `ENVID`, the first recipient's `NOTIFY` and `ORCPT` and the
/// second's `NOTIFY=NEVER`, typed. (`BODY=` differs: Exim never sends it.)
#[track_caller]
pub fn assert_envelope_and_dsn(message: &ReceivedMessage) {
    use smtp_fixture::{Notify, Return};
    let envelope = &message.envelope;
    assert_eq!(envelope.mail_from, "shop@example.com");
    assert_eq!(envelope.rcpt_to, RECIPIENTS);
    let option = |name: &str| {
        envelope
            .mail_options
            .iter()
            .find(|o| o.to_ascii_uppercase().starts_with(name))
            .cloned()
    };
    let size: usize = option("SIZE=")
        .and_then(|o| o[5..].parse().ok())
        .unwrap_or_else(|| panic!("no SIZE=n on MAIL: {envelope:?}"));
    assert!(size > 0);
    assert_eq!(envelope.dsn.ret, Some(Return::Headers));
    assert_eq!(envelope.dsn.envid.as_deref(), Some("Order+42"));
    let ann = envelope.recipient_dsn("ann@example.com").expect("ann's DSN");
    assert_eq!(
        ann.notify,
        Some(Notify {
            success: true,
            failure: true,
            delay: false
        })
    );
    let orcpt = ann.orcpt.as_ref().expect("ann's ORCPT");
    assert_eq!(
        (orcpt.addr_type.as_str(), orcpt.address.as_str()),
        ("rfc822", "Ann@Example.com")
    );
    let bob = envelope.recipient_dsn("bob@example.com").expect("bob's DSN");
    assert!(bob.notify.expect("bob's NOTIFY").never(), "{bob:?}");
}

/// Whether the server's EHLO reply in `transcript` announced `keyword`.
pub fn announced(transcript: &Transcript, keyword: &str) -> bool {
    transcript.server_lines().iter().any(|line| {
        line.starts_with("250")
            && line[4..]
                .split(' ')
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
    })
}

/// The client's commands named `verb` (body lines are not commands, but
/// the test messages hold no line that starts with an SMTP verb).
pub fn commands<'t>(transcript: &'t Transcript, verb: &str) -> Vec<&'t str> {
    transcript
        .client_lines()
        .into_iter()
        .filter(|line| {
            line.get(..verb.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(verb))
                && matches!(line.as_bytes().get(verb.len()), None | Some(b' '))
        })
        .collect()
}

/// A temporary directory that a daemon running as its own user
/// (`Debian-exim`, `postfix`) can enter: under the temporary directory
/// when every directory above it lets others through, else under `/tmp`
/// (`.ci/run`'s `TMPDIR` is a private `mktemp -d`). Removed when dropped.
pub fn daemon_dir() -> tempfile::TempDir {
    let temp = std::env::temp_dir();
    let reachable = temp.ancestors().all(|dir| {
        dir.metadata()
            .is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    });
    let base = if reachable { temp } else { PathBuf::from("/tmp") };
    let dir = tempfile::Builder::new()
        .prefix("smtp-fixture-mta-")
        .tempdir_in(base)
        .expect("a temporary directory");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("open the directory to the daemon's user");
    dir
}

/// The uid and gid of a system user; `Err` if there is none.
pub fn user(name: &str) -> Result<(u32, u32), String> {
    let id = |flag: &str| -> Option<u32> {
        let output = Command::new("id").args([flag, name]).output().ok()?;
        String::from_utf8(output.stdout).ok()?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok((uid, gid)),
        _ => Err(format!("there is no user {name}")),
    }
}

/// Makes `path` a directory owned by `owner`.
pub fn owned_dir(path: &Path, (uid, gid): (u32, u32)) {
    std::fs::create_dir_all(path).expect("create the directory");
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown the directory");
}

fn current_uid() -> Option<u32> {
    let output = Command::new("id").arg("-u").output().ok()?;
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

/// Runs `command` with its output in files under `dir`, for at most
/// `timeout` (killed past it): whether it succeeded, and its output.
pub fn run(mut command: Command, dir: &Path, timeout: Duration) -> (bool, String) {
    let out = dir.join(format!("command-{}.out", next_id()));
    let file = File::create(&out).expect("an output file");
    let child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("the file twice"))
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?} starts: {e}"));
    let success = finish(child, timeout).is_some_and(|status| status.success());
    (success, std::fs::read_to_string(&out).unwrap_or_default())
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Waits for `child` for at most `timeout`; past it sends it SIGTERM
/// (a [`reaper`] then kills everything below it), waits a little more,
/// and kills it: its exit status, `None` if it had to be stopped.
pub fn finish(mut child: Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    if let Some(status) = wait_at_most(&mut child, timeout) {
        return Some(status);
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    if wait_at_most(&mut child, Duration::from_secs(10)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

fn wait_at_most(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => sleep(Duration::from_millis(20)),
            _ => return None,
        }
    }
}

/// Runs a program and every process it leaves behind under a small
/// Python reaper: it makes itself the child subreaper (`prctl`), so the
/// MTA's detached processes (Exim's background deliveries, Postfix's
/// services once the master is gone) become its children instead of
/// init's; it exits with the program's status once all of them have
/// exited, and on SIGTERM kills them all, by id. So when it is done, the
/// MTA is gone, and its directory can go too.
const REAPER: &str = r#"
import ctypes, os, signal, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.exit("reaper: prctl(PR_SET_CHILD_SUBREAPER) failed")
main = os.fork()
if main == 0:
    os.execv(sys.argv[1], sys.argv[1:])
def stop(signum, frame):
    parents = {}
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except (ValueError, OSError, IndexError):
            pass
    below, todo = [], [os.getpid()]
    while todo:
        for child in parents.get(todo.pop(), []):
            below.append(child)
            todo.append(child)
    for pid in below:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
signal.signal(signal.SIGTERM, stop)
code = 1
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    if pid == main:
        code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"#;

/// `program` to be run under the [`REAPER`] (arguments to be added).
pub fn reaper(program: &Path) -> Command {
    let mut command = Command::new("python3");
    command.args(["-c", REAPER]).arg(program);
    command
}

/// What the MTA tests need besides the MTA: root (the MTAs start as root,
/// then drop to their own users) and `python3` for the [`REAPER`].
pub fn can_run_daemons() -> Result<(), String> {
    if current_uid() != Some(0) {
        return Err("the MTA tests run as root (the MTAs start as root)".into());
    }
    let reaper = Command::new("python3")
        .args(["-c", "import ctypes, os; os.waitstatus_to_exitcode"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match reaper {
        Ok(status) if status.success() => Ok(()),
        _ => Err("python3 (3.9 or later, for the tests' process reaper) not installed".into()),
    }
}

/// Waits until the fixture holds `count` messages, calling `nudge` once
/// halfway (a queue run), for at most the fixture's wait timeout; then
/// panics with the MTA's `log` and the fixture's transcripts.
#[track_caller]
pub fn wait_for_delivery(
    server: &TestSmtpServer,
    count: usize,
    nudge: impl FnOnce(),
    log: impl Fn() -> String,
) -> Vec<ReceivedMessage> {
    let start = Instant::now();
    let mut nudge = Some(nudge);
    loop {
        let messages = server.messages();
        if messages.len() >= count {
            return messages;
        }
        let waited = start.elapsed();
        if waited >= server.wait_timeout() {
            let transcripts: Vec<String> = server.transcripts().iter().map(|t| t.to_string()).collect();
            panic!(
                "{count} message(s) expected at the fixture, {} arrived in {waited:?}.\n\
                 The MTA's log:\n{}\nThe fixture's sessions:\n{}",
                messages.len(),
                log(),
                transcripts.join("\n")
            );
        }
        if waited >= server.wait_timeout() / 4 {
            if let Some(nudge) = nudge.take() {
                nudge();
            }
        }
        sleep(Duration::from_millis(25));
    }
}

// ---------------------------------------------------------------------------
// The scenarios every MTA goes through
// ---------------------------------------------------------------------------

/// An MTA relaying everything to one fixture, as the [`Scenario`]s drive
/// it, with what differs from one MTA to the next.
pub trait Mta: Sized {
    /// Its host name: its EHLO, and the `by` of its Received header.
    const HOSTNAME: &'static str;
    /// What its Received header says from `by` on (`by postfix.test (Postfix)`).
    const RECEIVED_BY: &'static str;
    /// Lines its bounce of a recipient the fixture refused contains (its
    /// own spelling of ENVID, ORCPT and the status).
    const BOUNCE: &'static [&'static str];
    /// Lines its notice contains when the fixture has no DSN and the
    /// submission asked for NOTIFY=SUCCESS.
    const NOTICE: &'static [&'static str];

    /// The program, or why it cannot run here.
    fn find() -> Result<PathBuf, String>;
    /// An instance of its own, relaying to `server`.
    fn relaying_to(binary: PathBuf, server: &TestSmtpServer) -> Self;
    /// Hands it `submission`, which it must take.
    fn submit(&self, submission: &Submission);
    /// Waits until `server` has `count` messages from it (nudging its queue).
    fn wait_for_delivery(&self, server: &TestSmtpServer, count: usize) -> Vec<ReceivedMessage>;
    /// Its own checks of the message relayed with the DSN requests: 8-bit
    /// handling, ORCPT, DATA or BDAT.
    fn check_relayed(server: &TestSmtpServer, message: &ReceivedMessage);
    /// Its own checks of the SMTPUTF8 message.
    fn check_utf8(message: &ReceivedMessage);
}

/// What happens to a submission, for each MTA.
#[derive(Debug, Clone, Copy)]
pub enum Scenario {
    /// Relayed byte for byte with the DSN requests.
    RelaysWithDsn,
    /// A recipient the fixture refuses is bounced to the sender with the
    /// ENVID, the ORCPT and the headers only (RET=HDRS).
    BouncesARefusedRecipient,
    /// A fixture without DSN gets no DSN parameters, and the sender a
    /// notice.
    WithoutDsnAtTheFixture,
    /// SMTPUTF8 passed on to a fixture that announces it.
    PassesSmtputf8,
}

/// Runs `scenario` with the MTA `M` (skipped, saying why, without it).
pub fn scenario<M: Mta>(scenario: Scenario) {
    let binary = crate::needs_tool!(M::find());
    let server = match scenario {
        Scenario::RelaysWithDsn | Scenario::BouncesARefusedRecipient => fixture().start(),
        Scenario::WithoutDsnAtTheFixture => fixture().dsn(false).start(),
        Scenario::PassesSmtputf8 => fixture().enable_smtputf8(true).start(),
    };
    if let Scenario::BouncesARefusedRecipient = scenario {
        server.respond(
            on::rcpt_to("ann@example.com"),
            Reply::new(550, "5.1.1 No such user here"),
        );
    }
    let mta = M::relaying_to(binary, &server);
    let submission = match scenario {
        Scenario::PassesSmtputf8 => Submission::utf8(),
        _ => Submission::with_dsn(),
    };
    mta.submit(&submission);
    match scenario {
        Scenario::RelaysWithDsn => {
            let message = mta.wait_for_delivery(&server, 1).remove(0);
            assert_eq!(message.helo, M::HOSTNAME);
            assert_relayed_unchanged(&message, M::RECEIVED_BY, &submission.message);
            assert_envelope_and_dsn(&message);
            M::check_relayed(&server, &message);
            let transcript = server.transcript_of(&message).expect("its session");
            assert_eq!(commands(&transcript, "EHLO"), [format!("EHLO {}", M::HOSTNAME)]);
        }
        Scenario::BouncesARefusedRecipient => {
            let messages = mta.wait_for_delivery(&server, 2);
            let relayed = from(&messages, "shop@example.com", "the message for the others");
            assert_eq!(relayed.envelope.rcpt_to, ["bob@example.com", "carol@example.com"]);
            assert_relayed_unchanged(relayed, M::RECEIVED_BY, &submission.message);
            let bounce = from(&messages, "<>", "a bounce (MAIL FROM:<>)");
            assert_eq!(bounce.envelope.rcpt_to, ["shop@example.com"]);
            let report = assert_report(bounce, M::BOUNCE);
            assert!(
                !report.contains("last line"),
                "RET=HDRS: the body is not returned:\n{report}"
            );
        }
        Scenario::WithoutDsnAtTheFixture => {
            let messages = mta.wait_for_delivery(&server, 2);
            let relayed = from(&messages, "shop@example.com", "the message");
            assert_relayed_unchanged(relayed, M::RECEIVED_BY, &submission.message);
            assert!(relayed.envelope.dsn.ret.is_none() && relayed.envelope.dsn.envid.is_none());
            assert!(relayed.envelope.rcpt_options.is_empty(), "{:?}", relayed.envelope);
            let notice = from(&messages, "<>", "a delivery status notification (MAIL FROM:<>)");
            assert_eq!(notice.envelope.rcpt_to, ["shop@example.com"]);
            assert_report(notice, M::NOTICE);
        }
        Scenario::PassesSmtputf8 => {
            let message = mta.wait_for_delivery(&server, 1).remove(0);
            assert_eq!(message.envelope.mail_from, UTF8_SENDER);
            assert_eq!(message.envelope.rcpt_to, [UTF8_RECIPIENT]);
            assert!(message.envelope.smtputf8(), "{:?}", message.envelope);
            assert_relayed_unchanged(&message, M::RECEIVED_BY, &submission.message);
            assert_eq!(message.subject().as_deref(), Some("Grüße aus Köln"));
            M::check_utf8(&message);
        }
    }
}

/// The message of `messages` from `sender`.
#[track_caller]
fn from<'m>(messages: &'m [ReceivedMessage], sender: &str, what: &str) -> &'m ReceivedMessage {
    messages
        .iter()
        .find(|m| m.envelope.mail_from == sender)
        .unwrap_or_else(|| panic!("{what}: no message from {sender}"))
}

/// The delivery report in `message`, which must contain every line of
/// `expected`.
#[track_caller]
fn assert_report(message: &ReceivedMessage, expected: &[&str]) -> String {
    let report = String::from_utf8_lossy(&message.data).into_owned();
    for expected in expected {
        assert!(report.contains(expected), "no {expected:?} in:\n{report}");
    }
    report
}
