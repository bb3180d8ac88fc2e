//! The fixture's API over raw sockets: byte-exact data, waiting, isolation,
//! stopping, transcripts, and the texts of its failures.

use std::io::{ErrorKind, Read};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use pretty_assertions::assert_eq;
use smtp_fixture::Direction;
use smtp_fixture::{on, Reply, TestSmtpServer};
use support::Client;

mod support;

/// A large message is read straight into its buffer after its first
/// 64 KiB; dots, CRLFs and the terminator split across writes (and so
/// across reads) must come out the same as through the input buffer.
#[test]
fn a_large_message_split_anywhere_is_recorded_byte_exact() {
    let server = TestSmtpServer::start();
    let mut sent = Vec::new();
    let mut expected = Vec::new();
    for i in 0..60_000u32 {
        let line = match i % 5 {
            0 => format!("..{i} stuffed dot"),
            1 => format!("line {i} \u{e9}"),
            2 => String::new(),
            3 => format!("...{i}"),
            _ => format!("{i:0>90}"),
        };
        sent.extend_from_slice(line.as_bytes());
        sent.extend_from_slice(b"\r\n");
        expected.extend_from_slice(line.strip_prefix('.').unwrap_or(&line).as_bytes());
        expected.extend_from_slice(b"\r\n");
    }
    sent.extend_from_slice(b".\r\nNOOP\r\n");
    assert!(expected.len() > 1 << 20, "big enough to be read in place");

    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
    // Odd write sizes, so that reads end inside "\r\n.", ".\r\n" and "..".
    let mut rest = sent.as_slice();
    for size in [1, 2, 3, 5, 7, 65_537, 4_093, 1 << 20].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at((*size).min(rest.len()));
        client.send(now);
        rest = later;
    }
    assert_eq!(client.reply(), "250 OK\r\n");
    assert_eq!(
        client.reply(),
        "250 OK\r\n",
        "the NOOP sent right after the terminator"
    );
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.data.len(), expected.len());
    assert!(
        message.data == expected,
        "the recorded message differs from what was sent"
    );
}

#[test]
fn data_is_recorded_byte_exact_with_dots_unstuffed() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    let body = b"Subject: dots\r\n\r\n..leading dot\r\n...two\r\n8-bit: \xc3\xa9\xff\r\nbare\nlf\r\n.\r\n";
    assert_eq!(
        client.send_message("a@example.com", "b@example.com", body),
        "250 OK\r\n"
    );
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(
        message.data,
        b"Subject: dots\r\n\r\n.leading dot\r\n..two\r\n8-bit: \xc3\xa9\xff\r\nbare\nlf\r\n".to_vec()
    );
}

#[test]
fn snapshots_share_the_bodies_instead_of_copying_them() {
    let server = TestSmtpServer::start();
    server.respond(
        on::message_matching(|m| m.data.starts_with(b"Subject: no")),
        Reply::new(554, "5.7.1 No"),
    );
    let mut client = Client::greeted(server.addr());
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    body.extend(
        std::iter::repeat_n(
            b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n".as_slice(),
            16 * 1024,
        )
        .flatten(),
    );
    let expected = body.clone();
    body.extend_from_slice(b".\r\n");
    assert_eq!(
        client.send_message("a@example.com", "b@example.com", &body),
        "250 OK\r\n"
    );
    let mut client = Client::greeted(server.addr());
    assert!(client
        .send_message("a@example.com", "b@example.com", b"Subject: no\r\n\r\nx\r\n.\r\n")
        .starts_with("554"));

    let first = server.wait_for_messages(1);
    let second = server.messages();
    let found = server.wait_for_message(|m| m.subject().as_deref() == Some("big"));
    assert_eq!(first[0].data.len(), 1024 * 1024 + 16);
    assert_eq!(first[0].data, expected);
    assert_eq!(
        first[0].data.as_ptr(),
        second[0].data.as_ptr(),
        "messages() copied the body"
    );
    assert_eq!(
        first[0].data.as_ptr(),
        found.data.as_ptr(),
        "wait_for_message copied the body"
    );
    let rejected = (server.rejected(), server.rejected());
    assert_eq!(rejected.0[0].message.data, b"Subject: no\r\n\r\nx\r\n");
    assert_eq!(
        rejected.0[0].message.data.as_ptr(),
        rejected.1[0].message.data.as_ptr(),
        "rejected() copied the body"
    );
}

