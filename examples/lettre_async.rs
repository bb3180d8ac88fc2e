//! Sending with lettre's async (tokio) SMTP client to a `TestSmtpServer`.
//!
//! ```sh
//! cargo run --example lettre_async
//! ```
//!
//! The same test as `lettre_sync`, for code that sends from async tasks.

use lettre::message::header::ContentType;
// lettre and smtp_fixture both have a `Message`; name lettre's `Email`.
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};
use smtp_fixture::TestSmtpServer;

#[tokio::main]
async fn main() {
    // `start` is not async and does not need this runtime: the server runs
    // on the fixture's own background runtime, so it works the same in a
    // current-thread `#[tokio::test]` as here.
    let server = TestSmtpServer::start();

    let email = Email::builder()
        .from("Ann <ann@example.com>".parse().expect("a valid mailbox"))
        .to("Bob <bob@example.com>".parse().expect("a valid mailbox"))
        .subject("Your receipt")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Thank you for your order."))
        .expect("a valid message");

    // Plain SMTP without TLS, as a local test server speaks it.
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .build();
    mailer
        .send(email)
        .await
        .expect("the test server accepts the message");

    // In async code use the `_async` waits: the blocking `wait_for_messages`
    // would park this runtime's thread while it waits.
    let received = server.wait_for_messages_async(1).await.remove(0);
    assert_eq!(received.envelope.rcpt_to, ["bob@example.com"]);
    println!("subject: {}", received.subject().as_deref().unwrap_or("(none)"));
}
