//! Scripted failures: what a mailer sees when the server says no, stalls or
//! hangs up, with lettre as the client and raw sockets where bytes matter.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::Action;
use smtp_fixture::{on, Reply, TestSmtpServer};
use support::Client;

mod support;

fn email(to: &[&str]) -> Message {
    let mut builder = Message::builder()
        .from("ann@example.com".parse::<Mailbox>().expect("mailbox"))
        .subject("Order confirmation");
    for rcpt in to {
        builder = builder.to(rcpt.parse::<Mailbox>().expect("mailbox"));
    }
    builder
        .body(String::from("Thanks for your order"))
        .expect("a message")
}

fn mailer(server: &TestSmtpServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn code(error: &lettre::transport::smtp::Error) -> Option<String> {
    error.status().map(|code| code.to_string())
}

#[test]
fn a_refused_recipient_is_a_permanent_error_and_nothing_is_recorded() {
    let server = TestSmtpServer::start();
    let rule = server.respond(
        on::rcpt_to("bounce@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );

    let error = mailer(&server)
        .send(&email(&["ok@example.com", "bounce@example.com"]))
        .unwrap_err();
    assert!(error.is_permanent(), "{error:?}");
    assert_eq!(code(&error).as_deref(), Some("550"));
    assert_eq!(rule.hits(), 1);
    assert!(server.messages().is_empty());

    // Other recipients are unaffected.
    mailer(&server).send(&email(&["ok@example.com"])).expect("sent");
    assert_eq!(
        server.wait_for_messages(1)[0].envelope.rcpt_to,
        ["ok@example.com"]
    );
}

#[test]
fn a_temporary_failure_then_the_retry_is_accepted() {
    let server = TestSmtpServer::start();
    server
        .respond(on::message(), Reply::new(451, "4.3.0 Try again later"))
        .times(1)
        .expect(1);

    let error = mailer(&server).send(&email(&["bob@example.com"])).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(code(&error).as_deref(), Some("451"));
    assert!(server.messages().is_empty());

    mailer(&server)
        .send(&email(&["bob@example.com"]))
        .expect("the retry is accepted");
    assert_eq!(server.wait_for_messages(1).len(), 1);
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].reply.as_ref().map(Reply::code), Some(451));
    assert_eq!(
        rejected[0].message.subject().as_deref(),
        Some("Order confirmation")
    );
}

#[test]
fn a_stall_longer_than_the_client_timeout_is_a_client_timeout() {
    let server = TestSmtpServer::start();
    server.respond(on::any_mail_from(), Action::delay(Duration::from_secs(3)));
    let impatient = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .timeout(Some(Duration::from_millis(300)))
        .build();
    let error = impatient.send(&email(&["bob@example.com"])).unwrap_err();
    // lettre's blocking transport reports its read timeout as an I/O error.
    let io_kind = std::error::Error::source(&error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    let timed_out = matches!(
        io_kind,
        Some(std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    );
    assert!(error.is_timeout() || timed_out, "{error:?}");
    assert!(server.messages().is_empty());
}

#[test]
fn a_delayed_normal_reply_still_delivers() {
    let server = TestSmtpServer::start();
    let rule = server.respond(on::data(), Action::delay(Duration::from_millis(50)));
    mailer(&server).send(&email(&["bob@example.com"])).expect("sent");
    assert_eq!(server.wait_for_messages(1).len(), 1);
    assert_eq!(rule.hits(), 1);
}

#[test]
fn a_disconnect_on_data_leaves_nothing_recorded() {
    let server = TestSmtpServer::start();
    server.respond(on::data(), Action::disconnect());
    let error = mailer(&server).send(&email(&["bob@example.com"])).unwrap_err();
    assert!(
        !error.is_permanent() && !error.is_transient(),
        "a connection error, not a reply: {error:?}"
    );
    server.assert_no_new_messages(Duration::from_millis(100));
    assert!(server.messages().is_empty());
}

#[test]
fn a_disconnect_after_the_final_dot_is_a_rejected_attempt() {
    let server = TestSmtpServer::start();
    server.respond(on::message(), Action::disconnect());
    assert!(mailer(&server).send(&email(&["bob@example.com"])).is_err());
    assert!(server.messages().is_empty());
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].reply, None);
}

#[test]
fn a_421_greeting_fails_the_send_and_closes() {
    let server = TestSmtpServer::start();
    server.respond(on::connect(), Reply::new(421, "4.3.2 Service not available"));
    let error = mailer(&server).send(&email(&["bob@example.com"])).unwrap_err();
    assert!(error.is_transient(), "{error:?}");

    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut all = String::new();
    stream
        .read_to_string(&mut all)
        .expect("the server closes after its reply");
    assert_eq!(all, "421 4.3.2 Service not available\r\n");
}

#[test]
fn a_554_greeting_refuses_everything_but_quit() {
    let server = TestSmtpServer::start();
    server.respond(on::connect(), Reply::new(554, "5.3.2 No service"));
    let mut client = Client::connect(server.addr());
    assert_eq!(client.reply(), "554 5.3.2 No service\r\n");
    assert_eq!(client.command("EHLO me"), "503 Error: no service, send QUIT\r\n");
    assert_eq!(client.command("QUIT"), "221 Bye\r\n");
}

#[test]
fn an_unknown_command_can_be_given_a_reply() {
    let server = TestSmtpServer::start();
    server.respond(on::command("XCLIENT"), Reply::new(220, "XCLIENT accepted"));
    let mut client = Client::greeted(server.addr());
    assert_eq!(
        client.command("XCLIENT ADDR=192.0.2.1"),
        "220 XCLIENT accepted\r\n"
    );
    assert_eq!(
        client.command("XOTHER"),
        "500 Error: command \"XOTHER\" not recognized\r\n"
    );
}

#[test]
fn multi_line_replies_with_enhanced_codes_reach_the_client() {
    let server = TestSmtpServer::start();
    server.respond(on::helo(), Reply::new(250, "mx.test greets you\n8BITMIME\nHELP"));
    server.respond(
        on::command_matching(|c| c.name() == "VRFY"),
        Reply::new(550, "5.1.1 Unknown\n5.1.1 Really"),
    );
    let mut client = Client::greeted(server.addr());
    assert_eq!(
        client.command("EHLO me"),
        "250-mx.test greets you\r\n250-8BITMIME\r\n250 HELP\r\n"
    );
    assert_eq!(
        client.command("VRFY bob"),
        "550-5.1.1 Unknown\r\n550 5.1.1 Really\r\n"
    );
}

#[test]
fn rules_apply_in_order_and_times_runs_out() {
    let server = TestSmtpServer::start();
    let first = server
        .respond(on::mail_from("ann@example.com"), Reply::new(451, "first"))
        .times(2);
    let second = server
        .respond(on::any_mail_from(), Reply::new(452, "second"))
        .times(1);
    let mut client = Client::greeted(server.addr());
    client.command("EHLO me");
    let codes: Vec<String> = (0..4)
        .map(|_| client.command("MAIL FROM:<ANN@example.com>")[..3].to_string())
        .collect();
    assert_eq!(codes, ["451", "451", "452", "250"]);
    assert_eq!((first.hits(), second.hits()), (2, 1));
}

#[test]
fn a_refused_recipient_is_not_in_the_envelope() {
    let server = TestSmtpServer::start();
    server.respond(on::rcpt_to("<gone@example.com>"), Reply::new(550, "gone"));
    let mut client = Client::greeted(server.addr());
    client.command("EHLO me");
    client.command("MAIL FROM:<ann@example.com>");
    assert_eq!(client.command("RCPT TO:<gone@example.com>"), "550 gone\r\n");
    assert_eq!(client.command("RCPT TO:<here@example.com>"), "250 OK\r\n");
    client.command("DATA");
    assert_eq!(client.command("Subject: x\r\n\r\n."), "250 OK\r\n");
    assert_eq!(
        server.wait_for_messages(1)[0].envelope.rcpt_to,
        ["here@example.com"]
    );
}

#[test]
fn a_message_rule_with_a_predicate_sees_the_message() {
    let server = TestSmtpServer::start();
    server.respond(
        on::message_matching(|m| m.data.windows(4).any(|w| w == b"SPAM")),
        Reply::new(554, "5.7.1 Looks like spam"),
    );
    let mut client = Client::greeted(server.addr());
    client.command("EHLO me");
    for (body, expected) in [
        ("Subject: SPAM\r\n\r\n.", "554 5.7.1 Looks like spam\r\n"),
        ("Subject: ham\r\n\r\n.", "250 OK\r\n"),
    ] {
        client.command("MAIL FROM:<ann@example.com>");
        client.command("RCPT TO:<bob@example.com>");
        client.command("DATA");
        assert_eq!(client.command(body), expected);
    }
    assert_eq!(server.wait_for_messages(1)[0].subject().as_deref(), Some("ham"));
}

#[test]
fn an_unmet_expectation_fails_when_the_server_is_dropped_and_names_the_rule_s_line() {
    let added_on = line!() + 4;
    let outcome = std::panic::catch_unwind(|| {
        let server = TestSmtpServer::builder().keep_artifacts(false).start();
        let _rule = server
            .respond(on::rcpt_to("x@example.com"), Reply::new(550, "no"))
            .expect(1);
    });
    let payload = outcome.expect_err("dropping the server fails the test");
    let text = payload
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    let rule = format!(
        "scripted reply expectations not met:\n  respond(on::rcpt_to(\"x@example.com\"), \"550 no\") at {}:{added_on}:",
        file!()
    );
    assert!(text.contains(&rule), "{text}");
    assert!(text.contains(": expected 1 hit, got 0\n"), "{text}");
}

#[test]
fn an_expectation_is_not_checked_while_the_test_already_panics() {
    let outcome = std::panic::catch_unwind(|| {
        let server = TestSmtpServer::builder().keep_artifacts(false).start();
        let _rule = server.respond(on::data(), Reply::new(550, "no")).expect(3);
        panic!("the test's own failure");
    });
    let payload = outcome.expect_err("the test panics");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"the test's own failure"));
}