#[test]
fn smuggled_terminators_do_not_end_the_message() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    let body = b"Subject: one\r\n\r\nx\n.\r\nMAIL FROM:<evil@example.com>\r\ny\r.\r\n.\r\n";
    assert_eq!(
        client.send_message("a@example.com", "b@example.com", body),
        "250 OK\r\n"
    );
    let messages = server.wait_for_messages(1);
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].data,
        b"Subject: one\r\n\r\nx\n.\r\nMAIL FROM:<evil@example.com>\r\ny\r.\r\n".to_vec()
    );
}

#[test]
fn a_client_that_vanishes_mid_data_leaves_nothing_recorded() {
    let server = TestSmtpServer::start();
    {
        let mut client = Client::in_data(server.addr());
        client.send(b"Subject: cut short\r\n\r\nhalf a mess");
    }
    // The session ends (visible in the transcript) without a message.
    wait_until(|| server.transcripts().first().is_some_and(|t| t.closed));
    assert!(server.messages().is_empty());
    let transcript = &server.transcripts()[0];
    assert!(
        transcript.client_lines().contains(&"Subject: cut short"),
        "{transcript}"
    );
}

#[test]
fn every_session_has_a_transcript_even_without_a_message() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("HELO there"), 250);
    assert_eq!(client.code("NOOP"), 250);
    assert_eq!(client.code("QUIT"), 221);
    wait_until(|| server.transcripts().first().is_some_and(|t| t.closed));

    let transcript = &server.transcripts()[0];
    assert_eq!(transcript.client_lines(), ["HELO there", "NOOP", "QUIT"]);
    let server_lines = transcript.server_lines();
    assert!(server_lines[0].starts_with("220 localhost"), "{transcript}");
    assert_eq!(&server_lines[1..], ["250 localhost", "250 OK", "221 Bye"]);
    assert!(
        transcript.lines.iter().any(|l| l.direction == Direction::Note),
        "{transcript}"
    );

    server.clear();
    assert!(
        server.transcripts().is_empty(),
        "closed sessions are forgotten by clear()"
    );
}

#[test]
fn the_transcript_of_a_message_shows_its_session() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client.send_message(
        "a@example.com",
        "b@example.com",
        b"Subject: t\r\n\r\nbody line\r\n.\r\n",
    );
    let message = server.wait_for_messages(1).remove(0);
    let transcript = server.transcript_of(&message).expect("kept");
    assert_eq!(transcript.session_id, message.session_id);
    assert!(transcript.client_lines().contains(&"body line"), "{transcript}");
    assert_eq!(
        message.transcript().map(|t| t.session_id),
        Some(message.session_id)
    );
}

#[test]
fn clear_forgets_messages() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: 1\r\n\r\n.\r\n");
    server.wait_for_messages(1);
    server.clear();
    assert!(server.messages().is_empty());
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<c@example.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
    assert_eq!(client.command("Subject: 2\r\n\r\n."), "250 OK\r\n");
    assert_eq!(server.wait_for_messages(1)[0].subject().as_deref(), Some("2"));
}

#[test]
fn wait_for_a_message_matching_a_predicate() {
    let server = TestSmtpServer::start();
    let addr = server.addr();
    let sender = thread::spawn(move || {
        for subject in ["first", "second", "third"] {
            let mut client = Client::greeted(addr);
            let body = format!("Subject: {subject}\r\n\r\nhi\r\n.\r\n");
            client.send_message("a@example.com", "b@example.com", body.as_bytes());
        }
    });
    let second = server.wait_for_message(|m| m.subject().as_deref() == Some("second"));
    assert_eq!(second.subject().as_deref(), Some("second"));
    sender.join().expect("sender thread");
}

#[test]
fn nothing_more_arrives() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: only\r\n\r\n.\r\n");
    server.wait_for_messages(1);
    server.assert_no_new_messages(Duration::from_millis(100));
    server.assert_message_count(1);
}

