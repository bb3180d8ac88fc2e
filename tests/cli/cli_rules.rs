//! Scripted replies through the command line (`--reply`, `--delay`,
//! `--disconnect`, `--times`), so suites in other languages can use them.

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;
use support::{Binary, Client};

use crate::support;

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
    // The filler's second message is read whole, and its printing blocks
    // on the full pipe, before another client is tried.
    let (blocked, is_blocked) = std::sync::mpsc::channel();
    let filler = std::thread::spawn(move || {
        let mut client = Client::connect(addr);
        client.reply();
        client.command("HELO filler");
        let body = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "x".repeat(60_000));
        for round in 0..4 {
            client.command("MAIL FROM:<a@example.com>");
            client.command("RCPT TO:<b@example.com>");
            client.command("DATA");
            if client.writer.write_all(body.as_bytes()).is_err() {
                return;
            }
            if round == 1 {
                support::wait_until_read(&client.writer);
                let _ = blocked.send(());
            }
            if client.try_reply().is_none() {
                return;
            }
        }
    });
    is_blocked
        .recv_timeout(support::scaled(Duration::from_secs(20)))
        .expect("the filler's second message was read");
    let mut other = Client::greeted(addr);
    assert_eq!(other.command("NOOP"), "250 OK\r\n");
    drop(server);
    filler
        .join()
        .expect("the filler thread ends once the server is gone");
}

#[test]
fn link_fault_rules() {
    let server = Binary::start(
        &["-c", "SmtpServer"],
        &[
            "--throttle",
            "CONNECT=40",
            "--times",
            "1",
            "--cut",
            "NOOP=5",
            "--times",
            "1",
            "--reset",
            "VRFY",
            "--silence",
            "CONNECT",
            "--times",
            "1",
        ],
    );
    // The first connection's greeting trickles: ~35 bytes at 40 a second.
    let started = Instant::now();
    let mut client = Client::connect(server.addr());
    assert!(client.reply().starts_with("220 "));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    client.writer.write_all(b"NOOP\r\n").expect("write");
    assert_eq!(client.rest(), "250 O", "cut after 5 bytes, then closed");

    // The second is accepted and never greeted (the read times out).
    let mut silent = Client::connect(server.addr());
    silent
        .writer
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("a timeout");
    assert_eq!(silent.line(), "", "no greeting");

    // The third is served; VRFY gets a reset.
    let mut client = Client::connect(server.addr());
    assert!(client.reply().starts_with("220 "));
    client.writer.write_all(b"VRFY x\r\n").expect("write");
    let mut buffer = [0u8; 16];
    let read = std::io::Read::read(&mut client.writer, &mut buffer);
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );
}

#[test]
fn a_bad_fault_rule_is_a_usage_error() {
    for args in [
        ["--throttle", "CONNECT=0"],
        ["--cut", "DATA=many"],
        ["--reset", "NOT A TRIGGER"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(args)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("{} {:?}", args[0], args[1])), "{stderr}");
    }
}
