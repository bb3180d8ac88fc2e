//! LMTP (RFC 2033) over real sockets: LHLO, one final reply per recipient,
//! a rule that fails one mailbox of three, pipelining, Python's
//! `smtplib.LMTP` as a client, and the command line's `--lmtp`.

use smtp_fixture::{on, Reply, TestSmtpServer};
use support::Client;

use crate::support;

const FULL: &str = "452 4.2.2 Mailbox full";

/// LHLO, MAIL, three RCPTs (each answered), DATA; returns the replies that
/// follow the final dot, one per accepted recipient.
fn send_to_three(client: &mut Client, body: &str) -> Vec<String> {
    let lhlo = client.command("LHLO client.test");
    assert!(lhlo.starts_with("250-"), "{lhlo}");
    assert_eq!(client.command("MAIL FROM:<shop@example.com>"), "250 2.0.0 OK\r\n");
    let mut accepted = 0;
    for recipient in ["a", "b", "c"] {
        let reply = client.command(&format!("RCPT TO:<{recipient}@example.com>"));
        accepted += usize::from(reply.starts_with('2'));
    }
    assert_eq!(client.code("DATA"), 354);
    client.send(format!("{body}\r\n.\r\n").as_bytes());
    (0..accepted).map(|_| client.reply()).collect()
}

/// `server` with a rule that fails the delivery to b@example.com.
fn b_is_full(server: TestSmtpServer) -> TestSmtpServer {
    server.respond(
        on::delivery_to("b@example.com"),
        Reply::new(452, "4.2.2 Mailbox full"),
    );
    server
}

#[test]
fn a_rule_fails_one_mailbox_of_three_and_the_others_get_the_message() {
    let server = b_is_full(TestSmtpServer::builder().lmtp().start());
    let mut client = Client::greeted(server.addr());
    let finals = send_to_three(&mut client, "Subject: three\r\n\r\nhello");
    assert_eq!(
        finals,
        ["250 2.0.0 OK\r\n", &format!("{FULL}\r\n"), "250 2.0.0 OK\r\n"]
    );
    assert_eq!(client.command("QUIT"), "221 2.0.0 Bye\r\n");

    let message = server.wait_for_first_message();
    assert_eq!(message.envelope.rcpt_to, ["a@example.com", "c@example.com"]);
    assert_eq!(message.subject().as_deref(), Some("three"));
    let refused = server.refused_recipients();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].address, "b@example.com");
    assert_eq!(refused[0].reply.as_ref().map(Reply::code), Some(452));
    assert!(refused[0].after_data);
    assert!(
        server.rejected().is_empty(),
        "a and c got it: not a rejected message"
    );

    // The transcript shows every reply.
    let transcript = server.transcript_of(&message).expect("its transcript");
    let lines = transcript.server_lines();
    let data = lines.iter().position(|l| l.starts_with("354")).expect("354");
    assert_eq!(lines[data + 1..data + 4], ["250 2.0.0 OK", FULL, "250 2.0.0 OK"]);
    assert!(
        server
            .to_string()
            .contains("Recipients refused at their final reply (LMTP) (1):"),
        "{server}"
    );
}

