//! The fixture with lettre as a real client: sync and async transports, every
//! kind of test function, and the parsed views of what arrived.

use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::TestSmtpServer;

fn mailbox(text: &str) -> Mailbox {
    text.parse().expect("a valid mailbox")
}

fn welcome(to: &str) -> Message {
    Message::builder()
        .from(mailbox("Ann Example <ann@example.com>"))
        .to(mailbox(to))
        .subject("Welcome")
        .message_id(Some("<welcome-1@example.com>".to_string()))
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Hello and welcome!\n"))
        .expect("a valid message")
}

fn sync_mailer(server: &TestSmtpServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
}

fn async_mailer(server: &TestSmtpServer) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .build()
}

#[test]
fn blocking_client_in_a_plain_test() {
    let server = TestSmtpServer::start();
    sync_mailer(&server)
        .send(&welcome("bob@example.com"))
        .expect("sent");

    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.envelope.mail_from, "ann@example.com");
    assert_eq!(message.envelope.rcpt_to, ["bob@example.com"]);
    assert_eq!(message.subject().as_deref(), Some("Welcome"));
    assert_eq!(message.from().as_deref(), Some("ann@example.com"));
    assert_eq!(message.to(), ["bob@example.com"]);
    assert_eq!(
        message.text_body().as_deref().map(str::trim_end),
        Some("Hello and welcome!")
    );
    assert_eq!(message.message_id().as_deref(), Some("welcome-1@example.com"));
    assert!(message.date().is_some(), "lettre sets a Date");
    assert_eq!(message.peer.ip().to_string(), "127.0.0.1");
    assert!(!message.helo.is_empty(), "lettre greets with a name");
    assert!(
        message.data.ends_with(b"\r\n"),
        "data keeps its CRLF line endings"
    );
    message
        .assert_subject("Welcome")
        .assert_sender("ann@example.com")
        .assert_recipients(&["bob@example.com"])
        .assert_body_contains("welcome!");
}

#[tokio::test]
async fn async_client_in_a_current_thread_tokio_test() {
    let server = TestSmtpServer::start();
    async_mailer(&server)
        .send(welcome("carl@example.com"))
        .await
        .expect("sent");
    let messages = server.wait_for_messages_async(1).await;
    assert_eq!(messages[0].envelope.rcpt_to, ["carl@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_client_in_a_multi_thread_tokio_test() {
    let server = TestSmtpServer::start();
    let mailer = async_mailer(&server);
    for n in 0..3 {
        mailer
            .send(welcome(&format!("user{n}@example.com")))
            .await
            .expect("sent");
    }
    let messages = server.wait_for_messages_async(3).await;
    let recipients: Vec<&str> = messages.iter().map(|m| m.envelope.rcpt_to[0].as_str()).collect();
    assert_eq!(
        recipients,
        ["user0@example.com", "user1@example.com", "user2@example.com"]
    );
}

#[tokio::test]
async fn blocking_client_called_directly_inside_a_current_thread_test() {
    // The server does not run on this test's single thread, so a blocking
    // client here cannot starve it.
    let server = TestSmtpServer::start();
    sync_mailer(&server)
        .send(&welcome("dana@example.com"))
        .expect("sent");
    assert_eq!(
        server.wait_for_messages(1)[0].envelope.rcpt_to,
        ["dana@example.com"]
    );
}

#[test]
fn blind_copies_are_in_the_envelope_but_not_the_headers() {
    let server = TestSmtpServer::start();
    let email = Message::builder()
        .from(mailbox("ann@example.com"))
        .to(mailbox("bob@example.com"))
        .cc(mailbox("cid@example.com"))
        .bcc(mailbox("eve@example.com"))
        .reply_to(mailbox("replies@example.com"))
        .subject("Minutes")
        .body(String::from("see attached"))
        .expect("a valid message");
    sync_mailer(&server).send(&email).expect("sent");

    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.envelope.rcpt_to.len(), 3);
    assert_eq!(message.cc(), ["cid@example.com"]);
    assert_eq!(message.reply_to(), ["replies@example.com"]);
    assert_eq!(message.bcc(), ["eve@example.com"]);
}

#[test]
fn html_bodies_and_attachments_are_decoded() {
    let server = TestSmtpServer::start();
    let pdf = vec![0x25, 0x50, 0x44, 0x46, 0x00, 0xff, 0x10];
    let email = Message::builder()
        .from(mailbox("ann@example.com"))
        .to(mailbox("bob@example.com"))
        .subject("Ünïcode subject")
        .multipart(
            MultiPart::mixed()
                .multipart(
                    MultiPart::alternative()
                        .singlepart(SinglePart::plain(String::from("Grüße in plain text")))
                        .singlepart(SinglePart::html(String::from("<p>Grüße in <b>HTML</b></p>"))),
                )
                .singlepart(Attachment::new(String::from("invoice.pdf")).body(
                    pdf.clone(),
                    ContentType::parse("application/pdf").expect("a content type"),
                )),
        )
        .expect("a valid message");
    sync_mailer(&server).send(&email).expect("sent");

    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.subject().as_deref(), Some("Ünïcode subject"));
    assert_eq!(message.text_body().as_deref(), Some("Grüße in plain text"));
    assert_eq!(
        message.html_body().as_deref(),
        Some("<p>Grüße in <b>HTML</b></p>")
    );
    let attachments = message.attachments();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].filename.as_deref(), Some("invoice.pdf"));
    assert_eq!(attachments[0].content_type, "application/pdf");
    assert_eq!(attachments[0].data, pdf);
}

#[test]
fn a_message_without_html_has_no_html_body() {
    let server = TestSmtpServer::start();
    sync_mailer(&server)
        .send(&welcome("bob@example.com"))
        .expect("sent");
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.html_body(), None);
    assert!(message.attachments().is_empty());
}

#[test]
fn many_messages_over_one_connection_arrive_in_order() {
    let server = TestSmtpServer::start();
    let mailer = sync_mailer(&server);
    for n in 0..10 {
        mailer.send(&welcome(&format!("n{n}@example.com"))).expect("sent");
    }
    let messages = server.wait_for_messages(10);
    for (n, message) in messages.iter().enumerate() {
        assert_eq!(message.envelope.rcpt_to, [format!("n{n}@example.com")]);
    }
}

#[test]
fn a_lettre_message_with_a_message_id_is_rfc_clean() {
    let server = TestSmtpServer::start();
    sync_mailer(&server)
        .send(&welcome("bob@example.com"))
        .expect("sent");
    server.wait_for_messages(1)[0].assert_rfc_clean();
}

#[test]
#[should_panic(expected = "the client broke the RFCs in this message:\n  - no Message-ID header")]
fn lint_names_what_the_client_got_wrong() {
    let server = TestSmtpServer::builder().keep_artifacts(false).start();
    let email = Message::builder()
        .from(mailbox("ann@example.com"))
        .to(mailbox("bob@example.com"))
        .subject("No id")
        .body(String::from("lettre leaves Message-ID out unless asked"))
        .expect("a valid message");
    sync_mailer(&server).send(&email).expect("sent");
    server.wait_for_messages(1)[0].assert_rfc_clean();
}
