//! LMTP against the session, no socket: LHLO against HELO/EHLO, and the
//! final replies per recipient.

use crate::protocol::session::test_driver::{self, lines_input, proceed, Feed};
use crate::protocol::{Config, Decision, Message, Question, Reply};

fn lmtp() -> Config {
    Config {
        lmtp: true,
        ..Config::default()
    }
}

/// Feeds `lines` (CRLF added) to a session `chunk` bytes at a time;
/// `answer` decides every question. Returns each reply after the greeting
/// as text, and the messages delivered.
fn run_chunked(
    config: Config,
    lines: &[&str],
    chunk: usize,
    answer: &dyn Fn(&Question) -> Decision,
) -> (Vec<String>, Vec<Message>) {
    let outcome = test_driver::run(&config, &lines_input(lines), Feed::Pieces(chunk), answer);
    (outcome.replies, outcome.messages)
}

fn run(
    config: Config,
    lines: &[&str],
    answer: &dyn Fn(&Question) -> Decision,
) -> (Vec<String>, Vec<Message>) {
    run_chunked(config, lines, usize::MAX, answer)
}

/// The answer of the last line alone.
fn last_reply(config: Config, lines: &[&str]) -> String {
    let (replies, _) = run(config, lines, &proceed);
    replies.last().cloned().unwrap_or_default()
}

#[test]
fn lhlo_greets_in_lmtp_and_helo_and_ehlo_get_500() {
    let smtp = Config::default;
    let cases: &[(Config, &[&str], &str)] = &[
        (
            lmtp(),
            &["HELO x"],
            "500 5.5.2 Error: this is an LMTP server, send LHLO instead of HELO",
        ),
        (
            lmtp(),
            &["EHLO x"],
            "500 5.5.2 Error: this is an LMTP server, send LHLO instead of EHLO",
        ),
        (
            lmtp(),
            &["ehlo x"],
            "500 5.5.2 Error: this is an LMTP server, send LHLO instead of EHLO",
        ),
        (lmtp(), &["LHLO"], "501 5.5.4 Syntax: LHLO hostname"),
        (lmtp(), &["LHLO x", "LHLO y"], "503 5.5.1 Duplicate HELO/EHLO"),
        (
            lmtp(),
            &["LHLO x", "EHLO y"],
            "500 5.5.2 Error: this is an LMTP server, send LHLO instead of EHLO",
        ),
        (lmtp(), &["MAIL FROM:<a@b>"], "503 5.5.1 Error: send LHLO first"),
        (lmtp(), &["RCPT TO:<a@b>"], "503 5.5.1 Error: send LHLO first"),
        (lmtp(), &["DATA"], "503 5.5.1 Error: send LHLO first"),
        (
            lmtp(),
            &["HELO x", "MAIL FROM:<a@b>"],
            "503 5.5.1 Error: send LHLO first",
        ),
        (lmtp(), &["LHLO x", "MAIL FROM:<a@b> SIZE=10"], "250 2.0.0 OK"),
        (
            lmtp(),
            &["HELP"],
            "250 2.0.0 Supported commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY",
        ),
        (lmtp(), &["HELP LHLO"], "250 2.0.0 Syntax: LHLO hostname"),
        (
            lmtp(),
            &["HELP EHLO"],
            "501 5.5.4 Supported commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY",
        ),
        (
            lmtp(),
            &["HELP NOSUCH"],
            "501 5.5.4 Supported commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY",
        ),
        // SMTP does not know LHLO at all, as before.
        (smtp(), &["LHLO x"], "500 Error: command \"LHLO\" not recognized"),
        (smtp(), &["HELO x"], "250 localhost"),
        (
            smtp(),
            &["HELP LHLO"],
            "501 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY",
        ),
        (smtp(), &["MAIL FROM:<a@b>"], "503 Error: send HELO first"),
    ];
    for (config, lines, expected) in cases {
        assert_eq!(
            last_reply(config.clone(), lines),
            *expected,
            "{lines:?}, lmtp {}",
            config.lmtp
        );
    }
}