#[test]
fn a_message_rule_and_a_refusal_at_rcpt_apply_to_every_recipient_it_names() {
    let server = TestSmtpServer::builder().lmtp().start();
    server.respond(
        on::rcpt_to("c@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    server
        .respond(on::message(), Reply::new(451, "4.3.0 Try again later"))
        .times(1);
    let mut client = Client::greeted(server.addr());
    // c is refused at RCPT: two final replies, both the rule's.
    let finals = send_to_three(&mut client, "Subject: first\r\n\r\nx");
    assert_eq!(finals, ["451 4.3.0 Try again later\r\n"; 2]);
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1, "nobody got it: a rejected message");
    assert_eq!(
        rejected[0].message.envelope.rcpt_to,
        ["a@example.com", "b@example.com"]
    );
    let refused: Vec<(String, bool)> = server
        .refused_recipients()
        .into_iter()
        .map(|r| (r.address, r.after_data))
        .collect();
    assert_eq!(
        refused,
        [
            ("c@example.com".to_string(), false),
            ("a@example.com".to_string(), true),
            ("b@example.com".to_string(), true)
        ]
    );
    // The retry is accepted for both.
    assert_eq!(client.command("RSET"), "250 2.0.0 OK\r\n");
    assert_eq!(client.code("MAIL FROM:<shop@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
    client.send(b"Subject: retry\r\n\r\n.\r\n");
    assert_eq!([client.reply(), client.reply()], ["250 2.0.0 OK\r\n"; 2]);
    let message = server.wait_for_first_message();
    assert_eq!(message.envelope.rcpt_to, ["a@example.com", "b@example.com"]);
}

#[test]
fn pipelined_lmtp_gets_every_reply_in_order() {
    let server = TestSmtpServer::builder().lmtp().start();
    server.respond(
        on::delivery_to("<B@EXAMPLE.COM>"),
        Reply::new(452, "4.2.2 Mailbox full"),
    );
    let mut client = Client::greeted(server.addr());
    // Two transactions and QUIT in one write (RFC 2033 requires PIPELINING).
    client.send(
        b"LHLO client.test\r\nMAIL FROM:<shop@example.com>\r\nRCPT TO:<a@example.com>\r\n\
          RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\nSubject: one\r\n\r\n.\r\n\
          MAIL FROM:<shop@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: two\r\n\r\n.\r\n\
          QUIT\r\n",
    );
    let ehlo = client.reply();
    assert!(
        ehlo.contains("PIPELINING") && ehlo.contains("ENHANCEDSTATUSCODES"),
        "{ehlo}"
    );
    let rest: Vec<String> = std::iter::from_fn(|| client.try_reply()).collect();
    let ok = "250 2.0.0 OK\r\n";
    let full = format!("{FULL}\r\n");
    let start = "354 End data with <CR><LF>.<CR><LF>\r\n";
    assert_eq!(
        rest,
        [
            ok,
            ok,
            ok,
            ok,
            start,
            ok,
            &full,
            ok,
            ok,
            ok,
            start,
            &full,
            "221 2.0.0 Bye\r\n"
        ]
    );
    let messages = server.wait_for_messages(1);
    assert_eq!(messages.len(), 1, "the second message had no recipient left");
    assert_eq!(messages[0].envelope.rcpt_to, ["a@example.com", "c@example.com"]);
    let rejected = server.rejected();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].message.subject().as_deref(), Some("two"));
}

#[test]
fn lhlo_in_lmtp_helo_and_ehlo_refused_and_the_other_way_round_in_smtp() {
    let server = TestSmtpServer::builder().lmtp().hostname("lmtp.test").start();
    let mut client = Client::greeted(server.addr());
    for verb in ["HELO", "EHLO"] {
        assert_eq!(
            client.command(&format!("{verb} client.test")),
            format!("500 5.5.2 Error: this is an LMTP server, send LHLO instead of {verb}\r\n")
        );
    }
    assert_eq!(
        client.command("MAIL FROM:<a@example.com>"),
        "503 5.5.1 Error: send LHLO first\r\n"
    );
    assert_eq!(
        client.command("LHLO client.test"),
        "250-lmtp.test\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-DSN\r\n\
         250-CHUNKING\r\n250-BINARYMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 HELP\r\n"
    );
    assert_eq!(client.code("LHLO again"), 503);

    let smtp = TestSmtpServer::start();
    let mut client = Client::greeted(smtp.addr());
    assert_eq!(
        client.command("LHLO client.test"),
        "500 Error: command \"LHLO\" not recognized\r\n"
    );
    assert_eq!(client.code("EHLO client.test"), 250);
}

#[test]
fn in_smtp_a_delivery_rule_refuses_the_whole_message() {
    let server = b_is_full(TestSmtpServer::start());
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("MAIL FROM:<shop@example.com>"), 250);
    for recipient in ["a", "b", "c"] {
        assert_eq!(client.code(&format!("RCPT TO:<{recipient}@example.com>")), 250);
    }
    assert_eq!(client.code("DATA"), 354);
    client.send(b"Subject: smtp\r\n\r\n.\r\n");
    assert_eq!(
        client.reply(),
        "452 4.2.2 Mailbox full\r\n",
        "one reply: SMTP has no other"
    );
    assert_eq!(client.command("NOOP"), "250 OK\r\n", "nothing left unread");
    assert!(server.messages().is_empty());
    assert_eq!(server.rejected().len(), 1);
    assert!(server.refused_recipients().is_empty());
}