#[test]
fn two_hundred_fixtures_on_two_hundred_threads_see_only_their_own_mail() {
    let threads: Vec<_> = (0..200)
        .map(|n| {
            thread::spawn(move || {
                let server = TestSmtpServer::start();
                let mut client = Client::greeted(server.addr());
                let to = format!("user{n}@example.com");
                let body = format!("Subject: for {n}\r\n\r\n.\r\n");
                assert_eq!(
                    client.send_message("a@example.com", &to, body.as_bytes()),
                    "250 OK\r\n"
                );
                let messages = server.wait_for_messages(1);
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0].envelope.rcpt_to, [to]);
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a fixture thread");
    }
}

#[test]
fn dropping_the_server_frees_the_port_and_it_can_start_again_on_it() {
    let server = TestSmtpServer::start();
    let port = server.port();
    drop(server);
    let refused = TcpStream::connect(("127.0.0.1", port)).map(|mut s| {
        // A connection may only look accepted if something else took the
        // port meanwhile; then reading says so.
        let mut byte = [0u8; 1];
        s.set_read_timeout(Some(Duration::from_secs(1))).ok();
        s.read(&mut byte)
    });
    assert!(
        matches!(&refused, Err(e) if e.kind() == ErrorKind::ConnectionRefused),
        "after drop the port must refuse connections: {refused:?}"
    );

    let again = TestSmtpServer::builder().port(port).start();
    assert_eq!(again.port(), port);
    let mut client = Client::greeted(again.addr());
    assert_eq!(client.code("NOOP"), 250);
}

#[test]
fn ipv6_loopback_works_when_available() {
    let Ok(server) = TestSmtpServer::builder()
        .ip("::1".parse().expect("an address"))
        .try_start()
    else {
        support::skip("this machine has no IPv6 loopback (binding [::1]:0 failed)");
        return;
    };
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: v6\r\n\r\n.\r\n");
    assert_eq!(server.wait_for_messages(1)[0].peer.ip().to_string(), "::1");
}

#[test]
fn options_reach_the_engine() {
    let server = TestSmtpServer::builder()
        .data_size_limit(100)
        .enable_smtputf8(true)
        .hostname("mx.test")
        .start();
    let mut client = Client::greeted(server.addr());
    let ehlo = client.command("EHLO me");
    assert_eq!(
        ehlo,
        "250-mx.test\r\n250-SIZE 100\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-PIPELINING\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 HELP\r\n"
    );
    assert_eq!(client.code("MAIL FROM:<a@example.com> SIZE=101"), 552);
}

#[test]
fn incompatible_options_are_refused_at_start() {
    let error = TestSmtpServer::builder()
        .enable_smtputf8(true)
        .decode_data(true)
        .try_start()
        .unwrap_err();
    assert!(
        error.to_string().contains("decode_data and enable_smtputf8"),
        "{error}"
    );
}

#[test]
fn saved_artifacts_hold_the_messages_and_transcripts() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: keep me\r\n\r\n.\r\n");
    server.wait_for_messages(1);
    let dir = server.save_artifacts().expect("saved");
    let eml = std::fs::read(dir.join("001.eml")).expect("the message file");
    assert_eq!(eml, b"Subject: keep me\r\n\r\n".to_vec());
    let transcripts = std::fs::read_to_string(dir.join("transcripts.txt")).expect("the transcripts");
    assert!(transcripts.contains("MAIL FROM:<a@example.com>"), "{transcripts}");
    std::fs::remove_dir_all(dir).expect("cleanup");
}

// ---- failure texts ------------------------------------------------------

#[test]
#[should_panic(expected = "smtp-fixture: expected at least 2 messages within 200ms, but 1 arrived.")]
fn waiting_too_long_names_what_arrived() {
    let server = TestSmtpServer::builder()
        .keep_artifacts(false)
        .wait_timeout(Duration::from_millis(200))
        .start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: lonely\r\n\r\n.\r\n");
    server.wait_for_messages(2);
}

#[test]
fn the_timeout_report_lists_messages_and_transcripts() {
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_millis(100))
        .start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: lonely\r\n\r\n.\r\n");
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.wait_for_messages(2)))
        .expect_err("the wait fails");
    let text = report.downcast_ref::<String>().expect("a text");
    for expected in [
        "Messages received (1):",
        "  1. a@example.com -> [b@example.com] \"lonely\"",
        "SMTP transcripts (1 sessions):",
        "C: MAIL FROM:<a@example.com>",
        "S: 354 End data with <CR><LF>.<CR><LF>",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
#[should_panic(expected = "smtp-fixture: expected 2 messages, got 1.")]
fn a_wrong_count_fails() {
    let server = TestSmtpServer::builder()
        .keep_artifacts(false)
        .wait_timeout(Duration::from_millis(100))
        .start();
    let mut client = Client::greeted(server.addr());
    client.send_message("a@example.com", "b@example.com", b"Subject: x\r\n\r\n.\r\n");
    server.wait_for_messages(1);
    server.assert_message_count(2);
}

#[test]
#[should_panic(expected = "smtp-fixture: expected no new message within")]
fn an_unexpected_message_fails() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    let addr = server.addr();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        let mut client = Client::greeted(addr);
        client.send_message("a@example.com", "b@example.com", b"Subject: x\r\n\r\n.\r\n");
    });
    server.assert_no_new_messages(Duration::from_secs(10));
    sender.join().ok();
}