#[test]
fn the_lhlo_reply_is_the_ehlo_list_with_what_lmtp_requires() {
    let config = Config {
        pipelining: false,
        hostname: "lmtp.test".into(),
        ..lmtp()
    };
    let (replies, _) = run(config, &["LHLO client"], &proceed);
    assert_eq!(
        replies[0],
        "250-lmtp.test\n250-SIZE 33554432\n250-8BITMIME\n250-PIPELINING\n250-DSN\n\
         250-CHUNKING\n250-BINARYMIME\n250-ENHANCEDSTATUSCODES\n250 HELP"
    );
    // The handler hears LHLO as an extended greeting.
    let (replies, _) = run(
        lmtp(),
        &["LHLO client", "MAIL FROM:<a@b>", "RCPT TO:<c@d> NOTIFY=NEVER"],
        &|q| {
            if let Question::Helo { name, extended } = q {
                assert!(*extended && name == "client");
            }
            Decision::Proceed
        },
    );
    assert_eq!(
        replies[2], "250 2.0.0 OK",
        "ESMTP parameters are allowed after LHLO"
    );
}

const A_B_C: &[&str] = &[
    "LHLO x",
    "MAIL FROM:<s@example.com>",
    "RCPT TO:<a@example.com>",
    "RCPT TO:<b@example.com> NOTIFY=NEVER",
    "RCPT TO:<c@example.com> NOTIFY=SUCCESS",
    "DATA",
    "Subject: hi\r\n\r\nhello\r\n.",
];

fn full() -> Reply {
    Reply::new(452, "4.2.2 Mailbox full")
}

#[test]
fn the_final_dot_gets_one_reply_per_recipient_in_rcpt_order() {
    let ok = "250 2.0.0 OK";
    let full_text = "452 4.2.2 Mailbox full";
    type Answer = Box<dyn Fn(&Question) -> Decision>;
    let at_message = |decision: fn() -> Decision| -> Answer {
        Box::new(move |q| match q {
            Question::Message(_) => decision(),
            _ => Decision::Proceed,
        })
    };
    let cases: Vec<(&str, Answer, Vec<&str>, Vec<&str>)> = vec![
        (
            "proceed",
            Box::new(proceed),
            vec![ok, ok, ok],
            vec!["a", "b", "c"],
        ),
        (
            "one reply for all",
            at_message(|| Decision::Reply(Reply::new(250, "2.1.5 Delivered"))),
            vec!["250 2.1.5 Delivered"; 3],
            vec!["a", "b", "c"],
        ),
        (
            "one refusal for all",
            at_message(|| Decision::Reply(full())),
            vec![full_text; 3],
            vec![],
        ),
        (
            "b refused",
            at_message(|| Decision::Proceed.with_recipient_reply(3, 1, full())),
            vec![ok, full_text, ok],
            vec!["a", "c"],
        ),
        (
            "a short list: the rest get 250",
            at_message(|| Decision::PerRecipient(vec![full()])),
            vec![full_text, ok, ok],
            vec!["b", "c"],
        ),
        (
            "a long list: the extra replies are dropped",
            at_message(|| Decision::PerRecipient(vec![Reply::new(250, "OK"); 5])),
            vec![ok, ok, ok],
            vec!["a", "b", "c"],
        ),
        (
            "all refused, each its own way",
            at_message(|| {
                Decision::PerRecipient(vec![
                    Reply::new(550, "5.1.1 No such user"),
                    full(),
                    Reply::new(451, "Later"),
                ])
            }),
            vec!["550 5.1.1 No such user", full_text, "451 4.3.0 Later"],
            vec![],
        ),
        (
            "b refused at RCPT: two final replies",
            Box::new(|q: &Question| match q {
                Question::Rcpt { address, .. } if address == "b@example.com" => {
                    Decision::Reply(Reply::new(550, "5.1.1 No such user"))
                }
                _ => Decision::Proceed,
            }),
            vec![ok, ok],
            vec!["a", "c"],
        ),
    ];
    for (name, answer, finals, delivered_to) in cases {
        let (replies, delivered) = run(lmtp(), A_B_C, &*answer);
        let data = replies.iter().position(|r| r.starts_with("354")).expect("354");
        assert_eq!(replies[data + 1..], finals, "{name}");
        let rcpt_to: Vec<String> = delivered_to.iter().map(|r| format!("{r}@example.com")).collect();
        match delivered.as_slice() {
            [] => assert!(delivered_to.is_empty(), "{name}: nothing delivered"),
            [message] => assert_eq!(message.envelope.rcpt_to, rcpt_to, "{name}"),
            more => panic!("{name}: {} messages", more.len()),
        }
    }
}