/// A library handler: `process_message` answers for all, `process_recipient`
/// for one mailbox.
mod library {
    use smtp_fixture::handler::Handler;
    use smtp_fixture::handlers::Recording;
    use smtp_fixture::protocol::{Config, Message};
    use smtp_fixture::server::SmtpServer;
    use smtp_fixture::Reply;

    use crate::support::Client;

    struct Mailboxes {
        delivered: Recording,
    }

    impl Handler for Mailboxes {
        async fn process_message(&self, message: &Message) -> Option<Reply> {
            (message.mail_from() == "later@example.com").then(|| Reply::new(451, "4.3.0 Not now"))
        }
        async fn process_recipient(&self, _message: &Message, recipient: &str) -> Option<Reply> {
            (recipient == "full@example.com").then(|| Reply::new(452, "4.2.2 Mailbox full"))
        }
        fn message_accepted(&self, message: Message) {
            self.delivered.message_accepted(message);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handler_answers_per_recipient_and_a_plain_reply_goes_to_all() {
        let delivered = Recording::default();
        let config = Config {
            lmtp: true,
            ..Config::default()
        };
        let handler = Mailboxes {
            delivered: delivered.clone(),
        };
        let server = SmtpServer::new(config, handler).expect("a server");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(listener, async {
            let _ = stopped.await;
        }));
        let finals = tokio::task::spawn_blocking(move || {
            let mut client = Client::greeted(addr);
            let mut finals = Vec::new();
            assert_eq!(client.code("LHLO client.test"), 250);
            for sender in ["now@example.com", "later@example.com"] {
                assert_eq!(client.code(&format!("MAIL FROM:<{sender}>")), 250);
                for recipient in ["ann", "full", "bob"] {
                    assert_eq!(client.code(&format!("RCPT TO:<{recipient}@example.com>")), 250);
                }
                assert_eq!(client.code("DATA"), 354);
                client.send(b"Subject: hi\r\n\r\n.\r\n");
                finals.push([client.reply(), client.reply(), client.reply()]);
            }
            assert_eq!(client.code("QUIT"), 221);
            finals
        })
        .await
        .expect("the client");
        assert_eq!(
            finals[0],
            [
                "250 2.0.0 OK\r\n",
                "452 4.2.2 Mailbox full\r\n",
                "250 2.0.0 OK\r\n"
            ]
        );
        assert_eq!(
            finals[1], ["451 4.3.0 Not now\r\n"; 3],
            "one reply, given to every recipient"
        );
        let messages = delivered.take();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].rcpt_tos(), ["ann@example.com", "bob@example.com"]);
        let _ = stop.send(());
        task.await.expect("the server task").expect("the server ran");
    }
}

/// Runs `script` with `python3 -c`, the port as its argument; its stdout.
fn python(script: &str, port: u16) -> String {
    support::python_ok(script, &[port.to_string()])
}