#[test]
#[should_panic(expected = "smtp-fixture: Subject differs\n--- expected\n+++ received\n")]
fn a_wrong_subject_shows_a_diff() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    let mut client = Client::greeted(server.addr());
    client.send_message(
        "a@example.com",
        "b@example.com",
        b"Subject: Welcome!\r\n\r\n.\r\n",
    );
    server.wait_for_messages(1)[0].assert_subject("Welcome");
}

#[test]
#[should_panic(expected = "smtp-fixture: the body does not contain \"code 42\"")]
fn a_missing_body_text_fails() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    let mut client = Client::greeted(server.addr());
    client.send_message(
        "a@example.com",
        "b@example.com",
        b"Subject: x\r\n\r\ncode 41\r\n.\r\n",
    );
    server.wait_for_messages(1)[0].assert_body_contains("code 42");
}

#[tokio::test]
#[should_panic(expected = "smtp-fixture: expected at least 1 message within 100ms, but 0 arrived.")]
async fn the_async_wait_fails_the_same_way() {
    let server = TestSmtpServer::builder()
        .keep_artifacts(false)
        .wait_timeout(Duration::from_millis(100))
        .start();
    server.wait_for_messages_async(1).await;
}

fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("condition not reached within 5 s");
}

#[test]
fn a_dot_the_client_forgot_to_double_is_linted() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    let body = b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\nFrom: a@example.com\r\nMessage-ID: <1@x>\r\n\r\n.lost dot\r\n..kept dot\r\n.\r\n";
    client.send_message("a@example.com", "b@example.com", body);
    let message = server.wait_for_messages(1).remove(0);
    assert!(message.data.ends_with(b"\r\nlost dot\r\n.kept dot\r\n"));
    assert_eq!(
        message.lint(),
        [smtp_fixture::Violation::UnstuffedDot { lines: 1 }]
    );
}

// ---- what a user trial tripped over --------------------------------------

fn send_one(server: &TestSmtpServer, to: &str, subject: &str) {
    let mut client = Client::greeted(server.addr());
    let body = format!("Subject: {subject}\r\n\r\nhello\r\n.\r\n");
    let reply = client.send_message("shop@example.com", to, body.as_bytes());
    assert!(reply.starts_with("250"), "{reply}");
}

#[test]
fn recipients_can_be_checked_against_any_list_of_strings() {
    let server = TestSmtpServer::start();
    send_one(&server, "ann@example.com", "hi");
    let message = server.wait_for_first_message();
    let owned: Vec<String> = vec!["ann@example.com".to_string()];
    let borrowed: Vec<&str> = vec!["ann@example.com"];
    message
        .assert_recipients(&["ann@example.com"])
        .assert_recipients(&owned)
        .assert_recipients(&borrowed)
        .assert_recipients(&owned[..]);
}

#[test]
#[should_panic(expected = "envelope recipients (RCPT TO) differs\n--- expected\n+++ received\n")]
fn wrong_recipients_show_a_diff() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    send_one(&server, "ann@example.com", "hi");
    server
        .wait_for_first_message()
        .assert_recipients(&[String::from("bob@example.com")]);
}

#[tokio::test]
async fn the_async_wait_takes_a_predicate_that_borrows_a_local() {
    let server = TestSmtpServer::start();
    let wanted = String::from("Second");
    let sender = {
        let addr = server.addr();
        std::thread::spawn(move || {
            for subject in ["First", "Second"] {
                let mut client = Client::greeted(addr);
                let body = format!("Subject: {subject}\r\n\r\nhello\r\n.\r\n");
                client.send_message("a@example.com", "b@example.com", body.as_bytes());
            }
        })
    };
    let message = server
        .wait_for_message_async(|m| m.subject().as_deref() == Some(wanted.as_str()))
        .await;
    assert_eq!(message.subject().as_deref(), Some("Second"));
    // Sessions are recorded as each one finishes, so which came first is
    // not fixed; one of the two it is.
    let first = server.wait_for_first_message_async().await;
    assert!(["First", "Second"].contains(&first.subject().unwrap_or_default().as_str()));
    sender.join().expect("the sender");
}