#[test]
fn a_partial_delivery_keeps_only_the_accepted_recipients_parameters() {
    let answer = |q: &Question| match q {
        Question::Message(_) => Decision::Proceed.with_recipient_reply(3, 1, full()),
        _ => Decision::Proceed,
    };
    let (_, delivered) = run(lmtp(), A_B_C, &answer);
    let envelope = &delivered[0].envelope;
    assert_eq!(envelope.rcpt_to, ["a@example.com", "c@example.com"]);
    assert_eq!(envelope.rcpt_options, ["NOTIFY=SUCCESS"]);
    assert_eq!(envelope.rcpt_dsn.len(), 1);
    assert!(envelope.recipient_dsn("c@example.com").is_some());
    assert!(envelope.recipient_dsn("b@example.com").is_none());
    assert_eq!(delivered[0].data, b"Subject: hi\r\n\r\nhello\r\n");
}

#[test]
fn smtp_gives_per_recipient_answers_one_reply() {
    let cases: &[(Vec<Reply>, &str, bool)] = &[
        (
            vec![Reply::new(250, "OK"), full(), Reply::new(250, "OK")],
            "452 4.2.2 Mailbox full",
            false,
        ),
        (
            vec![Reply::new(250, "first"), Reply::new(251, "second")],
            "250 first",
            true,
        ),
        (vec![], "250 OK", true),
    ];
    let lines: Vec<&str> = ["EHLO x"].into_iter().chain(A_B_C[1..].iter().copied()).collect();
    for (answers, expected, delivered_any) in cases {
        let answer = |q: &Question| match q {
            Question::Message(_) => Decision::PerRecipient(answers.clone()),
            _ => Decision::Proceed,
        };
        let (replies, delivered) = run(Config::default(), &lines, &answer);
        assert_eq!(replies.last().map(String::as_str), Some(*expected), "{answers:?}");
        assert_eq!(replies.len(), lines.len(), "one reply per command");
        assert_eq!(!delivered.is_empty(), *delivered_any, "{answers:?}");
        if let Some(message) = delivered.first() {
            assert_eq!(message.envelope.rcpt_to.len(), 3, "SMTP delivers to all or none");
        }
    }
    // To any other question the first reply counts.
    let (replies, _) = run(Config::default(), &["NOOP"], &|_| {
        Decision::PerRecipient(vec![Reply::new(250, "first"), Reply::new(550, "second")])
    });
    assert_eq!(replies, ["250 first"]);
}

#[test]
fn the_servers_own_refusals_of_the_message_go_to_every_recipient() {
    let small = Config {
        data_size_limit: 10,
        ..lmtp()
    };
    let (replies, delivered) = run(small, A_B_C, &proceed);
    assert_eq!(
        replies[replies.len() - 3..],
        ["552 5.3.4 Error: Too much mail data"; 3]
    );
    assert!(delivered.is_empty());
    let text_only = Config {
        decode_data: true,
        ..lmtp()
    };
    // A 0xff byte is not UTF-8 (the lines above are text: feed bytes).
    let mut input = lines_input(&A_B_C[..6]);
    input.extend_from_slice(b"\xff\r\n.\r\n");
    let outcome = test_driver::run(&text_only, &input, Feed::Whole, &proceed);
    assert!(outcome.messages.is_empty());
    let finals = &outcome.replies[6..];
    assert_eq!(finals.len(), 3, "{finals:?}");
    assert!(finals.iter().all(|r| r.starts_with("554")), "{finals:?}");
}