#[test]
fn smtplib_lmtp_delivers_and_reads_per_recipient_replies_with_getreply() {
    needs_python!("smtplib");
    let server = b_is_full(TestSmtpServer::builder().lmtp().start());
    // smtplib.LMTP's sendmail() reads one reply after the data, the first
    // recipient's: fine for one recipient. For several, a client reads the
    // others itself with getreply(), one per accepted recipient.
    let script = r#"
import smtplib, sys
with smtplib.LMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    code, _ = s.ehlo()
    assert code == 250 and s.has_extn("enhancedstatuscodes"), s.esmtp_features
    assert s.sendmail("shop@example.com", ["a@example.com"], "Subject: one\r\n\r\nhi\r\n") == {}
    recipients = ["a@example.com", "b@example.com", "c@example.com"]
    s.mail("shop@example.com")
    for r in recipients:
        assert s.rcpt(r)[0] == 250
    first = s.data(b"Subject: three\r\n\r\nhi\r\n")
    replies = [first] + [s.getreply() for _ in recipients[1:]]
    for r, (code, text) in zip(recipients, replies):
        print(r, code, text.decode())
"#;
    let out = python(script, server.port());
    assert_eq!(
        out,
        "a@example.com 250 2.0.0 OK\nb@example.com 452 4.2.2 Mailbox full\nc@example.com 250 2.0.0 OK\n"
    );
    let messages = server.wait_for_messages(2);
    assert_eq!(messages[0].envelope.rcpt_to, ["a@example.com"]);
    assert_eq!(messages[1].envelope.rcpt_to, ["a@example.com", "c@example.com"]);
}

#[test]
fn smtplib_lmtp_sendmail_with_several_recipients_reads_only_the_first_reply() {
    needs_python!("smtplib");
    let server = b_is_full(TestSmtpServer::builder().lmtp().start());
    // What Python's smtplib does (LMTP inherits SMTP's sendmail): it reports
    // no refusal, and each later command reads the reply before its own
    // (so `with` would fail at QUIT, which reads NOOP's 250).
    let script = r#"
import smtplib, sys
s = smtplib.LMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
print(s.sendmail("shop@example.com", ["a@example.com", "b@example.com"], "Subject: x\r\n\r\nhi\r\n"))
print(s.noop())
print(s.quit())
"#;
    let out = python(script, server.port());
    assert_eq!(
        out, "{}\n(452, b'4.2.2 Mailbox full')\n(250, b'2.0.0 OK')\n",
        "smtplib's limit: one reply read after the data"
    );
    assert_eq!(
        server.wait_for_first_message().envelope.rcpt_to,
        ["a@example.com"]
    );
}

#[cfg(feature = "cli")]
#[test]
fn the_command_line_speaks_lmtp_and_prints_the_message() {
    use std::io::BufRead;

    let mut binary = support::Binary::start(
        &[
            "--lmtp",
            "--reply",
            "MESSAGE TO:b@example.com=452 4.2.2 Mailbox full",
        ],
        &[],
    );
    let mut client = Client::greeted(binary.addr());
    assert_eq!(client.code("HELO client.test"), 500);
    let finals = send_to_three(&mut client, "Subject: from the CLI\r\n\r\nhello");
    assert_eq!(
        finals,
        ["250 2.0.0 OK\r\n", &format!("{FULL}\r\n"), "250 2.0.0 OK\r\n"]
    );
    assert_eq!(client.code("QUIT"), 221);
    let mut printed = Vec::new();
    for _ in 0..20 {
        let mut line = String::new();
        if binary.stdout.read_line(&mut line).expect("stdout") == 0 {
            break;
        }
        let end = line.starts_with("------------ END MESSAGE");
        printed.push(line);
        if end {
            break;
        }
    }
    assert_eq!(
        printed.concat(),
        "---------- MESSAGE FOLLOWS ----------\nSubject: from the CLI\nX-Peer: 127.0.0.1\n\nhello\n\
         ------------ END MESSAGE ------------\n"
    );
}
