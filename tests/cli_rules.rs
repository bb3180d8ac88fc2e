//! Scripted replies through the command line (`--reply`, `--delay`,
//! `--disconnect`, `--times`), so suites in other languages can use them.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use support::{Binary, Client};

mod support;

#[test]
fn reply_rules_with_times() {
    let server = Binary::start(
        &["-c", "SmtpServer"],
        &[
            "--reply",
            "RCPT TO:bounce@example.com=550 5.1.1 No such user",
            "--reply",
            "MESSAGE=451 4.3.0 Try later",
            "--times",
            "1",
        ],
    );
    let mut client = Client::connect(server.addr());
    assert!(client.reply().starts_with("220 "));
    client.command("EHLO me");
    assert_eq!(client.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
    assert_eq!(
        client.command("RCPT TO:<bounce@example.com>"),
        "550 5.1.1 No such user\r\n"
    );
    assert_eq!(client.command("RCPT TO:<ok@example.com>"), "250 OK\r\n");
    for expected in ["451 4.3.0 Try later\r\n", "250 OK\r\n"] {
        assert_eq!(client.command("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
        assert_eq!(client.command("Subject: x\r\n\r\nhi\r\n."), expected);
        client.command("MAIL FROM:<a@example.com>");
        client.command("RCPT TO:<ok@example.com>");
    }
}

#[test]
fn delay_and_disconnect_rules() {
    let server = Binary::start(
        &["-c", "SmtpServer"],
        &["--delay", "MAIL=300ms", "--disconnect", "DATA"],
    );
    let mut client = Client::connect(server.addr());
    client.reply();
    client.command("HELO me");
    let started = Instant::now();
    assert_eq!(client.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the reply came after the delay"
    );
    client.command("RCPT TO:<b@example.com>");
    client.writer.write_all(b"DATA\r\n").expect("write");
    let rest = client.rest();
    assert!(rest.is_empty(), "no reply before the disconnect: {rest:?}");
}

#[test]
fn malformed_rules_are_refused_with_usage() {
    for args in [
        vec!["--reply", "DATA"],
        vec!["--reply", "DATA=hello"],
        vec!["--reply", "MAIL TO:x=550 no"],
        vec!["--delay", "MAIL=soon"],
        vec!["--times", "1"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error:") && stderr.contains("Usage:"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_stdout_nobody_reads_holds_up_only_the_session_that_prints() {
    // The debugging server prints each message; with stdout a pipe that is
    // never read, the pipe fills and printing blocks.
    let server = Binary::start(&[], &[]);
    let addr = server.addr();
    let filler = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        client.reply();
        client.command("HELO filler");
        let body = format!("Subject: big\r\n\r\n{}\r\n.", "x".repeat(60_000));
        for _ in 0..4 {
            client.command("MAIL FROM:<a@example.com>");
            client.command("RCPT TO:<b@example.com>");
            client.command("DATA");
            if client.try_command(&body).is_none() {
                return;
            }
        }
    });
    // Give the filler time to fill the pipe, then another client is served.
    std::thread::sleep(Duration::from_millis(500));
    let mut other = Client::greeted(addr);
    assert_eq!(other.command("NOOP"), "250 OK\r\n");
    drop(server);
    filler
        .join()
        .expect("the filler thread ends once the server is gone");
}
