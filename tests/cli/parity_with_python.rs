//! Parity with the reference, Python 3.11's `smtpd`, over real sockets.
//!
//! Each test starts both servers with the same flags, the reference as
//! `python3 -W ignore -m smtpd -n -c DebuggingServer [flags] 127.0.0.1:PORT`
//! and ours as the `smtp-fixture` binary, plays the same raw command lines to
//! each, and compares the reply codes line by line (and the EHLO keywords).
//! A mismatch prints both transcripts.
//!
//! Inputs where the reference crashes, hangs, or where we deviate on purpose
//! are not in the parity table; they are in `DEVIATIONS`, which asserts our
//! documented reply and what the reference does instead.
//!
//! These tests need `python3` with the `smtpd` module (Python 3.11; it was
//! removed in 3.12). Without it each test says `SKIPPED: <why>` on
//! standard error and returns; `.ci/run` sets `SMTP_FIXTURE_REQUIRE_PYTHON=1`,
//! which makes them fail instead, so CI never skips them.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::support;

use support::{expand, Client, Got};

/// How long a reply may take before we call it missing. Generous: replies
/// normally come at once; this only bounds a broken run.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait to conclude that the reference says nothing (it is
/// stuck reading data); only used where silence is the expected outcome.
const SILENCE: Duration = Duration::from_millis(1500);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------

/// A server process; killed (and reaped) when dropped.
struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Python's smtpd DebuggingServer with `flags` and waits until it
/// answers.
fn reference(flags: &[&str]) -> Server {
    let port = support::free_port();
    let child = Command::new("python3")
        .args(["-W", "ignore", "-m", "smtpd", "-n", "-c", "DebuggingServer"])
        .args(flags)
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 -m smtpd");
    let mut server = Server {
        name: "reference",
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    let what = format!("python3 -m smtpd {flags:?} listens on {}", server.addr);
    support::eventually_within(STARTUP_TIMEOUT, &what, || {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("python3 -m smtpd {flags:?} exited at start: {status}");
        }
        let stream = TcpStream::connect_timeout(&server.addr, Duration::from_millis(250)).ok()?;
        // Read the greeting, so the server is serving, not just bound.
        let mut client = Client::from_stream(stream);
        support::holds(matches!(client.read_reply(REPLY_TIMEOUT), Got::Reply(_)))
    });
    server
}

/// Starts our binary with `flags` on a port of its choosing; its stdout is
/// drained in the background.
fn ours(flags: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
        .args(flags)
        .arg("127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start smtp-fixture");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut server = Server {
        name: "ours",
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let (first_line, lines) = mpsc::channel();
    thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = first_line.send(lines.next());
        // Keep reading so that printed messages never block the server.
        for _ in lines {}
    });
    let line = match lines.recv_timeout(STARTUP_TIMEOUT) {
        Ok(Some(Ok(line))) => line,
        other => panic!("smtp-fixture {flags:?} printed no first line: {other:?}"),
    };
    let addr = line
        .rsplit_once("listening on ")
        .and_then(|(_, addr)| addr.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    server.addr = addr;
    server
}

/// Both servers, started with the same flags.
/// The reference and ours, both with `flags`; ours announcing exactly the
/// reference's extensions (`--compat`).
fn both(flags: &[&str]) -> (Server, Server) {
    let compat: Vec<&str> = flags.iter().copied().chain(["--compat"]).collect();
    (reference(flags), ours(&compat))
}

// ---------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------

/// One session as the client saw it: the greeting, then each line sent and
/// what came back.
#[derive(Debug)]
struct Transcript {
    greeting: Got,
    exchanges: Vec<(Vec<u8>, Got)>,
}

