//! Waiting for one particular message among several.
//!
//! ```sh
//! cargo run --example wait_for_predicate
//! ```
//!
//! When an application sends several mails from several threads, their
//! order is not fixed, so `wait_for_messages(n)[i]` would make a flaky test.
//! `wait_for_message(predicate)` waits for the first message that matches,
//! whatever else arrives before or after it.

use std::thread;

use lettre::{Message as Email, SmtpTransport, Transport};
use smtp_fixture::TestSmtpServer;

fn main() {
    let server = TestSmtpServer::start();

    // Three mails sent at the same time, as a web app might on sign-up.
    let senders: Vec<_> = [
        ("ann@example.com", "Welcome"),
        ("ann@example.com", "Please confirm your address"),
        ("ops@example.com", "New sign-up: ann@example.com"),
    ]
    .into_iter()
    .map(|(to, subject)| {
        let (host, port) = (server.host(), server.port());
        thread::spawn(move || {
            let email = Email::builder()
                .from("app@example.com".parse().expect("a valid mailbox"))
                .to(to.parse().expect("a valid mailbox"))
                .subject(subject)
                .body(format!("{subject}\r\n"))
                .expect("a valid message");
            let mailer = SmtpTransport::builder_dangerous(host).port(port).build();
            mailer.send(&email).expect("the test server accepts the message");
        })
    })
    .collect();

    // Wait for the one we care about; it may be the first, second or third
    // to arrive. On timeout this panics, listing the messages that did.
    let confirm = server.wait_for_message(|m| {
        m.subject()
            .is_some_and(|subject| subject.starts_with("Please confirm"))
    });
    assert_eq!(confirm.envelope.rcpt_to, ["ann@example.com"]);
    println!(
        "found: {:?} to {:?}",
        confirm.subject().unwrap_or_default(),
        confirm.envelope.rcpt_to
    );

    for sender in senders {
        sender.join().expect("a sender thread");
    }
    // Everything else that arrived, in the order the server accepted it.
    for message in server.wait_for_messages(3) {
        println!("received: {:?}", message.subject().unwrap_or_default());
    }
}
