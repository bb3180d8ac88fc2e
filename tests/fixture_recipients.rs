//! `last_message`, `messages_to`, `wait_for_message_to` and its async twin,
//! with lettre sending from other threads and tasks.

use std::thread;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::{on, Reply, TestSmtpServer};

fn mailbox(text: &str) -> Mailbox {
    text.parse().expect("a valid mailbox")
}

fn email(to: &[&str], bcc: &[&str], subject: &str) -> Message {
    let mut builder = Message::builder()
        .from(mailbox("app@example.com"))
        .subject(subject);
    for address in to {
        builder = builder.to(mailbox(address));
    }
    for address in bcc {
        builder = builder.bcc(mailbox(address));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(format!("{subject}\n"))
        .expect("a valid message")
}

fn mailer(server: &TestSmtpServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
}

fn subjects(messages: &[smtp_fixture::ReceivedMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|message| message.subject().unwrap_or_default())
        .collect()
}

#[test]
fn messages_to_picks_by_envelope_recipient_with_the_domain_in_any_case() {
    let server = TestSmtpServer::start();
    assert!(server.last_message().is_none());
    let mailer = mailer(&server);
    mailer
        .send(&email(&["Ann@Example.com"], &[], "one"))
        .expect("sent");
    mailer
        .send(&email(&["bob@example.com"], &["ann@example.com"], "two"))
        .expect("sent");
    mailer
        .send(&email(&["bob@example.com", "Ann@EXAMPLE.COM"], &[], "three"))
        .expect("sent");
    server.wait_for_messages(3);

    assert_eq!(subjects(&server.messages_to("Ann@example.com")), ["one", "three"]);
    assert_eq!(
        subjects(&server.messages_to("ann@example.com")),
        ["two"],
        "the local part is matched exactly; Bcc recipients count"
    );
    assert_eq!(subjects(&server.messages_to("bob@EXAMPLE.com")), ["two", "three"]);
    assert!(server.messages_to("carl@example.com").is_empty());
    assert_eq!(
        server.last_message().and_then(|m| m.subject()).as_deref(),
        Some("three")
    );
}

#[test]
fn wait_for_message_to_waits_for_the_first_message_to_that_address() {
    let server = TestSmtpServer::start();
    let mailer = mailer(&server);
    let sender = thread::spawn(move || {
        mailer
            .send(&email(&["bob@example.com"], &[], "for bob"))
            .expect("sent");
        thread::sleep(Duration::from_millis(100));
        mailer
            .send(&email(&["ann@example.com"], &[], "for ann"))
            .expect("sent");
        mailer
            .send(&email(&["ann@example.com"], &[], "for ann again"))
            .expect("sent");
    });

    let message = server.wait_for_message_to("ann@example.com");
    assert_eq!(message.subject().as_deref(), Some("for ann"));
    sender.join().expect("the sender thread finished");
    assert_eq!(
        server.wait_for_message_to("ann@example.com").subject().as_deref(),
        Some("for ann"),
        "still the first one"
    );
}

#[tokio::test]
async fn wait_for_message_to_async_in_a_current_thread_runtime() {
    let server = TestSmtpServer::start();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .build();
    let send = tokio::spawn(async move {
        mailer
            .send(email(&["bob@example.com"], &[], "for bob"))
            .await
            .expect("sent");
        mailer
            .send(email(&["ann@example.com"], &[], "for ann"))
            .await
            .expect("sent");
    });

    // The wait must leave this (only) thread to the sending task.
    let message = server.wait_for_message_to_async("ann@example.com").await;
    assert_eq!(message.subject().as_deref(), Some("for ann"));
    send.await.expect("the sending task finished");
}

#[test]
fn wait_for_message_to_fails_naming_the_recipients_that_got_mail() {
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_millis(300))
        .start();
    server
        .respond(on::message(), Reply::new(451, "4.3.0 Try again later"))
        .times(1);
    let mailer = mailer(&server);
    let refused = mailer.send(&email(&["carl@example.com"], &[], "refused"));
    assert!(refused.is_err(), "the scripted 451 reached lettre");
    mailer
        .send(&email(&["bob@example.com"], &[], "for bob"))
        .expect("sent");

    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        server.wait_for_message_to("carl@example.com")
    }))
    .expect_err("no message to carl was accepted");
    let text = panic.downcast_ref::<String>().expect("a formatted panic message");
    assert!(
        text.contains(
            "expected a message to carl@example.com within 300ms, but none of the 1 received was addressed to it \
             (envelope recipients: bob@example.com). 1 message to it was refused at the final reply."
        ),
        "{text}"
    );
    assert!(
        text.contains("SMTP transcripts (2 sessions)"),
        "the usual report follows: {text}"
    );
}

/// Also shows the fixture is `Send + Sync`: the wait runs in a spawned task.
#[tokio::test]
async fn wait_for_message_to_async_fails_after_the_timeout() {
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_millis(200))
        .keep_artifacts(false)
        .start();
    let waited = tokio::spawn(async move { server.wait_for_message_to_async("ann@example.com").await }).await;
    let panic = waited.expect_err("nothing arrived").into_panic();
    let text = panic.downcast_ref::<String>().expect("a formatted panic message");
    assert!(
        text.contains("expected a message to ann@example.com within 200ms, but none of the 0 received"),
        "{text}"
    );
}