#[test]
fn a_garbled_reply_reaches_the_client_byte_for_byte() {
    let server = TestSmtpServer::start();
    server.respond(on::any_mail_from(), Action::raw("25")).times(1);
    let mut client = Client::greeted(server.addr());
    client.command("HELO me");
    client
        .writer
        .write_all(b"MAIL FROM:<a@example.com>\r\nNOOP\r\n")
        .expect("write");
    // The truncated "25" runs into the NOOP's reply; the MAIL was not
    // carried out, so a second MAIL is not nested.
    assert_eq!(client.reply(), "25250 OK\r\n");
    assert_eq!(client.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
}

#[test]
fn lettre_fails_cleanly_on_a_garbled_reply() {
    let server = TestSmtpServer::start();
    server.respond(on::data(), Action::raw("354-Go\r\n250 not a continuation\r\n"));
    let error = mailer(&server).send(&email(&["bob@example.com"])).unwrap_err();
    assert!(
        !error.is_timeout(),
        "the client must notice at once, not time out: {error:?}"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn a_refused_recipient_is_on_record_with_its_reply_and_in_reports() {
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_millis(100))
        .keep_artifacts(false)
        .start();
    server.respond(
        on::rcpt_to("bounce@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    mailer(&server).send(&email(&["bounce@example.com"])).unwrap_err();
    mailer(&server).send(&email(&["ok@example.com"])).expect("sent");

    let refused = server.refused_recipients();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].address, "bounce@example.com");
    assert_eq!(refused[0].reply, Some(Reply::new(550, "5.1.1 No such user")));
    let accepted = server.wait_for_first_message();
    assert_ne!(refused[0].session_id, accepted.session_id, "two sessions");
    let transcript = server
        .transcripts()
        .into_iter()
        .find(|t| t.session_id == refused[0].session_id)
        .expect("the refusing session's transcript");
    assert!(transcript.server_lines().contains(&"550 5.1.1 No such user"));

    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.wait_for_messages(2)))
        .expect_err("only one message arrived");
    let text = report.downcast_ref::<String>().expect("a text");
    let line = format!(
        "Recipients refused at RCPT TO (1):\n  1. bounce@example.com => 550 5.1.1 No such user (session {})",
        refused[0].session_id
    );
    assert!(text.contains(&line), "{text}");

    server.clear();
    assert!(server.refused_recipients().is_empty());
}