#[test]
fn response_is_exported_beside_reply_and_on() {
    let server = TestSmtpServer::start();
    server
        .respond(on::command("NOOP"), smtp_fixture::Action::raw("299 raw\r\n"))
        .times(1);
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.command("NOOP"), "299 raw\r\n");
    assert_eq!(client.command("NOOP"), "250 OK\r\n");
}

/// The report a wrong subject gives, printed by this test binary in a child
/// process with chosen colour settings (see the test below).
#[test]
#[ignore = "a probe: a_report_is_coloured_only_when_the_conventions_say_so runs it in a child process"]
fn colour_probe() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    send_one(&server, "ann@example.com", "actual subject");
    server.wait_for_first_message().assert_subject("expected subject");
}

#[test]
fn a_report_is_coloured_only_when_the_conventions_say_so() {
    let report = |env: &[(&str, &str)]| {
        let mut command = std::process::Command::new(std::env::current_exe().expect("this test binary"));
        command.args([
            "--ignored",
            "--exact",
            "colour_probe",
            "--nocapture",
            "--test-threads=1",
        ]);
        command
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("the probe runs");
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(text.contains("Subject differs"), "the probe's report: {text}");
        text
    };
    // Output to a pipe, as here: plain unless forced; NO_COLOR wins.
    let plain = report(&[]);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.contains("-expected subject\n+actual subject\n"), "{plain}");
    assert!(report(&[("CLICOLOR_FORCE", "1")]).contains("\x1b[31m-"));
    assert!(!report(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
#[should_panic(expected = "smtp-fixture: the body does not contain \"code 42\".")]
fn a_body_report_shows_the_body_once() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    send_one(&server, "ann@example.com", "distinctive subject line");
    let message = server.wait_for_first_message();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        message.assert_body_contains("code 42");
    }));
    let payload = outcome.expect_err("the body lacks it");
    let text = payload.downcast_ref::<String>().expect("a text");
    assert_eq!(text.matches("hello").count(), 1, "the body once:\n{text}");
    assert!(text.contains("(1 lines of message data)"), "{text}");
    std::panic::resume_unwind(payload);
}

/// The panic text of `run`, which must panic.
fn panic_text(run: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).expect_err("it should have panicked");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

/// Checks that `run` panics with a report naming this file at `line`.
fn panics_at(line: u32, run: impl FnOnce()) {
    let text = panic_text(run);
    let here = format!("{}:{line}:", file!());
    assert!(text.contains(&here), "expected {here} in:\n{text}");
}

fn quiet_server(wait: Duration) -> TestSmtpServer {
    TestSmtpServer::builder()
        .wait_timeout(wait)
        .keep_artifacts(false)
        .start()
}

/// A future's panic happens inside the library; the report still names the
/// line of the test that made the wait, for every async wait.
#[test]
fn every_async_wait_reports_the_line_of_the_test() {
    let server = quiet_server(Duration::from_millis(30));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (line, waiting) = (line!(), server.wait_for_messages_async(1));
    panics_at(line, || drop(runtime.block_on(waiting)));
    let (line, waiting) = (line!(), server.wait_for_first_message_async());
    panics_at(line, || drop(runtime.block_on(waiting)));
    let (line, waiting) = (line!(), server.wait_for_message_async(|_| true));
    panics_at(line, || drop(runtime.block_on(waiting)));
    let (line, waiting) = (line!(), server.wait_for_message_to_async("a@example.com"));
    panics_at(line, || drop(runtime.block_on(waiting)));
    let (line, waiting) = (line!(), server.assert_message_count_async(1));
    panics_at(line, || runtime.block_on(waiting));
}

#[test]
fn assert_no_new_messages_async_fails_when_one_arrives_and_names_the_test_line() {
    let server = quiet_server(Duration::from_secs(5));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(server.assert_no_new_messages_async(Duration::from_millis(20)));
    let line = line!() + 1;
    let waiting = server.assert_no_new_messages_async(Duration::from_secs(60));
    Client::greeted(server.addr()).send_message(
        "a@example.com",
        "b@example.com",
        b"Subject: late\r\n\r\nx\r\n.\r\n",
    );
    let text = panic_text(|| runtime.block_on(waiting));
    assert!(text.contains("expected no new message"), "{text}");
    assert!(text.contains(&format!("{}:{line}:", file!())), "{text}");
}

