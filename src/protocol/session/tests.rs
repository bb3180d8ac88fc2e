//! Unit tests of the session that need its internals.

use super::test_driver::{lines_input, proceed, run, Feed};
use super::*;
use crate::protocol::command::Verb;
use crate::protocol::envelope::Envelope;

/// The replies to `lines` (after the greeting) from a session that
/// proceeds at every question, the input arriving `chunk` bytes at a time.
fn replies_chunked(config: Config, lines: &[&str], chunk: usize) -> Vec<String> {
    run(&config, &lines_input(lines), Feed::Pieces(chunk), &proceed).replies
}

fn replies(config: Config, lines: &[&str]) -> Vec<String> {
    run(&config, &lines_input(lines), Feed::Whole, &proceed).replies
}

#[test]
fn a_line_of_the_longest_length_may_arrive_in_pieces() {
    // 548 bytes: the reference's longest MAIL line with SIZE and SMTPUTF8
    // (DSN adds 78); its CR arriving alone must not make it "too long".
    let mail = format!("MAIL FROM:<{}@example>", "a".repeat(528));
    assert_eq!(mail.len(), 548);
    let too_long = format!("MAIL FROM:<{}@example>", "a".repeat(529));
    let config = Config {
        enable_smtputf8: true,
        dsn: false,
        ..Config::default()
    };
    for chunk in [1, 2, 3, 548, 549, 550, usize::MAX] {
        let replies = replies_chunked(config.clone(), &["EHLO x", &too_long, &mail], chunk);
        assert_eq!(replies[1..], ["500 Error: line too long", "250 OK"], "by {chunk}");
    }
}

#[test]
fn parameters_are_judged_in_the_reference_order() {
    let syntax = "501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]";
    let bad_body = "501 Error: BODY can only be one of 7BIT, 8BITMIME";
    let cases: &[(&[&str], &str)] = &[
        // Nested MAIL is checked before the parameters are read.
        (
            &["MAIL FROM:<a@b>", "MAIL FROM:<a@b> SIZE=abc"],
            "503 Error: nested MAIL command",
        ),
        (
            &["MAIL FROM:<a@b>", "MAIL FROM:<a@b> FOO="],
            "503 Error: nested MAIL command",
        ),
        // BODY, then SMTPUTF8, then SIZE, whatever their order on the line.
        (&["MAIL FROM:<a@b> SMTPUTF8=x BODY=bad"], bad_body),
        (&["MAIL FROM:<a@b> SIZE=abc BODY=bad"], bad_body),
        (
            &["MAIL FROM:<a@b> SIZE=abc SMTPUTF8=x"],
            "501 Error: SMTPUTF8 takes no arguments",
        ),
        (&["MAIL FROM:<a@b> FOO=bar SIZE=abc"], syntax),
        (&["MAIL FROM:<a@b> SIZE"], syntax),
        // A later duplicate wins, as in the reference's dict.
        (&["MAIL FROM:<a@b> BODY=bad BODY=7BIT"], "250 OK"),
        (&["MAIL FROM:<a@b> SIZE=abc SIZE=10"], "250 OK"),
        (&["MAIL FROM:<a@b> SIZE=10 SIZE=abc"], syntax),
        // SIZE is a MAIL parameter: RCPT does not know it at all.
        (
            &["MAIL FROM:<a@b>", "RCPT TO:<c@d> SIZE=abc"],
            "555 RCPT TO parameters not recognized or not implemented",
        ),
        (
            &["MAIL FROM:<a@b>", "RCPT TO:<c@d> SIZE"],
            "555 RCPT TO parameters not recognized or not implemented",
        ),
    ];
    for (lines, last) in cases {
        let config = Config {
            enable_smtputf8: true,
            // The reference's BODY reply names no BINARYMIME.
            chunking: false,
            ..Config::default()
        };
        let input: Vec<&str> = ["EHLO x"].iter().chain(lines.iter()).copied().collect();
        let replies = replies(config, &input);
        assert_eq!(
            replies.last().map(String::as_str),
            Some(*last),
            "{lines:?}: {replies:#?}"
        );
        assert_eq!(replies.len(), input.len(), "{lines:?}: {replies:#?}");
    }
}