#[test]
fn pipelined_lmtp_gets_the_same_replies_in_any_chunking() {
    let mut lines = A_B_C.to_vec();
    lines.extend([
        "MAIL FROM:<s@example.com>",
        "RCPT TO:<d@example.com>",
        "DATA",
        "second\r\n.",
        "QUIT",
    ]);
    let answer = |q: &Question| match q {
        Question::Message(message) if message.rcpt_tos().len() == 3 => {
            Decision::Proceed.with_recipient_reply(3, 2, full())
        }
        _ => Decision::Proceed,
    };
    let (whole, delivered) = run(lmtp(), &lines, &answer);
    assert_eq!(delivered.len(), 2);
    assert_eq!(
        whole[5..],
        [
            "354 End data with <CR><LF>.<CR><LF>",
            "250 2.0.0 OK",
            "250 2.0.0 OK",
            "452 4.2.2 Mailbox full",
            "250 2.0.0 OK",
            "250 2.0.0 OK",
            "354 End data with <CR><LF>.<CR><LF>",
            "250 2.0.0 OK",
            "221 2.0.0 Bye",
        ]
    );
    for chunk in [1, 2, 7, 64] {
        let (replies, delivered) = run_chunked(lmtp(), &lines, chunk, &answer);
        assert_eq!(replies, whole, "by {chunk}");
        assert_eq!(delivered.len(), 2, "by {chunk}");
    }
}

#[test]
fn handler_hooks_decide_per_recipient() {
    let decision = Decision::Reply(Reply::new(250, "2.0.0 Queued"));
    assert!(decision.goes_per_recipient());
    let per = decision.with_recipient_reply(2, 0, full());
    assert_eq!(
        per,
        Decision::PerRecipient(vec![full(), Reply::new(250, "2.0.0 Queued")])
    );
    assert_eq!(per.clone().combined(), Decision::Reply(full()));
    assert_eq!(per.recipient_replies(3).map(|r| r.len()), Some(3));
    for refusing in [
        Decision::Reply(full()),
        Decision::Disconnect(None),
        Decision::Raw(b"25".to_vec()),
    ] {
        assert!(!refusing.goes_per_recipient(), "{refusing:?}");
        assert_eq!(
            refusing.clone().with_recipient_reply(2, 0, Reply::new(250, "OK")),
            refusing
        );
    }
    let cut = Decision::Fault(crate::protocol::LinkFault::Reset, Box::new(Decision::Proceed));
    assert!(cut.goes_per_recipient());
    assert_eq!(cut.recipient_replies(2), None, "a reset sends no reply");
}

#[test]
fn an_oversized_last_chunk_is_refused_once_per_recipient() {
    let small = Config {
        data_size_limit: 10,
        ..lmtp()
    };
    let mut last = A_B_C[..5].to_vec();
    last.push("BDAT 11 LAST\r\nhello worldNOOP");
    let (replies, delivered) = run(small.clone(), &last, &proceed);
    assert!(delivered.is_empty());
    let too_much = "552 5.3.4 Error: Too much mail data";
    assert_eq!(
        replies[5..],
        [too_much, too_much, too_much, "250 2.0.0 OK"],
        "{replies:#?}"
    );
    // A chunk before the last gets one reply, as any BDAT that is not LAST.
    let mut early = A_B_C[..5].to_vec();
    early.push("BDAT 11\r\nhello worldNOOP");
    let (replies, _) = run(small, &early, &proceed);
    assert_eq!(replies[5..], [too_much, "250 2.0.0 OK"], "{replies:#?}");
}