/// The trap: `#[tokio::test]` runs on one thread; a blocking wait holds it,
/// so the app's task cannot send. The failure says so and names the twin.
#[tokio::test]
async fn a_blocking_wait_on_a_current_thread_runtime_names_its_async_twin() {
    let server = quiet_server(Duration::from_millis(50));
    let addr = server.addr();
    let app = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut stream, b"QUIT\r\n")
            .await
            .unwrap();
    });
    let text = panic_text(|| {
        server.wait_for_messages(1);
    });
    assert!(text.contains("current-thread tokio runtime"), "{text}");
    assert!(text.contains("wait_for_messages_async"), "{text}");
    let text = panic_text(|| {
        server.wait_for_message_to("a@example.com");
    });
    assert!(text.contains("wait_for_message_to_async"), "{text}");
    app.await.unwrap();
}

#[test]
fn a_blocking_wait_outside_a_runtime_gives_no_runtime_hint() {
    let server = quiet_server(Duration::from_millis(20));
    let text = panic_text(|| {
        server.wait_for_messages(1);
    });
    assert!(!text.contains("tokio runtime"), "{text}");
}

#[test]
fn a_removed_rule_stops_matching_and_clear_rules_removes_them_all() {
    let server = TestSmtpServer::start();
    let refusal = server.respond(
        on::rcpt_to("ann@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    let mut client = Client::ehloed(server.addr());
    assert_eq!(client.code("MAIL FROM:<app@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<ann@example.com>"), 550);
    refusal.remove();
    assert_eq!(client.code("RCPT TO:<ann@example.com>"), 250);
    assert_eq!(refusal.hits(), 1);

    server.respond(on::rcpt_to("bob@example.com"), Reply::new(550, "5.1.1 No"));
    server.respond(on::command("NOOP"), Reply::new(421, "4.3.2 Bye"));
    assert_eq!(client.code("RCPT TO:<bob@example.com>"), 550);
    server.clear_rules();
    assert_eq!(client.code("RCPT TO:<bob@example.com>"), 250);
    assert_eq!(client.code("NOOP"), 250);
}

static SHARED: std::sync::LazyLock<TestSmtpServer> =
    std::sync::LazyLock::new(|| TestSmtpServer::builder().keep_artifacts(false).start());

/// A `static` is never dropped: `verify()` is where its expectations are
/// checked.
#[test]
fn verify_checks_the_expectations_of_a_server_that_is_never_dropped() {
    let rule = SHARED
        .respond(on::command("XSHARED"), Reply::new(250, "2.0.0 OK"))
        .expect(1);
    let text = panic_text(|| SHARED.verify());
    assert!(text.contains("expected 1 hit, got 0"), "{text}");
    assert!(
        text.contains(file!()),
        "the report names where the rule was added: {text}"
    );
    assert_eq!(Client::ehloed(SHARED.addr()).code("XSHARED"), 250);
    SHARED.verify();
    rule.remove();
    SHARED.verify();
}

/// A failure report shows the message decoded: a quoted-printable token is
/// whole, `=` is not `=3D`, the subject's encoded words are text.
#[test]
fn a_failure_report_shows_a_quoted_printable_message_decoded() {
    let server = TestSmtpServer::start();
    let token = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
    let body = format!(
        "Subject: =?utf-8?q?Caf=C3=A9?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n\
         Confirm: https://app.test/c?token=3D{}=\r\n{}\r\n.\r\n",
        &token[..40],
        &token[40..]
    );
    Client::greeted(server.addr()).send_message("a@example.com", "b@example.com", body.as_bytes());
    let message = server.wait_for_first_message();
    let text = panic_text(|| {
        message.assert_header("X-Campaign", "spring");
    });
    assert!(
        text.contains(&format!("https://app.test/c?token={token}")),
        "{text}"
    );
    assert!(text.contains("Subject: Café"), "{text}");
    assert!(!text.contains("=3D"), "{text}");
    assert!(text.contains("has no header X-Campaign"), "{text}");
}

#[test]
fn a_subject_diff_shows_the_texts_not_options() {
    let message =
        smtp_fixture::ReceivedMessage::new(smtp_fixture::Envelope::default(), "Subject: Welcome!\r\n\r\n");
    let text = panic_text(|| {
        message.assert_subject("Welcome");
    });
    assert!(
        text.contains("-Welcome\n") && text.contains("+Welcome!\n"),
        "{text}"
    );
    assert!(!text.contains("Some("), "{text}");
}
