//! The `smtp-fixture` binary: flags, output, and stopping.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use crate::support;

use support::Client;

const BIN: &str = env!("CARGO_BIN_EXE_smtp-fixture");
/// Bounds waits that normally end at once.
const TIMEOUT: Duration = Duration::from_secs(20);

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run smtp-fixture")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------
// A running server
// ---------------------------------------------------------------------------

/// The binary, serving on a port of its choosing; killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    /// The line that says where it listens.
    listening: String,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

/// Sends each line read from `input` through a channel, until it ends.
fn lines_of(input: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(input).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Running {
    fn start(flags: &[&str]) -> Running {
        let mut child = Command::new(BIN)
            .args(flags)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start smtp-fixture");
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stderr = lines_of(child.stderr.take().expect("stderr"));
        let listening = match stdout.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(error) => {
                let _ = child.kill();
                panic!("smtp-fixture {flags:?} printed nothing: {error}");
            }
        };
        let addr = listening
            .rsplit_once("listening on ")
            .and_then(|(_, addr)| addr.trim().parse().ok())
            .unwrap_or_else(|| panic!("no address in {listening:?}"));
        Running {
            child,
            addr,
            listening,
            stdout,
            stderr,
        }
    }

    /// Sends SIGTERM and waits for the exit; returns the status and what
    /// was printed after the first line.
    fn terminate(&mut self) -> (ExitStatus, Vec<String>, Vec<String>) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success(), "kill -TERM failed");
        let status = support::eventually_within(TIMEOUT, "smtp-fixture stops on SIGTERM", || {
            self.child.try_wait().expect("wait")
        });
        (status, drain(&self.stdout), drain(&self.stderr))
    }

    /// The next line printed on stdout.
    fn next_line(&self) -> String {
        self.stdout
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|e| panic!("no further line on stdout: {e}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line until the writer is gone (the process has exited).
fn drain(lines: &Receiver<String>) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        match lines.recv_timeout(TIMEOUT) {
            Ok(line) => out.push(line),
            Err(RecvTimeoutError::Disconnected) => return out,
            Err(RecvTimeoutError::Timeout) => panic!("output did not end: {out:?}"),
        }
    }
}

/// Sends two messages with Python's smtplib: one with `BODY=8BITMIME`, one
/// without options.
fn send_with_smtplib(addr: SocketAddr) {
    let script = r#"
import smtplib, sys
message = "From: ann@example.com\r\nTo: bob@example.com\r\nSubject: parity\r\n\r\nHello Bob\r\n.dot line\r\n"
with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20) as client:
    client.sendmail("ann@example.com", ["bob@example.com"], message, mail_options=["BODY=8BITMIME"])
    client.sendmail("ann@example.com", ["bob@example.com", "cy@example.com"], "Subject: two\r\n\r\nSecond\r\n")
