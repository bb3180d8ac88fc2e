//! One server for a whole test binary: the fixture is `Send + Sync`, so it
//! can live in a `static` and be used from tasks on any runtime.

use std::sync::LazyLock;

use smtp_fixture::{ReceivedMessage, TestSmtpServer};
use smtp_fixture::{RefusedRecipient, RuleHandle};
use support::Client;

mod support;

/// Shared by every test here. Tests run in parallel, so each one looks only
/// at its own messages (by recipient), never at counts or `clear()`.
static SHARED: LazyLock<TestSmtpServer> = LazyLock::new(TestSmtpServer::start);

fn send_to(to: &str) {
    let mut client = Client::greeted(SHARED.addr());
    let reply = client.send_message("shop@example.com", to, b"Subject: shared\r\n\r\nhi\r\n.\r\n");
    assert!(reply.starts_with("250"), "{reply}");
}

fn sent_to(to: &str) -> impl Fn(&ReceivedMessage) -> bool + Send + Sync + '_ {
    move |m| m.envelope.rcpt_to.iter().any(|r| r == to)
}

#[test]
fn the_fixture_and_what_it_hands_out_are_send_and_sync() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<TestSmtpServer>();
    send_and_sync::<RuleHandle>();
    send_and_sync::<ReceivedMessage>();
    send_and_sync::<RefusedRecipient>();
}

#[test]
fn first_test_finds_its_own_message() {
    send_to("first@example.com");
    let message = SHARED.wait_for_message(sent_to("first@example.com"));
    assert_eq!(message.subject().as_deref(), Some("shared"));
}

#[test]
fn second_test_finds_its_own_message() {
    send_to("second@example.com");
    SHARED.wait_for_message(sent_to("second@example.com"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spawned_task_waits_on_the_shared_server() {
    let waiter = tokio::spawn(async {
        SHARED
            .wait_for_message_async(sent_to("spawned@example.com"))
            .await
    });
    tokio::task::spawn_blocking(|| send_to("spawned@example.com"))
        .await
        .expect("the sender");
    let message = waiter.await.expect("the waiting task");
    assert_eq!(message.envelope.rcpt_to, ["spawned@example.com"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owned_server_moves_into_a_spawned_task() {
    let server = TestSmtpServer::start();
    let addr = server.addr();
    let waiter = tokio::spawn(async move { server.wait_for_messages_async(1).await.len() });
    tokio::task::spawn_blocking(move || {
        let mut client = Client::greeted(addr);
        client.send_message("a@example.com", "b@example.com", b"Subject: x\r\n\r\n.\r\n");
    })
    .await
    .expect("the sender");
    assert_eq!(waiter.await.expect("the waiting task"), 1);
}
