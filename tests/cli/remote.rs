//! `RemoteServer`: the fixture's calls against `smtp-fixture --http` in
//! another process. One scenario, written once, runs against an in-process
//! `TestSmtpServer` and against a `RemoteServer`: only the line that makes
//! the server differs.

use std::io::BufRead;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use smtp_fixture::{on, Action, RemoteServer, Reply, TestSmtpServer};
use support::Binary;

use crate::support;

/// The binary in service mode, and its HTTP base URL.
fn service() -> (Binary, String) {
    crate::service::service_url(&[])
}

fn send(host: &str, port: u16, to: &str, subject: &str) -> Result<(), String> {
    let message = Message::builder()
        .from("shop@example.com".parse::<Mailbox>().unwrap())
        .to(to.parse::<Mailbox>().unwrap())
        .subject(subject)
        .body(String::from("Hello\n"))
        .unwrap();
    SmtpTransport::builder_dangerous(host)
        .port(port)
        .build()
        .send(&message)
        .map(|_| ())
        .map_err(|error| {
            error
                .status()
                .map(|code| code.to_string())
                .unwrap_or(error.to_string())
        })
}

/// The test, written once: `$server` is a `TestSmtpServer` or a
/// `RemoteServer`.
macro_rules! welcome_scenario {
    ($server:expr) => {{
        let server = $server;
        let (host, port) = (server.host(), server.port());

        send(&host, port, "ann@example.com", "Welcome").expect("accepted");
        let message = server.wait_for_first_message();
        assert_eq!(message.envelope.rcpt_to, ["ann@example.com"]);
        assert_eq!(message.subject().as_deref(), Some("Welcome"));

        server
            .respond(
                on::rcpt_to("gone@example.com"),
                Reply::new(550, "5.1.1 No such user"),
            )
            .times(1);
        assert_eq!(
            send(&host, port, "gone@example.com", "Refused"),
            Err("550".to_string())
        );
        send(&host, port, "gone@example.com", "Retried").expect("the rule fired once");
        assert_eq!(
            server
                .wait_for_message_to("gone@example.com")
                .subject()
                .as_deref(),
            Some("Retried")
        );
        assert_eq!(server.wait_for_messages(2).len(), 2);
        server.assert_message_count(2);

        let inbox = server.inbox();
        let (bob, cy) = (inbox.address("bob"), inbox.address("cy"));
        inbox.respond(on::rcpt_to(&cy), Reply::new(550, "5.1.1 Not here"));
        send(&host, port, &bob, "For the inbox").expect("accepted");
        assert_eq!(send(&host, port, &cy, "Refused"), Err("550".to_string()));
        send(&host, port, "cy@example.com", "Not for the inbox").expect("the inbox's rule is its own");
        let seen = inbox.wait_for_message(|m| m.subject().as_deref() == Some("For the inbox"));
        assert_eq!(seen.envelope.rcpt_to, [bob.as_str()]);
        assert_eq!(inbox.messages().len(), 1);
        server.wait_for_message_to("cy@example.com");
    }};
}

#[test]
fn the_scenario_in_process() {
    welcome_scenario!(TestSmtpServer::start());
}

#[test]
fn the_same_scenario_against_the_binary() {
    let (_binary, url) = service();
    welcome_scenario!(RemoteServer::connect(&url));
}

#[test]
fn connect_from_env_reads_the_url_and_the_smtp_address() {
    let (binary, url) = service();
    // SAFETY: the one test of this binary that sets a variable. Other
    // threads read the environment only through std, whose calls take the
    // same lock as set_var; no C code here reads it while tests run.
    unsafe { std::env::set_var("SMTP_FIXTURE_URL", &url) };
    let server = RemoteServer::connect_from_env();
    assert_eq!(server.port(), binary.port);
    assert_eq!(server.host(), "127.0.0.1");
    assert_eq!(server.url(), url);
}

#[tokio::test]
async fn async_waits_do_not_block_a_current_thread_runtime() {
    let (_binary, url) = service();
    let server = RemoteServer::connect(&url);
    let inbox = server.inbox();
    let address = inbox.address("dee");
    let sending = {
        let (host, port, address) = (server.host(), server.port(), address.clone());
        tokio::spawn(async move {
            // Sent from a task of this (current-thread) runtime, after the
            // wait below has started.
            tokio::task::yield_now().await;
            tokio::task::spawn_blocking(move || send(&host, port, &address, "Async"))
                .await
                .unwrap()
        })
    };
    let message = inbox.wait_for_message_to_async(&address).await;
    assert_eq!(message.subject().as_deref(), Some("Async"));
    sending.await.unwrap().expect("accepted");
    assert_eq!(inbox.wait_for_messages_async(1).await.len(), 1);
}

#[test]
fn a_failed_remote_wait_reports_at_the_test_and_lists_what_arrived() {
    let (_binary, url) = service();
    let server = RemoteServer::connect(&url).with_wait_timeout(std::time::Duration::from_millis(300));
    send(&server.host(), server.port(), "ann@example.com", "Only one").expect("accepted");
    server.wait_for_first_message();
    let inbox = server.inbox();
    let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        inbox.wait_for_message_to(&inbox.address("nobody"))
    }))
    .expect_err("nothing was sent to the inbox");
    let text = failure.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("no message to nobody@"), "{text}");
    assert!(
        text.contains("Messages received (0)"),
        "the inbox's own view: {text}"
    );
}

#[test]
fn a_remote_greylist_passes_once_the_remote_clock_is_advanced() {
    let mut binary = Binary::start(
        &["-c", "SmtpServer", "--http", "127.0.0.1:0", "--manual-clock"],
        &[],
    );
    let mut line = String::new();
    binary.stdout.read_line(&mut line).expect("the HTTP line");
    let url = line
        .trim()
        .strip_prefix("smtp-fixture: HTTP API and web page on ")
        .map(|url| url.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no HTTP address in {line:?}"));
    let server = RemoteServer::connect(&url);
    server.respond(on::any_rcpt_to(), Action::greylist(Duration::from_secs(300)));
    let host = server.host();
    assert_eq!(
        send(&host, server.port(), "ann@example.com", "first"),
        Err("451".to_string())
    );
    server.advance(Duration::from_secs(240));
    assert_eq!(
        send(&host, server.port(), "ann@example.com", "early"),
        Err("451".to_string())
    );
    server.advance(Duration::from_secs(60));
    assert_eq!(send(&host, server.port(), "ann@example.com", "late"), Ok(()));
    assert_eq!(server.wait_for_messages(1)[0].subject().as_deref(), Some("late"));
}