/// Plays `lines` in lock step: after each command line, read its reply;
/// after a 354, send data lines without waiting until the line `.`.
fn converse(addr: SocketAddr, lines: &[Vec<u8>], last_timeout: Duration) -> Transcript {
    let mut client = Client::connect(addr);
    let greeting = client.read_reply(REPLY_TIMEOUT);
    let mut exchanges = Vec::new();
    let mut in_data = false;
    for (index, line) in lines.iter().enumerate() {
        let timeout = if index + 1 == lines.len() {
            last_timeout
        } else {
            REPLY_TIMEOUT
        };
        if !client.try_send(&[line.as_slice(), b"\r\n"].concat()) {
            exchanges.push((line.clone(), Got::Closed));
            break;
        }
        if in_data && line != b"." {
            exchanges.push((line.clone(), Got::Nothing));
            continue;
        }
        let got = client.read_reply(timeout);
        in_data = !in_data && got.code() == Some(354);
        let closed = got == Got::Closed;
        exchanges.push((line.clone(), got));
        if closed {
            break;
        }
    }
    Transcript { greeting, exchanges }
}

/// Sends all `lines` at once, then reads the replies, each labelled with
/// the line it answers (data lines after a 354 get none).
fn converse_pipelined(addr: SocketAddr, lines: &[Vec<u8>]) -> Transcript {
    let mut client = Client::connect(addr);
    let greeting = client.read_reply(REPLY_TIMEOUT);
    let burst: Vec<u8> = lines
        .iter()
        .flat_map(|l| [l.as_slice(), b"\r\n"].concat())
        .collect();
    assert!(client.try_send(&burst), "send the burst");
    let mut exchanges = Vec::new();
    let mut in_data = false;
    for line in lines {
        if in_data && line != b"." {
            exchanges.push((line.clone(), Got::Nothing));
            continue;
        }
        let got = client.read_reply(REPLY_TIMEOUT);
        in_data = !in_data && got.code() == Some(354);
        let end = matches!(got, Got::Closed | Got::Silent);
        exchanges.push((line.clone(), got));
        if end {
            break;
        }
    }
    Transcript { greeting, exchanges }
}

/// What is compared: the code of every reply line, and for EHLO the
/// keywords after the first line.
fn summary(sent: &[u8], got: &Got) -> String {
    match got {
        Got::Nothing => String::new(),
        Got::Closed => "closed".into(),
        Got::Silent => "no reply".into(),
        Got::Reply(lines) => {
            let is_ehlo = sent.len() >= 4 && sent[..4].eq_ignore_ascii_case(b"EHLO");
            // Deviation: we announce PIPELINING, the reference does not (see
            // `pipelining_is_announced`).
            let lines: Vec<&String> = lines
                .iter()
                .filter(|l| !is_ehlo || l.get(4..) != Some("PIPELINING"))
                .collect();
            let codes: Vec<&str> = lines.iter().map(|l| l.get(..3).unwrap_or(l)).collect();
            let mut summary = codes.join(" ");
            if is_ehlo && lines.len() > 1 {
                let keywords: Vec<&str> = lines[1..].iter().map(|l| l.get(4..).unwrap_or("")).collect();
                summary.push_str(&format!(" {keywords:?}"));
            }
            summary
        }
    }
}

fn summaries(transcript: &Transcript) -> Vec<String> {
    let mut out = vec![summary(b"", &transcript.greeting)];
    out.extend(transcript.exchanges.iter().map(|(sent, got)| summary(sent, got)));
    out
}

fn show_line(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    if text.chars().count() > 70 {
        let head: String = text.chars().take(60).collect();
        format!("{head:?}... ({} bytes)", line.len())
    } else {
        format!("{text:?}")
    }
}