#[test]
fn a_link_fault_wraps_the_step_its_decision_gives() {
    let config = Config {
        enhanced_status_codes: true,
        ..Config::default()
    };
    let mut session = Session::new(Arc::new(config), 1, "127.0.0.1:2525".parse().unwrap());
    let fault = LinkFault::Throttle { bytes_per_second: 5 };
    // The greeting: no status code is added inside the fault either.
    let greeting = session.resolve(Decision::Fault(fault, Box::new(Decision::Proceed)));
    let Step::Fault(got, step) = greeting else {
        panic!("{greeting:?}")
    };
    assert_eq!(got, fault);
    assert!(matches!(*step, Step::Reply(ref r) if r.code() == 220 && !r.to_string().contains("2.0.0")));
    // A refusal inside a fault is still a refusal, with its status code.
    assert_eq!(session.receive(b"NOOP\r\n").step, Some(Step::Ask));
    let refused = Decision::Fault(
        LinkFault::CutAfter { bytes: 2 },
        Box::new(Decision::Reply(Reply::new(550, "no"))),
    );
    let step = session.resolve(refused);
    assert_eq!(
        step,
        Step::Fault(
            LinkFault::CutAfter { bytes: 2 },
            Box::new(Step::Reply(Reply::new(550, "5.0.0 no")))
        )
    );
}

/// The replies to `lines`, and the envelope of the last message.
fn envelope_of(config: Config, lines: &[&str]) -> (Vec<String>, Option<Envelope>) {
    let outcome = run(&config, &lines_input(lines), Feed::Whole, &proceed);
    let envelope = outcome
        .messages
        .into_iter()
        .last()
        .map(|message| message.envelope);
    (outcome.replies, envelope)
}

#[test]
fn dsn_parameters_are_checked_and_kept_typed() {
    use crate::protocol::dsn::{Notify, OriginalRecipient, Return};
    let (replies, envelope) = envelope_of(
        Config::default(),
        &[
            "EHLO x",
            "MAIL FROM:<a@b> RET=hdrs ENVID=Id+2B42",
            "RCPT TO:<bob@b> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+40B",
            "RCPT TO:<cy@b>",
            "RCPT TO:<dee@b> NOTIFY=NEVER",
            "DATA",
            "Subject: dsn\r\n\r\n.",
        ],
    );
    assert!(
        replies
            .iter()
            .all(|r| r.starts_with("250") || r.starts_with("354")),
        "{replies:?}"
    );
    let envelope = envelope.expect("the message");
    assert_eq!(envelope.dsn.ret, Some(Return::Headers));
    assert_eq!(envelope.dsn.envid.as_deref(), Some("Id+42"), "decoded, case kept");
    assert_eq!(
        envelope.mail_options,
        ["RET=HDRS", "ENVID=ID+2B42"],
        "as the reference keeps them"
    );
    let bob = envelope.recipient_dsn("bob@b").expect("bob's request");
    assert_eq!(
        bob.notify,
        Some(Notify {
            success: true,
            failure: true,
            delay: false
        })
    );
    assert_eq!(
        bob.orcpt,
        Some(OriginalRecipient {
            addr_type: "rfc822".into(),
            address: "Bob@B".into()
        })
    );
    assert_eq!(envelope.recipient_dsn("cy@b"), None);
    assert!(envelope.recipient_dsn("dee@b").unwrap().notify.unwrap().never());
}

