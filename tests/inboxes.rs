//! Inboxes: one `static` server shared by tests running at once, each test
//! with an inbox of its own (its addresses, its mail, its rules).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::LazyLock;

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use smtp_fixture::{on, Inbox, Reply, TestSmtpServer};

static SERVER: LazyLock<TestSmtpServer> = LazyLock::new(TestSmtpServer::start);

fn mailer() -> SmtpTransport {
    SmtpTransport::builder_dangerous(SERVER.host())
        .port(SERVER.port())
        .build()
}

fn mail(to: &[&str], subject: &str) -> Message {
    let mut builder = Message::builder()
        .from("shop@example.com".parse::<Mailbox>().unwrap())
        .subject(subject);
    for address in to {
        builder = builder.to(address.parse::<Mailbox>().unwrap());
    }
    builder.body(String::from("Hello\n")).unwrap()
}

/// What one of the threads of `eight_threads_each_see_only_their_own_mail` does.
fn one_test(thread: usize) -> Vec<String> {
    let inbox = SERVER.inbox();
    // A rule on the final reply: each inbox's fires for its own messages
    // only, and its expectation is checked when the inbox drops.
    let queued = format!("2.0.0 Queued for thread {thread}");
    inbox.respond(on::message(), Reply::new(250, &queued)).expect(3);
    let mailer = mailer();
    let mut sent = Vec::new();
    for n in 0..3 {
        let address = inbox.address(&format!("user{n}"));
        let response = mailer
            .send(&mail(&[&address], &format!("thread {thread} message {n}")))
            .expect("the server accepts an inbox's mail");
        assert_eq!(
            response.message().collect::<Vec<_>>(),
            [queued.as_str()],
            "the inbox's own rule answered"
        );
        sent.push(address);
    }
    if thread == 0 {
        // Another inbox that refuses every recipient of its own, while
        // the other threads send: nobody else's mail is refused.
        let refusing = SERVER.inbox();
        refusing
            .respond(on::any_rcpt_to(), Reply::new(550, "5.1.1 No such user"))
            .expect(1);
        let gone = refusing.address("gone");
        let error = mailer
            .send(&mail(&[&gone], "refused"))
            .expect_err("the refusing inbox's recipient is refused");
        assert_eq!(
            error.status().map(|code| code.to_string()).as_deref(),
            Some("550"),
            "{error}"
        );
        let refused = refusing.refused_recipients();
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].address, gone);
        assert!(refusing.messages().is_empty());
    }
    if thread == 5 {
        let unmet = SERVER.inbox();
        unmet
            .respond(on::message(), Reply::new(451, "4.3.0 Later"))
            .expect(1);
        let domain = unmet.domain();
        let panic = catch_unwind(AssertUnwindSafe(move || drop(unmet)))
            .expect_err("an unmet expectation fails the test when its inbox drops");
        let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(text.contains(&format!("inbox {domain}")), "{text}");
        assert!(text.contains("expected 1 hit, got 0"), "{text}");
    }

    let messages = inbox.wait_for_messages(3);
    inbox.assert_message_count(3);
    let mut subjects: Vec<String> = messages.iter().filter_map(|m| m.subject()).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        (0..3)
            .map(|n| format!("thread {thread} message {n}"))
            .collect::<Vec<_>>()
    );
    for (message, address) in messages.iter().zip(&sent) {
        assert_eq!(message.envelope.rcpt_to, [address.as_str()]);
    }
    assert_eq!(
        inbox.wait_for_message_to(&sent[2]).envelope.rcpt_to,
        [sent[2].as_str()]
    );
    assert!(
        inbox.refused_recipients().is_empty(),
        "thread {thread}: another inbox's rule refused ours"
    );
    assert!(!inbox.transcripts().is_empty(), "its sessions' transcripts");
    sent
    // The inbox drops here: its rule fired 3 times, as expected.
}

#[test]
fn eight_threads_each_see_only_their_own_mail() {
    let threads: Vec<_> = (0..8)
        .map(|thread| std::thread::spawn(move || one_test(thread)))
        .collect();
    let mut all = Vec::new();
    for thread in threads {
        all.extend(thread.join().expect("every inbox passes"));
    }
    // The server saw everything; each inbox saw only its own.
    for address in &all {
        assert_eq!(SERVER.messages_to(address).len(), 1, "{address}");
    }
}

#[test]
fn a_message_to_two_inboxes_is_seen_by_both_with_their_own_recipients() {
    let (first, second): (Inbox, Inbox) = (SERVER.inbox(), SERVER.inbox());
    let (ann, bob) = (first.address("ann"), second.address("bob"));
    let outsider = "cy@example.com";
    mailer()
        .send(&mail(&[&ann, &bob, outsider], "to both"))
        .expect("sent");

    let seen_by_first = first.wait_for_first_message();
    let seen_by_second = second.wait_for_first_message();
    assert_eq!(seen_by_first.envelope.rcpt_to, [ann.as_str()]);
    assert_eq!(seen_by_second.envelope.rcpt_to, [bob.as_str()]);
    assert_eq!(seen_by_first.subject().as_deref(), Some("to both"));
    assert_eq!(seen_by_first.data, seen_by_second.data);
    let whole = SERVER.wait_for_message_to(outsider);
    assert_eq!(whole.envelope.rcpt_to, [ann, bob, outsider.to_string()]);
}

#[test]
fn a_rule_on_the_final_reply_does_not_answer_a_message_with_other_recipients() {
    let (mine, other) = (SERVER.inbox(), SERVER.inbox());
    let refusal = mine.respond(on::message(), Reply::new(554, "5.6.0 Not for me"));
    let (ann, bob) = (mine.address("ann"), other.address("bob"));
    mailer()
        .send(&mail(&[&ann, &bob], "mixed"))
        .expect("the mixed message gets the server's normal reply");
    assert_eq!(refusal.hits(), 0);
    mailer()
        .send(&mail(&[&ann], "mine alone"))
        .expect_err("a message to the inbox alone gets its rule");
    assert_eq!(refusal.hits(), 1);
    assert_eq!(mine.rejected().len(), 1);
    assert_eq!(mine.messages().len(), 1, "only the mixed one was accepted");
}

#[tokio::test]
async fn an_inbox_waits_in_an_async_test() {
    let inbox = SERVER.inbox();
    let address = inbox.address("async");
    let sending = {
        let address = address.clone();
        tokio::task::spawn_blocking(move || mailer().send(&mail(&[&address], "async")).expect("sent"))
    };
    let message = inbox.wait_for_message_to_async(&address).await;
    assert_eq!(message.subject().as_deref(), Some("async"));
    sending.await.unwrap();
    inbox.assert_message_count_async(1).await;
}

#[test]
#[should_panic(expected = "comes before any recipient")]
fn a_rule_before_any_recipient_belongs_on_the_server() {
    let inbox = SERVER.inbox();
    inbox.respond(on::connect(), Reply::new(421, "4.3.2 Closed"));
}
