//! Sending with lettre's blocking SMTP client to a `TestSmtpServer`.
//!
//! ```sh
//! cargo run --example lettre_sync
//! ```
//!
//! This is the shape of a test for code that sends mail synchronously: start
//! the fixture, point the real client at it, then look at what arrived.

use lettre::message::header::ContentType;
// lettre and smtp_fixture both have a `Message`; name lettre's `Email`.
use lettre::{Message as Email, SmtpTransport, Transport};
use smtp_fixture::TestSmtpServer;

fn main() {
    // Not async, no runtime needed: the server runs on the fixture's own
    // background runtime, and the port is listening when `start` returns.
    let server = TestSmtpServer::start();

    let email = Email::builder()
        .from("Ann <ann@example.com>".parse().expect("a valid mailbox"))
        .to("Bob <bob@example.com>".parse().expect("a valid mailbox"))
        .subject("Welcome")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Hello Bob, welcome aboard."))
        .expect("a valid message");

    // `builder_dangerous`: plain SMTP without TLS, which is what a local
    // test server speaks. Never use it for a real mail server.
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build();
    mailer.send(&email).expect("the test server accepts the message");

    // `send` returned after the final 250, but waiting is still the right
    // habit: in an application the send often happens on another thread.
    // It panics with a report of what did arrive if nothing comes in time.
    let received = server.wait_for_messages(1).remove(0);
    assert_eq!(received.envelope.mail_from, "ann@example.com");
    assert_eq!(received.envelope.rcpt_to, ["bob@example.com"]);
    println!("subject: {}", received.subject().as_deref().unwrap_or("(none)"));
    println!("body: {}", received.text_body().unwrap_or_default().trim_end());
    // Dropping `server` stops it and frees the port.
}
