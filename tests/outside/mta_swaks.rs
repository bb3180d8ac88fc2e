//! swaks (the "Swiss Army Knife for SMTP", Debian's `swaks`) as a client
//! of the fixture and of the CLI binary: plain sends checked byte for
//! byte, with PIPELINING, and what swaks makes of the fixture's scripted
//! refusals. swaks has no DSN options (neither Debian's 20201014.0 nor its
//! latest release): the DSN parameters are sent by Exim, Postfix
//! (tests/mta_exim.rs, tests/mta_postfix.rs) and smtplib (tests/dsn.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use smtp_fixture::{on, Reply, TestSmtpServer};
use tempfile::TempDir;

use crate::mta;
#[cfg(feature = "cli")]
use crate::support;

/// swaks sends its `--data` with `\r\n.\r\n` after it, so the file holds
/// the message without its last CRLF; it stuffs the dots itself.
fn data_file(dir: &TempDir) -> PathBuf {
    let message = mta::message();
    let path = dir.path().join("message.eml");
    std::fs::write(&path, &message[..message.len() - 2]).expect("write the message");
    path
}

/// Runs swaks against `port` with the test message: its output and status.
fn swaks(swaks: &Path, port: u16, to: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = data_file(&dir);
    Command::new(swaks)
        .args(["--server", &format!("127.0.0.1:{port}")])
        .args(["--ehlo", "submitter.test", "--from", "shop@example.com"])
        .args(["--to", to, "--timeout", "20"])
        .arg("--data")
        .arg(format!("@{}", data.display()))
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("swaks runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn swaks_sends_the_message_byte_for_byte_pipelined() {
    let swaks_path = needs_tool!("swaks");
    let server = TestSmtpServer::start();
    let output = swaks(
        &swaks_path,
        server.port(),
        "ann@example.com,bob@example.com,carol@example.com",
        &["--pipeline"],
    );
    assert!(output.status.success(), "{}", text(&output));

    let message = server.wait_for_first_message();
    assert_eq!(message.helo, "submitter.test");
    assert_eq!(message.envelope.mail_from, "shop@example.com");
    assert_eq!(message.envelope.rcpt_to, mta::RECIPIENTS);
    assert!(message.envelope.mail_options.is_empty());
    if *message.data != mta::message() {
        pretty_assertions::assert_eq!(
            String::from_utf8_lossy(&message.data),
            String::from_utf8_lossy(&mta::message())
        );
    }
    let transcript = server.transcript_of(&message).expect("its session");
    assert!(mta::announced(&transcript, "PIPELINING"), "{transcript}");
    assert_eq!(mta::commands(&transcript, "RCPT").len(), 3, "{transcript}");
}

#[test]
fn swaks_delivers_to_the_recipients_the_fixture_did_not_refuse() {
    let swaks_path = needs_tool!("swaks");
    let server = TestSmtpServer::start();
    server.respond(
        on::rcpt_to("bob@example.com"),
        Reply::new(550, "5.1.1 No such user here"),
    );
    let output = swaks(
        &swaks_path,
        server.port(),
        "ann@example.com,bob@example.com,carol@example.com",
        &[],
    );
    // One refusal of three is not a failure to swaks.
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("550 5.1.1 No such user here"),
        "{}",
        text(&output)
    );

    let message = server.wait_for_first_message();
    assert_eq!(message.envelope.rcpt_to, ["ann@example.com", "carol@example.com"]);
    let refused = server.refused_recipients();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].address, "bob@example.com");
}

#[test]
fn swaks_reports_the_scripted_temporary_failure_after_the_dot() {
    let swaks_path = needs_tool!("swaks");
    let server = TestSmtpServer::start();
    server.respond(on::message(), Reply::new(451, "4.3.0 Try again later"));
    let output = swaks(&swaks_path, server.port(), "ann@example.com", &[]);
    // swaks's exit code for an error after the final dot.
    assert_eq!(output.status.code(), Some(26), "{}", text(&output));
    assert!(
        text(&output).contains("451 4.3.0 Try again later"),
        "{}",
        text(&output)
    );
    assert!(server.messages().is_empty());
    assert_eq!(server.rejected().len(), 1);
}

#[cfg(feature = "cli")]
#[test]
fn swaks_to_the_cli_binary_is_printed_by_the_debugging_server() {
    use std::io::BufRead;

    let swaks_path = needs_tool!("swaks");
    let mut binary = support::Binary::start(&[], &[]);
    let output = swaks(&swaks_path, binary.port, "ann@example.com", &["--pipeline"]);
    assert!(output.status.success(), "{}", text(&output));

    // The debugging server prints the message before its 250, one line at
    // a time, flushed: swaks has seen the 250, so every line is there.
    let mut printed = String::new();
    for _ in 0..200 {
        let mut line = String::new();
        if binary.stdout.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        printed.push_str(&line);
        if line.contains("END MESSAGE") {
            break;
        }
    }
    assert!(
        printed.contains("---------- MESSAGE FOLLOWS ----------"),
        "{printed}"
    );
    for line in [
        "Subject: Your order 42",
        "Grüße, Ann! Café, ñ, €.",
        "..two dots",
        "last line",
    ] {
        assert!(
            printed.lines().any(|printed| printed == line),
            "no {line:?} in:\n{printed}"
        );
    }
}
