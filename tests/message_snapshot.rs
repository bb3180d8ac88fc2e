//! `ReceivedMessage::snapshot`: the same app code sent twice with lettre
//! (new boundaries, Message-ID and Date each time) renders the same text,
//! and a change the app made shows.

use std::time::{Duration, SystemTime};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{Message, SmtpTransport, Transport};
use pretty_assertions::{assert_eq, assert_ne};
use smtp_fixture::{ReceivedMessage, TestSmtpServer};

fn mailbox(text: &str) -> Mailbox {
    text.parse().expect("a valid mailbox")
}

/// The app's receipt mail, as its code builds it on every send: lettre
/// makes up the boundaries and the Message-ID, and stamps the date.
fn receipt(greeting: &str, sent_at: SystemTime) -> Message {
    Message::builder()
        .from(mailbox("Shop <shop@example.com>"))
        .to(mailbox("Ann Lee <ann@example.com>"))
        .bcc(mailbox("audit@example.com"))
        .subject("Your receipt — order 17")
        .message_id(None)
        .date(sent_at)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    format!("{greeting}\nTotal: 12.00 EUR\nhttps://shop.test/orders/17\n"),
                    format!("<p>{greeting}</p><p>Total: <b>12.00 EUR</b></p>"),
                ))
                .singlepart(
                    Attachment::new("receipt.txt".to_string())
                        .body(String::from("abc"), ContentType::TEXT_PLAIN),
                ),
        )
        .expect("a valid message")
}

fn deliver(server: &TestSmtpServer, email: &Message) -> ReceivedMessage {
    let before = server.messages().len();
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
        .send(email)
        .expect("the test server accepts the message");
    server.wait_for_messages(before + 1).remove(before)
}

#[test]
fn the_same_message_sent_twice_gives_the_same_snapshot() {
    let server = TestSmtpServer::start();
    let now = SystemTime::now();
    let first = deliver(&server, &receipt("Thank you, Ann!", now));
    let second = deliver(
        &server,
        &receipt("Thank you, Ann!", now + Duration::from_secs(3600)),
    );

    assert_ne!(first.data, second.data, "lettre made up new boundaries and IDs");
    assert_ne!(first.message_id(), second.message_id());
    assert_ne!(first.date(), second.date());
    assert_eq!(first.snapshot(), second.snapshot());
}

#[test]
fn a_changed_body_gives_a_different_snapshot() {
    let server = TestSmtpServer::start();
    let now = SystemTime::now();
    let first = deliver(&server, &receipt("Thank you, Ann!", now));
    let second = deliver(&server, &receipt("Thanks, Ann!", now));

    let (first, second) = (first.snapshot(), second.snapshot());
    assert_ne!(first, second);
    let changed: Vec<(&str, &str)> = first
        .lines()
        .zip(second.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [
            ("Thank you, Ann!", "Thanks, Ann!"),
            (
                "<p>Thank you, Ann!</p><p>Total: <b>12.00 EUR</b></p>",
                "<p>Thanks, Ann!</p><p>Total: <b>12.00 EUR</b></p>"
            ),
        ],
        "only the text lines differ"
    );
}

#[test]
fn the_snapshot_shows_envelope_headers_parts_and_attachments_with_volatile_values_masked() {
    let server = TestSmtpServer::start();
    let message = deliver(&server, &receipt("Thank you, Ann!", SystemTime::now()));
    let snapshot = message.snapshot();

    // The envelope, Bcc included.
    assert!(snapshot.starts_with("MAIL FROM:<shop@example.com>"), "{snapshot}");
    assert!(
        snapshot.contains("RCPT TO:<ann@example.com>\nRCPT TO:<audit@example.com>\n"),
        "{snapshot}"
    );
    // Decoded headers; the generated values masked.
    assert!(
        snapshot.contains("\nFrom: Shop <shop@example.com>\n"),
        "{snapshot}"
    );
    assert!(
        snapshot.contains("\nSubject: Your receipt — order 17\n"),
        "{snapshot}"
    );
    assert!(snapshot.contains("\nDate: [masked]\n"), "{snapshot}");
    assert!(snapshot.contains("\nMessage-ID: [masked]\n"), "{snapshot}");
    assert!(snapshot.contains("boundary=\"[masked]\""), "{snapshot}");
    let id = message.message_id().expect("lettre made a Message-ID");
    assert!(!snapshot.contains(&id), "{snapshot}");
    for line in message.text().lines().filter(|line| line.starts_with("--")) {
        assert!(
            !snapshot.contains(line.trim_start_matches('-')),
            "boundary {line} in {snapshot}"
        );
    }
    // The parts by position, with their decoded text.
    assert!(
        snapshot.contains("--- 1 multipart/mixed\n--- 1.1 multipart/alternative\n"),
        "{snapshot}"
    );
    assert!(
        snapshot.contains("--- 1.1.1 text/plain; charset=utf-8\nThank you, Ann!\nTotal: 12.00 EUR\n"),
        "{snapshot}"
    );
    assert!(
        snapshot.contains("--- 1.1.2 text/html; charset=utf-8\n<p>Thank you, Ann!</p>"),
        "{snapshot}"
    );
    // SHA-256 of "abc", the test vector of FIPS 180-2.
    assert!(
        snapshot.contains(
            "--- 1.2 attachment \"receipt.txt\" text/plain; charset=utf-8, 3 bytes, \
             sha256 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"
        ),
        "{snapshot}"
    );
    assert!(!snapshot.contains('\r'), "line endings are \\n: {snapshot:?}");
}

#[test]
fn headers_the_app_generates_can_be_masked_too() {
    let request_id = |id: &str| {
        let mut email = receipt("Hi", SystemTime::now());
        email.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Request-Id"),
            id.to_string(),
        ));
        email
    };
    let server = TestSmtpServer::start();
    let first = deliver(&server, &request_id("req-1"));
    let second = deliver(&server, &request_id("req-2"));

    assert_ne!(first.snapshot(), second.snapshot());
    let masked = first.snapshot_masking(&["x-request-id"]);
    assert_eq!(masked, second.snapshot_masking(&["X-Request-Id"]));
    assert!(masked.contains("\nX-Request-Id: [masked]\n"), "{masked}");
}