"#;
    support::python_ok(script, &[addr.ip().to_string(), addr.port().to_string()]);
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn help_prints_the_usage_and_exits_0() {
    for flag in ["-h", "--help"] {
        let output = run(&[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        let stdout = text(&output.stdout);
        assert!(stdout.contains("Usage: smtp-fixture"), "{flag}: {stdout}");
        for option in [
            "--class",
            "--size",
            "--smtputf8",
            "--debug",
            "--version",
            "LOCALHOST:PORT",
        ] {
            assert!(stdout.contains(option), "{flag}: no {option} in {stdout}");
        }
    }
}

#[test]
fn version_prints_the_version() {
    for flag in ["-V", "--version"] {
        let output = run(&[flag]);
        assert_eq!(output.status.code(), Some(0), "{flag}");
        assert_eq!(
            text(&output.stdout),
            format!("smtp-fixture {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn a_bad_flag_or_address_prints_the_usage_and_exits_2() {
    let cases: &[&[&str]] = &[
        &["--bogus"],
        &["-x"],
        &["-s"],
        &["-s", "abc"],
        &["-s", "-1"],
        &["-c", "NoSuchClass"],
        &["nonsense"],
        &["127.0.0.1:notaport"],
        &["127.0.0.1:70000"],
        &["127.0.0.1:8025", "remote-without-port"],
        &["127.0.0.1:8025", "127.0.0.1:25", "127.0.0.1:26"],
    ];
    for args in cases {
        let output = run(args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage: smtp-fixture"), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}: {}", text(&output.stdout));
    }
}

#[test]
fn it_prints_one_listening_line_and_nothing_per_message_as_smtp_server() {
    let mut server = Running::start(&["-c", "SmtpServer"]);
    assert!(
        server.listening.contains("listening on 127.0.0.1:"),
        "{}",
        server.listening
    );
    assert_ne!(server.addr.port(), 0);
    let mut client = Client::greeted(server.addr);
    for line in ["EHLO me", "MAIL FROM:<a@b>", "RCPT TO:<c@d>", "DATA"] {
        client.code_and_lines(line);
    }
    assert_eq!(client.code_and_lines("Subject: x\r\n\r\nbody\r\n.").0, 250);
    assert_eq!(client.code_and_lines("QUIT").0, 221);
    let (status, stdout, _) = server.terminate();
    assert!(status.success(), "{status}");
    assert_eq!(stdout, Vec::<String>::new(), "SmtpServer printed something");
}

#[test]
fn debugging_server_prints_messages_from_smtplib() {
    needs_python!("smtplib");
    let mut server = Running::start(&[]);
    send_with_smtplib(server.addr);
    let expected_first = [
        "---------- MESSAGE FOLLOWS ----------",
        "mail options: ['BODY=8BITMIME']",
        "From: ann@example.com",
        "To: bob@example.com",
        "Subject: parity",
        "X-Peer: 127.0.0.1",
        "",
        "Hello Bob",
        ".dot line",
        "------------ END MESSAGE ------------",
    ];
    let expected_second = [
        "---------- MESSAGE FOLLOWS ----------",
        "Subject: two",
        "X-Peer: 127.0.0.1",
        "",
        "Second",
        "------------ END MESSAGE ------------",
    ];
    let first: Vec<String> = (0..expected_first.len()).map(|_| server.next_line()).collect();
    assert_eq!(first, expected_first);
    let second: Vec<String> = (0..expected_second.len()).map(|_| server.next_line()).collect();
    assert_eq!(second, expected_second);
    let (status, rest, _) = server.terminate();
    assert!(status.success(), "{status}");
    assert_eq!(rest, Vec::<String>::new());
    assert!(!server.listening.is_empty() && rest.iter().all(|l| !l.contains("listening on")));
}

#[test]
fn a_size_limit_refuses_bigger_messages_with_552() {
    let server = Running::start(&["-s", "100", "-c", "SmtpServer"]);
    let mut client = Client::greeted(server.addr);
    let (code, ehlo) = client.code_and_lines("EHLO me");
    assert_eq!(code, 250);
    assert!(ehlo.contains(&"250-SIZE 100".to_string()), "{ehlo:?}");
    assert_eq!(client.code_and_lines("MAIL FROM:<a@b> SIZE=101").0, 552);
    assert_eq!(client.code_and_lines("MAIL FROM:<a@b> SIZE=100").0, 250);
    assert_eq!(client.code_and_lines("RCPT TO:<c@d>").0, 250);
    assert_eq!(client.code_and_lines("DATA").0, 354);
    let (code, reply) = client.code_and_lines(&format!("{}\r\n.", "x".repeat(150)));
    assert_eq!((code, reply[0].as_str()), (552, "552 Error: Too much mail data"));
    // The session goes on (the reference stays in DATA here).
    assert_eq!(client.code_and_lines("MAIL FROM:<a@b>").0, 250);
    assert_eq!(client.code_and_lines("RCPT TO:<c@d>").0, 250);
    assert_eq!(client.code_and_lines("DATA").0, 354);
    assert_eq!(client.code_and_lines(&format!("{}\r\n.", "x".repeat(100))).0, 250);
}

#[test]
fn without_a_size_flag_there_is_no_limit_and_no_size_keyword() {
    let server = Running::start(&["-c", "SmtpServer"]);
    let mut client = Client::greeted(server.addr);
    let (_, ehlo) = client.code_and_lines("EHLO me");
    assert!(ehlo.iter().all(|l| !l.contains("SIZE")), "{ehlo:?}");
    assert_eq!(client.code_and_lines("MAIL FROM:<a@b> SIZE=999999999999").0, 250);
    assert_eq!(client.code_and_lines("RCPT TO:<c@d>").0, 250);
    assert_eq!(client.code_and_lines("DATA").0, 354);
    let line = "y".repeat(998);
    let body: Vec<&str> = std::iter::repeat_n(line.as_str(), 34 * 1024 * 1024 / 1000).collect();
    assert_eq!(
        client.code_and_lines(&format!("{}\r\n.", body.join("\r\n"))).0,
        250
    );
}

#[test]
fn smtputf8_flag_announces_smtputf8() {
    for (flags, announced) in [(&["-u"][..], true), (&[][..], false)] {
        let mut all = flags.to_vec();
        all.extend(["-c", "SmtpServer"]);
        let server = Running::start(&all);
        let mut client = Client::greeted(server.addr);
        let (_, ehlo) = client.code_and_lines("EHLO me");
        assert_eq!(
            ehlo.contains(&"250-SMTPUTF8".to_string()),
            announced,
            "{flags:?}: {ehlo:?}"
        );
        let expected = if announced { 250 } else { 555 };
        assert_eq!(
            client
                .code_and_lines("MAIL FROM:<na\u{ef}ve@example.com> SMTPUTF8")
                .0,
            expected,
            "{flags:?}"
        );
    }
}

#[test]
fn debug_flag_logs_every_line_to_stderr() {
    for (flags, logged) in [
        (&["-d", "-c", "SmtpServer"][..], true),
        (&["-c", "SmtpServer"][..], false),
    ] {
        let mut server = Running::start(flags);
        let mut client = Client::greeted(server.addr);
        client.code_and_lines("NOOP");
        client.code_and_lines("QUIT");
        let (status, _, stderr) = server.terminate();
        assert!(status.success(), "{status}");
        for line in ["C: NOOP", "S: 250 OK", "C: QUIT", "S: 221 Bye"] {
            assert_eq!(
                stderr.iter().any(|l| l.ends_with(line)),
                logged,
                "{flags:?}: {line:?} in {stderr:#?}"
            );
        }
    }
}

#[test]
fn the_debug_log_has_one_entry_per_line_and_each_line_once() {
    let mut server = Running::start(&["-d", "-c", "SmtpServer"]);
    let mut client = Client::greeted(server.addr);
    let transaction = |client: &mut Client| {
        assert_eq!(client.code_and_lines("EHLO me").0, 250);
        assert_eq!(client.code_and_lines("MAIL FROM:<a@example.com>").0, 250);
        assert_eq!(client.code_and_lines("RCPT TO:<b@example.com>").0, 250);
        assert_eq!(client.code_and_lines("DATA").0, 354);
    };
    // A body line that arrives in two reads.
    transaction(&mut client);
    client.send_apart(b"AAAA");
    client.writer.write_all(b"BBBB\r\n.\r\n").expect("send");
    assert!(client.reply_lines()[0].starts_with("250"));
    assert_eq!(client.code_and_lines("RSET").0, 250);
    // A 3 MB body with the terminator and QUIT in the same write.
    let mut client = Client::greeted(server.addr);
    transaction(&mut client);
    let body_line = "y".repeat(998);
    let mut burst = format!("{body_line}\r\n").repeat(3_000).into_bytes();
    burst.extend_from_slice(b".\r\nQUIT\r\n");
    client.writer.write_all(&burst).expect("send");
    assert!(client.reply_lines()[0].starts_with("250"));
    assert!(client.reply_lines()[0].starts_with("221"));
    // The server closes the connection once the session has ended (and
    // logged its last line).
    assert_eq!(client.rest(), "", "the session ended");

    let (_, _, stderr) = server.terminate();
    let entries = |text: &str| stderr.iter().filter(|l| l.ends_with(text)).count();
    assert_eq!(entries("C: AAAABBBB"), 1, "the split line, whole");
    assert_eq!(entries("C: AAAA") + entries("C: BBBB"), 0);
    assert_eq!(entries(&format!("C: {body_line}")), 3_000, "no body line cut");
    assert_eq!(entries("C: QUIT"), 1, "QUIT once");
    let at = |text: &str| stderr.iter().rposition(|l| l.ends_with(text)).expect(text);
    assert!(at("C: .") < at("S: 250 OK") && at("S: 250 OK") < at("C: QUIT"));
    assert!(!stderr.iter().any(|l| l.ends_with("] C: ")), "no empty entries");
}

#[test]
fn sigterm_stops_it_with_status_0() {
    let mut server = Running::start(&[]);
    let mut idle = Client::greeted(server.addr);
    assert_eq!(idle.code_and_lines("HELO me").0, 250);
    let (status, _, _) = server.terminate();
    assert_eq!(status.code(), Some(0), "{status}");
    // The idle session was told before the end.
    let reply = idle.reply();
    assert!(reply.starts_with("421 "), "{reply:?}");
    assert!(idle.closed(), "the connection is closed after the 421");
}