fn show(transcript: &Transcript) -> String {
    let mut out = format!("    S: {:?}\n", transcript.greeting);
    for (sent, got) in &transcript.exchanges {
        out.push_str(&format!("    C: {}\n", show_line(sent)));
        match got {
            Got::Nothing => {}
            Got::Reply(lines) => {
                for line in lines {
                    out.push_str(&format!("    S: {line}\n"));
                }
            }
            other => out.push_str(&format!("    S: <{other:?}>\n")),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The parity table
// ---------------------------------------------------------------------------

struct Seq {
    name: &'static str,
    /// Command lines and data lines; see [`expand`] for `{a*492}`.
    lines: &'static [&'static [u8]],
    /// Send everything at once, then read the replies.
    pipelined: bool,
}

const SEQ: Seq = Seq {
    name: "",
    lines: &[],
    pipelined: false,
};

/// Every sequence runs against every configuration below; only codes are
/// compared, so the table holds no expectations of its own.
#[rustfmt::skip]
const PARITY: &[Seq] = &[
    Seq { name: "QUIT at once", lines: &[b"QUIT"], ..SEQ },
    Seq { name: "QUIT with arguments", lines: &[b"QUIT bye bye"], ..SEQ },
    Seq { name: "NOOP before HELO, with an argument, in lower case", lines: &[b"NOOP", b"NOOP hi", b"noop", b"QUIT"], ..SEQ },
    Seq { name: "empty and blank lines", lines: &[b"", b" ", b"  ", b"NOOP", b"QUIT"], ..SEQ },
    Seq {
        name: "unknown verbs",
        lines: &[
            b"FOO", b"STARTTLS", b"AUTH PLAIN dGVzdA==", b"BDAT 10 LAST", b"ETRN example", b"TURN",
            b"SEND FROM:<a@b>", b"NOOP\t", b"NO\x00OP", b"X", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "HELP before EHLO",
        lines: &[b"HELP", b"HELP MAIL", b"HELP rcpt", b"HELP DATA", b"HELP SPAM", b"HELP EXPN", b"HELP HELP", b"HELP mail extra", b"QUIT"],
        ..SEQ
    },
    Seq { name: "HELP after EHLO", lines: &[b"EHLO client.example", b"HELP MAIL", b"HELP RCPT", b"HELP VRFY", b"HELP", b"QUIT"], ..SEQ },
    Seq { name: "HELP after HELO", lines: &[b"HELO client.example", b"HELP MAIL", b"HELP RCPT", b"QUIT"], ..SEQ },
    Seq {
        name: "VRFY and EXPN",
        lines: &[b"VRFY", b"VRFY eggs", b"VRFY eggs@example", b"VRFY <eggs@example>", b"VRFY <>", b"VRFY Fred Blogs", b"EXPN", b"EXPN staff", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "commands before HELO",
        lines: &[b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"MAIL", b"DATA x", b"RSET", b"RSET x", b"QUIT"],
        ..SEQ
    },
    Seq { name: "HELO rules", lines: &[b"HELO", b"EHLO", b"HELO client", b"HELO client", b"EHLO client", b"RSET", b"QUIT"], ..SEQ },
    Seq { name: "EHLO rules", lines: &[b"EHLO client", b"EHLO client", b"HELO client", b"EHLO", b"QUIT"], ..SEQ },
    Seq { name: "unusual HELO names", lines: &[b"EHLO [IPv6:::1]", b"NOOP", b"QUIT"], ..SEQ },
    Seq { name: "HELO with extra spaces", lines: &[b"HELO   client   ", b"QUIT"], ..SEQ },
    Seq {
        name: "a transaction after HELO",
        lines: &[b"HELO client", b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.com>", b"DATA", b"Subject: hi", b"", b"body", b".", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "several recipients after EHLO",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.com>", b"RCPT TO:<c@example.com>",
            b"RCPT TO:<b@example.com>", b"DATA", b"x", b".", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "two transactions in one session",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"one", b".",
            b"MAIL FROM:<e@f>", b"RCPT TO:<g@h>", b"DATA", b"two", b".", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "RSET in the middle of a transaction",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"RSET", b"RCPT TO:<c@d>", b"DATA",
            b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"x", b".", b"QUIT",
        ],
        ..SEQ
    },
    Seq { name: "RSET keeps the greeting", lines: &[b"EHLO client", b"RSET", b"MAIL FROM:<a@b>", b"RSET", b"RSET", b"RCPT TO:<c@d>", b"QUIT"], ..SEQ },
    Seq {
        name: "DATA needs MAIL and RCPT",
        lines: &[b"EHLO client", b"DATA", b"MAIL FROM:<a@b>", b"DATA", b"RCPT TO:<c@d>", b"DATA x", b"DATA", b"x", b".", b"DATA", b"RCPT TO:<c@d>", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "MAIL syntax after HELO",
        lines: &[
            b"HELO client", b"MAIL", b"MAIL FROM", b"MAIL FROM:", b"MAIL from eggs@example", b"MAIL TO:<a@b>",
            b"MAIL FROM :<a@b>", b"MAIL FROM:<a@b> SIZE=10", b"MAIL FROM:<a@b> BODY=8BITMIME", b"MAIL FROM: <a@b>", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "MAIL syntax after EHLO",
        lines: &[
            b"EHLO client", b"MAIL", b"MAIL FROM", b"MAIL FROM:", b"MAIL from eggs@example", b"MAIL TO:<a@b>",
            b"MAIL FROM:\t<a@b>", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "paths both accept",
        lines: &[
            b"EHLO client", b"MAIL FROM:<>", b"RSET", b"MAIL FROM:eggs@example", b"RSET", b"MAIL FROM:<postmaster>", b"RSET",
            b"MAIL FROM:<\"Fred Blogs\"@example.com> SIZE=100", b"RSET", b"MAIL FROM:\"Fred Blogs\"@example.com", b"RSET",
            b"MAIL FROM:<@relay.example:a@b>", b"RSET", b"MAIL FROM:<@r1.example,@r2.example:a@b>", b"RSET",
            b"MAIL FROM:<a@[127.0.0.1]>", b"RSET", b"MAIL FROM:<a@b>SIZE=10", b"RSET", b"mail from:   <a@b>  ", b"RSET",
            b"MAIL FROM:<a..b@c>", b"RSET", b"MAIL FROM:<a.@b>", b"RSET", b"MAIL FROM:<\"a@b\"@c>", b"RSET",
            b"MAIL FROM:<a+tag@b.example>", b"RSET", b"MAIL FROM:<A@B.EXAMPLE>", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "paths both refuse",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b> <c@d>", b"MAIL FROM:a@b,c@d", b"MAIL FROM:<a@b c>", b"MAIL FROM:a:b@c",
            b"MAIL FROM:<a@b>,<c@d>", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "nested MAIL, also with bad parameters",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"MAIL FROM:<c@d>", b"MAIL FROM:<c@d> SIZE=abc", b"MAIL FROM:<c@d> FOO=bar",
            b"MAIL FROM:<c@d> BODY=bad", b"MAIL FROM:<c@d> X=", b"MAIL FROM:", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "MAIL parameters",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b> BODY=8BITMIME", b"RSET", b"MAIL FROM:<a@b> body=7bit", b"RSET",
            b"MAIL FROM:<a@b> BODY=BINARYMIME", b"MAIL FROM:<a@b> BODY", b"MAIL FROM:<a@b> SIZE=abc", b"MAIL FROM:<a@b> SIZE=",
            b"MAIL FROM:<a@b> SIZE=-1", b"MAIL FROM:<a@b> FOO", b"MAIL FROM:<a@b> FOO=bar", b"MAIL FROM:<a@b> =x",
            b"MAIL FROM:<a@b> AUTH=<>", b"MAIL FROM:<a@b> SIZE=10 SIZE=abc", b"MAIL FROM:<a@b> SMTPUTF8=x BODY=bad",
            b"MAIL FROM:<a@b> SIZE=abc BODY=bad", b"MAIL FROM:<a@b> FOO=bar BODY=bad", b"MAIL FROM:<a@b> BODY=bad BODY=7BIT", b"RSET",
            b"MAIL FROM:<a@b> SIZE=abc SIZE=10", b"RSET", b"MAIL FROM:<a@b> SMTPUTF8", b"RSET", b"MAIL FROM:<a@b> SMTPUTF8=yes",
            b"MAIL FROM:<a@b> smtputf8 body=8bitmime size=10", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "declared SIZE against the limit",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b> SIZE=999", b"RSET", b"MAIL FROM:<a@b> SIZE=1000", b"RSET", b"MAIL FROM:<a@b> SIZE=1001",
            b"MAIL FROM:<a@b> SIZE=99999999999999999999", b"MAIL FROM:<a@b> SIZE=0", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "RCPT syntax and parameters after EHLO",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT", b"RCPT TO", b"RCPT TO:", b"RCPT to eggs@example", b"RCPT FROM:<a@b>",
            b"RCPT TO:<b@c> FOO=bar", b"RCPT TO:<b@c> SIZE=10", b"RCPT TO:<b@c> SIZE=abc", b"RCPT TO:<b@c> SIZE",
            b"RCPT TO:<b@c> X=", b"RCPT TO:<b@c> NOTIFY=NEVER", b"RCPT TO:b@c", b"RCPT to: <b@c>", b"rcpt to:<b@c>",
            b"RCPT TO:<postmaster>", b"QUIT",
        ],
        ..SEQ
    },
    Seq { name: "RCPT parameters after HELO", lines: &[b"HELO client", b"MAIL FROM:<a@b>", b"RCPT TO:<b@c> FOO=bar", b"RCPT TO:<b@c>", b"QUIT"], ..SEQ },
    Seq {
        name: "RCPT before MAIL and after a refused MAIL",
        lines: &[b"EHLO client", b"RCPT TO:<a@b>", b"MAIL FROM:<a@b> FOO=bar", b"RCPT TO:<a@b>", b"MAIL FROM:<a@b>", b"RCPT TO:<a@b>", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "line length before EHLO: 512 bytes",
        lines: &[b"NOOP {x*507}", b"NOOP {x*508}", b"VRFY {a*507}", b"VRFY {a*508}", b"HELO {a*508}", b"HELO {a*507}", b"QUIT"],
        ..SEQ
    },
    Seq {
        // "MAIL FROM:<" + N + "@example>" is N + 20 bytes: 512/513, 522/523
        // (SMTPUTF8), 538/539 (SIZE), 548/549 (both).
        name: "MAIL line length after EHLO",
        lines: &[
            b"EHLO client",
            b"MAIL FROM:<{a*529}@example>", b"RSET", b"MAIL FROM:<{a*528}@example>", b"RSET",
            b"MAIL FROM:<{a*519}@example>", b"RSET", b"MAIL FROM:<{a*518}@example>", b"RSET",
            b"MAIL FROM:<{a*503}@example>", b"RSET", b"MAIL FROM:<{a*502}@example>", b"RSET",
            b"MAIL FROM:<{a*493}@example>", b"RSET", b"MAIL FROM:<{a*492}@example>", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "MAIL line length after HELO",
        lines: &[b"HELO client", b"MAIL FROM:<{a*493}@example>", b"MAIL FROM:<{a*492}@example>", b"QUIT"],
        ..SEQ
    },
    Seq {
        // "RCPT TO:<" + N + "@example>" is N + 18 bytes.
        name: "other lines keep 512 after EHLO",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<{a*495}@example>", b"RCPT TO:<{a*494}@example>",
            b"NOOP {x*507}", b"NOOP {x*508}", b"QUIT",
        ],
        ..SEQ
    },
    Seq { name: "a very long line", lines: &[b"NOOP {x*5000}", b"NOOP", b"HELO {h*3000}", b"QUIT"], ..SEQ },
    Seq {
        name: "DATA with dot-stuffing",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"..", b"...", b"..x", b"x.", b" .", b"", b".", b"NOOP", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "DATA with a long line and bare LFs",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"a\n.\nb", b"c\r.\rd", b"{x*900}", b".", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "DATA content that looks like commands",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"QUIT", b"RSET", b"MAIL FROM:<x@y>", b".", b"QUIT"],
        ..SEQ
    },
    Seq {
        // 1000 bytes are accepted under -s 1000, 1001 are not; the second
        // message ends the sequence (after 552 the reference stays in DATA).
        name: "message size at the limit, then over it",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{y*1000}", b".",
            b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{y*1001}", b".",
        ],
        ..SEQ
    },
    Seq {
        name: "line endings count towards the size",
        lines: &[
            b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{a*499}", b"{b*499}", b".",
            b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{a*499}", b"{b*500}", b".",
        ],
        ..SEQ
    },
    Seq {
        name: "stuffed dots count towards the size",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"..{a*998}", b"."],
        ..SEQ
    },
    Seq {
        name: "a declared SIZE does not excuse more data",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b> SIZE=500", b"RCPT TO:<c@d>", b"DATA", b"{z*1200}", b"."],
        ..SEQ
    },
    Seq {
        name: "a large message",
        lines: &[b"HELO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{m*20000}", b"{n*20000}", b"."],
        ..SEQ
    },
    Seq {
        name: "an SMTPUTF8 transaction",
        lines: &[
            b"EHLO client", b"MAIL FROM:<na\xc3\xafve@ex\xc3\xa4mple.com> SMTPUTF8 BODY=8BITMIME", b"RCPT TO:<sp\xc3\xa4m@ex\xc3\xa4mple.com>",
            b"DATA", b"hello", b".", b"QUIT",
        ],
        ..SEQ
    },
    Seq {
        name: "SMTPUTF8 parameter variants",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b> SMTPUTF8=x", b"MAIL FROM:<a@b> smtputf8", b"RSET", b"MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "a pipelined session",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"RCPT TO:<e@f>", b"DATA", b"line", b"..dot", b".", b"NOOP", b"QUIT"],
        pipelined: true,
    },
    Seq {
        name: "pipelined errors",
        lines: &[b"HELO client", b"RCPT TO:<a@b>", b"MAIL FROM:<a@b>", b"MAIL FROM:<a@b>", b"DATA", b"RSET", b"FOO", b"QUIT"],
        pipelined: true,
    },
    Seq {
        name: "verbs in any case",
        lines: &[b"ehlo client", b"Mail From:<a@b>", b"rCpT tO:<c@d>", b"dAtA", b"x", b".", b"quit"],
        ..SEQ
    },
    Seq {
        name: "VRFY and EXPN inside a transaction",
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"VRFY a@b", b"EXPN x", b"HELP", b"NOOP", b"RCPT TO:<c@d>", b"DATA", b"x", b".", b"QUIT"],
        ..SEQ
    },
    Seq {
        name: "a bounce: the null reverse path",
        lines: &[b"EHLO client", b"MAIL FROM:<>", b"RCPT TO:<postmaster@example.com>", b"DATA", b"x", b".", b"QUIT"],
        ..SEQ
    },
    Seq { name: "commands after QUIT", lines: &[b"QUIT", b"NOOP"], ..SEQ },
];

/// Plays every sequence to both servers; panics with both transcripts of
/// every sequence whose codes differ.
fn check_parity(flags: &[&str]) {
    let (python, rust) = both(flags);
    let mut failures = Vec::new();
    for seq in PARITY {
        let lines: Vec<Vec<u8>> = seq.lines.iter().map(|l| expand(l)).collect();
        let play = |server: &Server| {
            if seq.pipelined {
                converse_pipelined(server.addr, &lines)
            } else {
                converse(server.addr, &lines, REPLY_TIMEOUT)
            }
        };
        let (theirs, mine) = (play(&python), play(&rust));
        let (a, b) = (summaries(&theirs), summaries(&mine));
        if a != b {
            let step = a
                .iter()
                .zip(&b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            failures.push(format!(
                "{} (first difference at step {step}: {:?} vs {:?})\n  {}:\n{}  {}:\n{}",
                seq.name,
                a.get(step),
                b.get(step),
                python.name,
                show(&theirs),
                rust.name,
                show(&mine)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "flags {flags:?}: {} of {} sequences differ from the reference:\n\n{}",
        failures.len(),
        PARITY.len(),
        failures.join("\n")
    );
}

#[test]
fn parity_without_options() {
    needs_python!("smtpd, smtplib");
    check_parity(&[]);
}

#[test]
fn parity_with_a_size_limit() {
    needs_python!("smtpd, smtplib");
    check_parity(&["-s", "1000"]);
}

#[test]
fn parity_with_smtputf8() {
    needs_python!("smtpd, smtplib");
    check_parity(&["-u"]);
}

#[test]
fn parity_with_a_size_limit_and_smtputf8() {
    needs_python!("smtpd, smtplib");
    check_parity(&["-s", "1000", "-u"]);
}

// ---------------------------------------------------------------------------
// Where we deviate on purpose
// ---------------------------------------------------------------------------

/// What the reference does with the last line of a deviation.
#[derive(Debug, Clone, Copy)]
enum Ref {
    /// Replies with this code.
    Code(u16),
    /// Drops the connection (an exception in the reference).
    Drops,
    /// Says nothing: it is still reading message data.
    Silent,
}

struct Deviation {
    name: &'static str,
    flags: &'static [&'static str],
    lines: &'static [&'static [u8]],
    /// Our reply to the last line, lines joined with `\n`.
    ours: &'static str,
    reference: Ref,
}

const MAIL_SYNTAX: &str = "501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]";

#[rustfmt::skip]
const DEVIATIONS: &[Deviation] = &[
    Deviation {
        name: "an empty message: '.' right after 354 ends it (RFC 5321, 4.1.1.4)",
        flags: &[],
        lines: &[b"HELO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"."],
        ours: "250 OK",
        reference: Ref::Silent,
    },
    Deviation {
        name: "after 552 the session takes commands again",
        flags: &["-s", "100"],
        lines: &[b"HELO client", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d>", b"DATA", b"{x*200}", b".", b"NOOP"],
        ours: "250 OK",
        reference: Ref::Silent,
    },
    Deviation {
        name: "a command line that is not UTF-8 gets 500",
        flags: &[],
        lines: &[b"\xff\xfe"],
        ours: "500 Error: command line is not valid UTF-8",
        reference: Ref::Drops,
    },
    Deviation {
        name: "a NUL byte in an address gets 500",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a\x00b@c>"],
        ours: "500 Error: command line contains a NUL byte",
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a non-ASCII unknown verb gets 500",
        flags: &[],
        lines: &[b"\xc3\x84"],
        ours: "500 Error: command \"\u{c4}\" not recognized",
        reference: Ref::Drops,
    },
    Deviation {
        name: "RCPT TO:<> is refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<>", b"RCPT TO:<>"],
        ours: "501 Syntax: RCPT TO: <address> [SP <mail-parameters>]",
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a non-ASCII address needs the SMTPUTF8 parameter (SMTPUTF8 off)",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<na\xc3\xafve@example.com>"],
        ours: "553 Error: non-ASCII address requires SMTPUTF8",
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a non-ASCII address needs the SMTPUTF8 parameter (SMTPUTF8 on)",
        flags: &["-u"],
        lines: &[b"EHLO client", b"MAIL FROM:<a@b>", b"RCPT TO:<sp\xc3\xa4m@example.com>"],
        ours: "553 Error: non-ASCII address requires SMTPUTF8",
        reference: Ref::Code(250),
    },
    Deviation {
        name: "ESMTP keywords may contain '-'",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a@b> X-FOO=bar"],
        ours: "555 MAIL FROM parameters not recognized or not implemented",
        reference: Ref::Code(501),
    },
    Deviation {
        name: "a space in a local part is not rewritten to a quoted string",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a b@c>"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "an unclosed '<' is refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a@b"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a path without a domain after '@' is refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:a@"],
        ours: MAIL_SYNTAX,
        reference: Ref::Drops,
    },
    Deviation {
        name: "comments are refused, not dropped",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a(comment)@b>"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "SIZE without a value is a syntax error",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a@b> SIZE"],
        ours: MAIL_SYNTAX,
        reference: Ref::Drops,
    },
    Deviation {
        name: "'.' is no local part",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<.>"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "an empty address literal is refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:<a@[]>"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "spaces inside the angle brackets are refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:< a@b>"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a backslash outside quotes is refused",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:a\\b@c"],
        ours: MAIL_SYNTAX,
        reference: Ref::Code(250),
    },
    Deviation {
        name: "a word after an unbracketed path is a parameter",
        flags: &[],
        lines: &[b"EHLO client", b"MAIL FROM:foo bar"],
        ours: "555 MAIL FROM parameters not recognized or not implemented",
        reference: Ref::Code(250),
    },
    Deviation {
        name: "VRFY of something that is not a path",
        flags: &[],
        lines: &[b"VRFY x,"],
        ours: "502 Could not VRFY x,",
        reference: Ref::Code(252),
    },
    Deviation {
        name: "VRFY of an empty quoted string",
        flags: &[],
        lines: &[b"VRFY \"\""],
        ours: "252 Cannot VRFY user, but will accept message and attempt delivery",
        reference: Ref::Code(502),
    },
];

#[test]
fn deviations_from_the_reference() {
    needs_python!("smtpd, smtplib");
    let mut failures = Vec::new();
    let mut servers: Vec<(&[&str], Server, Server)> = Vec::new();
    for deviation in DEVIATIONS {
        if !servers.iter().any(|(flags, ..)| *flags == deviation.flags) {
            let (python, rust) = both(deviation.flags);
            servers.push((deviation.flags, python, rust));
        }
        let (_, python, rust) = servers
            .iter()
            .find(|(flags, ..)| *flags == deviation.flags)
            .unwrap();
        let lines: Vec<Vec<u8>> = deviation.lines.iter().map(|l| expand(l)).collect();
        let last_wait = match deviation.reference {
            Ref::Silent => SILENCE,
            _ => REPLY_TIMEOUT,
        };
        let theirs = converse(python.addr, &lines, last_wait);
        let mine = converse(rust.addr, &lines, REPLY_TIMEOUT);
        let (a, b) = (summaries(&theirs), summaries(&mine));
        let mut problems = Vec::new();
        if a.len() != b.len() || a[..a.len() - 1] != b[..b.len() - 1] {
            problems.push("the lines before the last already differ".to_string());
        }
        match mine.exchanges.last() {
            Some((_, Got::Reply(lines))) if lines.join("\n") == deviation.ours => {}
            other => problems.push(format!("ours: expected {:?}, got {other:?}", deviation.ours)),
        }
        let last = theirs.exchanges.last().map(|(_, got)| got);
        let reference_as_documented = match deviation.reference {
            Ref::Code(code) => last.and_then(Got::code) == Some(code),
            Ref::Drops => last == Some(&Got::Closed),
            Ref::Silent => last == Some(&Got::Silent),
        };
        if !reference_as_documented {
            problems.push(format!(
                "reference: expected {:?}, got {last:?}",
                deviation.reference
            ));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{} (flags {:?}): {}\n  reference:\n{}  ours:\n{}",
                deviation.name,
                deviation.flags,
                problems.join("; "),
                show(&theirs),
                show(&mine)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} deviations not as documented:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Deviation: the reference keeps its command line limits in one dict for
/// all sessions and clears it when a session starts, so a second client
/// takes away the first one's EHLO allowance for MAIL. Ours are per session.
#[test]
fn the_command_line_limit_is_per_session() {
    needs_python!("smtpd, smtplib");
    let (python, rust) = both(&["-s", "1000"]);
    // 530 bytes: within 512 + 26.
    let mail = expand(b"MAIL FROM:<{a*510}@example>\r\n");
    let mut codes = Vec::new();
    for server in [&python, &rust] {
        let mut first = Client::connect(server.addr);
        first.read_reply(REPLY_TIMEOUT);
        assert!(first.try_send(b"EHLO first\r\n"));
        assert_eq!(
            first.read_reply(REPLY_TIMEOUT).code(),
            Some(250),
            "{}",
            server.name
        );
        let mut second = Client::connect(server.addr);
        let greeting = second.read_reply(REPLY_TIMEOUT);
        assert_eq!(greeting.code(), Some(220), "{}", server.name);
        assert!(first.try_send(&mail));
        codes.push(first.read_reply(REPLY_TIMEOUT).code());
        assert!(second.try_send(b"QUIT\r\n"));
    }
    assert_eq!(codes, [Some(500), Some(250)], "[reference, ours]");
}

/// Deviation: we announce PIPELINING (RFC 2920); the reference does not,
/// though it answers pipelined commands in order too (see "a pipelined
/// session" above).
#[test]
fn extensions_beyond_the_reference_are_announced_unless_compat() {
    needs_python!("smtpd, smtplib");
    let keywords_of = |server: &Server| -> Vec<String> {
        let transcript = converse(
            server.addr,
            &[b"EHLO client".to_vec(), b"QUIT".to_vec()],
            REPLY_TIMEOUT,
        );
        let Some((_, Got::Reply(lines))) = transcript.exchanges.first() else {
            panic!("{}: no EHLO reply:\n{}", server.name, show(&transcript));
        };
        lines
            .iter()
            .skip(1)
            .map(|l| l.get(4..).unwrap_or("").to_string())
            .collect()
    };
    let (python, compat) = both(&[]);
    let reference = keywords_of(&python);
    assert_eq!(keywords_of(&compat), reference, "--compat: the reference's list");
    let ours = keywords_of(&self::ours(&[]));
    for extension in ["PIPELINING", "DSN"] {
        assert!(!reference.contains(&extension.to_string()), "{reference:?}");
        assert!(ours.contains(&extension.to_string()), "{extension} in {ours:?}");
    }
}