#[test]
fn bad_dsn_parameters_get_501_and_unknown_ones_555() {
    let dsn_refused = |detail: &str| format!("501 5.5.4 Invalid DSN parameter: {detail}");
    let cases: &[(&str, String)] = &[
        ("MAIL FROM:<a@b> RET=ALL", dsn_refused("RET must be FULL or HDRS")),
        (
            "MAIL FROM:<a@b> RET=FULL RET=HDRS",
            dsn_refused("RET given twice"),
        ),
        ("MAIL FROM:<a@b> ENVID=a=b", dsn_refused("ENVID is not xtext")),
        (
            "MAIL FROM:<a@b> X-NEW=1",
            "555 MAIL FROM parameters not recognized or not implemented".into(),
        ),
    ];
    for (line, expected) in cases {
        let (replies, _) = envelope_of(Config::default(), &["EHLO x", line]);
        assert_eq!(&replies[1], expected, "{line}");
    }
    let rcpt_cases: &[(&str, String)] = &[
        (
            "RCPT TO:<c@d> NOTIFY=NEVER,DELAY",
            dsn_refused("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY"),
        ),
        (
            "RCPT TO:<c@d> ORCPT=c@d",
            dsn_refused("ORCPT must be addr-type;xtext"),
        ),
        (
            "RCPT TO:<c@d> X-NEW=1",
            "555 RCPT TO parameters not recognized or not implemented".into(),
        ),
    ];
    for (line, expected) in rcpt_cases {
        let (replies, _) = envelope_of(Config::default(), &["EHLO x", "MAIL FROM:<a@b>", line]);
        assert_eq!(&replies[2], expected, "{line}");
    }
    // Without DSN, the reference's answer: not recognized.
    let off = Config {
        dsn: false,
        ..Config::default()
    };
    let (replies, _) = envelope_of(off.clone(), &["EHLO x", "MAIL FROM:<a@b> RET=FULL"]);
    assert_eq!(
        replies[1],
        "555 MAIL FROM parameters not recognized or not implemented"
    );
    let (replies, _) = envelope_of(off, &["EHLO x", "MAIL FROM:<a@b>", "RCPT TO:<c@d> NOTIFY=NEVER"]);
    assert_eq!(
        replies[2],
        "555 RCPT TO parameters not recognized or not implemented"
    );
}

#[test]
fn only_the_question_the_session_asked_can_be_answered() {
    let mut session = Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
    assert_eq!(session.question(), Some(&Question::Connect));
    // Input waits until the pending question is answered.
    let progress = session.receive(b"NOOP\r\n");
    assert_eq!((progress.used, progress.step), (0, Some(Step::Ask)));
    assert!(matches!(session.resolve(Decision::Proceed), Step::Reply(r) if r.code() == 220));
    // Nothing asked: nothing to carry out, and no state changes.
    assert_eq!(session.question(), None);
    assert_eq!(session.resolve(Decision::Proceed), Step::Continue);
    assert_eq!(session.receive(b"DATA\r\n").step, Some(Step::Ask));
    assert!(matches!(session.question(), Some(Question::Command(c)) if c.verb() == Some(Verb::Data)));
    let refused = session.resolve(Decision::Proceed);
    assert!(
        matches!(refused, Step::Reply(ref r) if r.code() == 503),
        "{refused:?}"
    );
    assert_eq!(
        session.state(),
        State::Command,
        "DATA without a transaction stays refused"
    );
}

#[test]
fn starttls_is_offered_only_by_a_session_told_to() {
    let ehlo_lines = |session: Session| {
        let mut session = session;
        let _greeting = session.resolve(Decision::Proceed);
        let mut step = session.receive(b"EHLO x\r\n").step;
        while step == Some(Step::Ask) {
            step = Some(session.resolve(Decision::Proceed));
        }
        let Some(Step::Reply(reply)) = step else {
            panic!("{step:?}")
        };
        reply.lines().to_vec()
    };
    let new = || Session::new(Arc::new(Config::default()), 1, "127.0.0.1:2525".parse().unwrap());
    assert!(!ehlo_lines(new()).iter().any(|line| line == "STARTTLS"));
    assert!(!new().offers_starttls());
    let offering = new().offer_starttls();
    assert!(offering.offers_starttls());
    assert!(ehlo_lines(offering).iter().any(|line| line == "STARTTLS"));
    // Without the offer, STARTTLS is a command the server does not know.
    let replies = replies(Config::default(), &["EHLO x", "STARTTLS"]);
    assert_eq!(replies[1], "500 Error: command \"STARTTLS\" not recognized");
}

#[test]
fn a_nul_is_found_in_ascii_and_in_other_lines_and_other_bytes_pass() {
    let nul = "500 Error: command line contains a NUL byte";
    let cases = [
        ("NOOP\0", nul),
        ("\0NOOP", nul),
        ("NO\0OP é", nul),
        ("VRFY é\0", nul),
        ("NOOP \x7f", "501 Syntax: NOOP"),
        ("NOOP \x01", "501 Syntax: NOOP"),
        ("NOOP é", "501 Syntax: NOOP"),
    ];
    for (line, reply) in cases {
        assert_eq!(replies(Config::default(), &[line]), [reply], "{line:?}");
    }
}
