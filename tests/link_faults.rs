//! Faults below SMTP, scripted with one rule each: a link that trickles, a
//! reply cut mid-line, a reset, a greeting that never comes, a server that
//! stops reading. Each shows what lettre reports, and what was recorded.

use std::io::Read;
use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::transport::smtp::Error;
use lettre::{Message, SmtpTransport, Transport};
use smtp_fixture::{on, Action, TestSmtpServer};
use support::Client;

mod support;

fn email(body: String) -> Message {
    Message::builder()
        .from("shop@example.com".parse::<Mailbox>().expect("mailbox"))
        .to("ann@example.com".parse::<Mailbox>().expect("mailbox"))
        .subject("Order")
        .body(body)
        .expect("a message")
}

/// lettre with a client timeout of `timeout`.
fn send(server: &TestSmtpServer, timeout: Duration, body: String) -> Result<(), Error> {
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .timeout(Some(timeout))
        .build()
        .send(&email(body))
        .map(drop)
}

/// A client-side read or write timeout, as lettre's blocking transport
/// reports it: a timeout, or the socket's `EAGAIN` on Linux.
fn is_client_timeout(error: &Error) -> bool {
    let io = std::error::Error::source(error).and_then(|e| e.downcast_ref::<std::io::Error>());
    error.is_timeout()
        || io.is_some_and(|e| {
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            )
        })
}

#[test]
fn a_trickling_greeting_outlasts_a_short_client_timeout_and_not_a_long_one() {
    let server = TestSmtpServer::start();
    // A byte a second: each read waits longer than the client allows. (A
    // faster trickle does not time out a client whose timeout is per read,
    // as lettre's is: it only makes the send slow.)
    server.respond(on::connect(), Action::throttle(1)).times(1);
    let error = send(&server, Duration::from_millis(500), "hi".into()).expect_err("too slow for 500 ms");
    assert!(is_client_timeout(&error), "{error:?}");
    assert!(server.messages().is_empty());

    // A rate the client can live with: the message goes through.
    server.respond(on::connect(), Action::throttle(200)).times(1);
    let started = Instant::now();
    send(&server, Duration::from_secs(10), "hi".into()).expect("delivered over a slow link");
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "the greeting was paced"
    );
    server.wait_for_first_message();

    // Raw: the bytes do arrive one slice at a time.
    server.respond(on::connect(), Action::throttle(20)).times(1);
    let mut client = Client::connect(server.addr());
    let started = Instant::now();
    let greeting = client.line();
    assert!(greeting.starts_with("220 "), "{greeting}");
    let paced = Duration::from_millis(100 * (greeting.len() as u64 / 2 - 1));
    assert!(
        started.elapsed() >= paced,
        "{:?} for {} bytes",
        started.elapsed(),
        greeting.len()
    );
}

#[test]
fn a_final_reply_cut_mid_line_is_an_error_and_nothing_is_recorded() {
    let server = TestSmtpServer::start();
    server.respond(on::message(), Action::cut_after(3)).times(1);
    let error = send(&server, Duration::from_secs(5), "hi".into()).expect_err("a cut reply");
    assert!(
        !error.is_timeout(),
        "the client sees the close at once: {error:?}"
    );
    assert!(server.messages().is_empty(), "a cut final reply delivers nothing");
    assert_eq!(server.rejected().len(), 1);
    assert_eq!(server.rejected()[0].reply, None);

    // On the wire: "250" without its line end, then the close.
    server.respond(on::command("NOOP"), Action::cut_after(5)).times(1);
    let mut client = Client::greeted(server.addr());
    client.send(b"NOOP\r\n");
    assert_eq!(client.rest(), "250 O");
}

#[test]
fn a_reset_instead_of_a_reply_is_a_connection_reset() {
    let server = TestSmtpServer::start();
    server.respond(on::any_rcpt_to(), Action::reset()).times(1);
    let error = send(&server, Duration::from_secs(5), "hi".into()).expect_err("a reset");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(server.messages().is_empty());

    server.respond(on::command("NOOP"), Action::reset()).times(1);
    let mut client = Client::greeted(server.addr());
    client.send(b"NOOP\r\n");
    let mut buffer = [0u8; 64];
    let read = client.writer.read(&mut buffer);
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "a reset, not a clean close: {read:?}"
    );
}

#[test]
fn a_connection_never_greeted_times_the_client_out() {
    let server = TestSmtpServer::start();
    server.respond(on::connect(), Action::silence()).times(1);
    let started = Instant::now();
    let error = send(&server, Duration::from_millis(500), "hi".into()).expect_err("no greeting");
    assert!(is_client_timeout(&error), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(450));
    // The next connection is greeted as usual.
    send(&server, Duration::from_secs(5), "hi".into()).expect("the rule fired once");
}

#[test]
fn a_server_that_stops_reading_mid_data_stalls_the_client_s_writes() {
    let server = TestSmtpServer::start();
    server.respond(on::data(), Action::stop_reading()).times(1);
    // Far more than the socket buffers hold, so the client's write blocks.
    let body = "x".repeat(76).repeat(200_000);
    let error = send(&server, Duration::from_secs(1), body).expect_err("the write stalls");
    assert!(is_client_timeout(&error), "{error:?}");
    assert!(server.messages().is_empty());
    let transcript = server.transcripts().remove(0);
    assert!(
        transcript
            .lines
            .iter()
            .any(|l| l.text == "scripted: reading stopped"),
        "{transcript}"
    );
}

#[test]
fn faults_are_described_in_expectation_reports() {
    let outcome = std::panic::catch_unwind(|| {
        let server = TestSmtpServer::builder().keep_artifacts(false).start();
        server.respond(on::data(), Action::throttle(7)).expect(1);
        server.respond(on::message(), Action::cut_after(2)).expect(1);
        server.respond(on::connect(), Action::reset()).expect(1);
    });
    let payload = outcome.expect_err("unmet expectations");
    let text = payload.downcast_ref::<String>().expect("a text");
    for described in [
        "respond(on::data(), the normal reply at 7 bytes/s)",
        "respond(on::message(), the normal reply cut after 2 bytes)",
        "respond(on::connect(), a TCP reset)",
    ] {
        assert!(text.contains(described), "{described} in {text}");
    }
}
