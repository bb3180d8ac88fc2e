//! Hostile and broken input over real sockets, against the in-process
//! server and the command line: every case gets the expected replies, and
//! the session still works afterwards (a NOOP gets 250) unless the case
//! closes it.

use std::net::SocketAddr;

use smtp_fixture::TestSmtpServer;
#[cfg(feature = "cli")]
use support::Binary;
use support::Client;

use crate::support;

/// Bytes to send in separate writes, then the reply codes expected.
struct Step {
    writes: Vec<Vec<u8>>,
    codes: Vec<u16>,
}

struct Case {
    name: &'static str,
    steps: Vec<Step>,
    /// The server closes the session at the end of the case.
    closes: bool,
}

fn step(writes: &[&[u8]], codes: &[u16]) -> Step {
    Step {
        writes: writes.iter().map(|w| w.to_vec()).collect(),
        codes: codes.to_vec(),
    }
}

fn line(text: &str) -> Step {
    // Convenience for one command whose reply code is given after `=>`.
    let (command, code) = text.rsplit_once(" => ").expect("COMMAND => CODE");
    step(
        &[format!("{command}\r\n").as_bytes()],
        &[code.parse().expect("a code")],
    )
}

fn helo() -> Step {
    line("HELO client => 250")
}
fn ehlo() -> Step {
    line("EHLO client => 250")
}
fn mail() -> Step {
    line("MAIL FROM:<a@example.com> => 250")
}
fn rcpt() -> Step {
    line("RCPT TO:<b@example.com> => 250")
}
fn data() -> Step {
    line("DATA => 354")
}
fn transaction() -> Vec<Step> {
    vec![helo(), mail(), rcpt(), data()]
}

fn repeat(prefix: &str, fill: u8, count: usize) -> Vec<u8> {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend(std::iter::repeat_n(fill, count));
    bytes
}

fn with_crlf(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.extend_from_slice(b"\r\n");
    bytes
}

fn case(name: &'static str, steps: Vec<Step>) -> Case {
    Case {
        name,
        steps,
        closes: false,
    }
}

/// The table; the server runs with a 100-byte message limit (`-s 100`).
fn cases() -> Vec<Case> {
    let then = |mut first: Vec<Step>, rest: Vec<Step>| {
        first.extend(rest);
        first
    };
    let tls_client_hello: &[u8] =
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x00\x00\x20\xc0\x2b\xc0\x2f\x00\x9e";
    vec![
        // Bytes that are not text.
        case("NUL in a command", vec![step(&[b"NO\0OP\r\n"], &[500])]),
        case("NUL alone", vec![step(&[b"\0\r\n"], &[500])]),
        case("NUL in an address", vec![ehlo(), step(&[b"MAIL FROM:<a\0b@example.com>\r\n"], &[500])]),
        case("invalid UTF-8 command", vec![step(&[b"\xff\xfe\r\n"], &[500])]),
        case("invalid UTF-8 in HELO", vec![step(&[b"HELO \xc3\x28\r\n"], &[500])]),
        case("invalid UTF-8 in MAIL", vec![ehlo(), step(&[b"MAIL FROM:<\xe9@example.com>\r\n"], &[500])]),
        case("invalid UTF-8 in RCPT", vec![ehlo(), mail(), step(&[b"RCPT TO:<\xff@example.com>\r\n"], &[500])]),
        case("invalid UTF-8 in DATA", then(transaction(), vec![step(&[b"\xff\xfe\r\n.\r\n"], &[250])])),
        case("a UTF-8 unknown verb", vec![line("ÜBER alles => 500")]),
        // Line lengths: 512 is the limit, CRLF excluded.
        case("a 512-byte line", vec![step(&[&with_crlf(repeat("VRFY ", b'a', 507))], &[252])]),
        case("a 513-byte line", vec![step(&[&with_crlf(repeat("VRFY ", b'a', 508))], &[500])]),
        case("a 1001-byte line", vec![step(&[&with_crlf(repeat("VRFY ", b'a', 996))], &[500])]),
        case("a 100 000-byte line", vec![step(&[&with_crlf(repeat("NOOP ", b'a', 99_995))], &[500])]),
        case("a long line in pieces", {
            let piece = repeat("", b'a', 1000);
            vec![step(&[b"VRFY ", &piece, &piece, &piece, b"\r\n"], &[500])]
        }),
        case("MAIL with SIZE allowance", vec![ehlo(), step(&[&with_crlf(repeat("MAIL FROM:<a@example.com> SIZE=1", b'0', 2).into_iter().chain(repeat(" ", b' ', 480)).collect())], &[250])]),
        case("MAIL over its allowance", vec![ehlo(), step(&[&with_crlf(repeat("MAIL FROM:<a@example.com> X=", b'b', 600))], &[500])]),
        // SIZE.
        case("SIZE of 2 GiB", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE=2147483648 => 552")]),
        case("SIZE beyond u64", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE=99999999999999999999999 => 552")]),
        case("negative SIZE", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE=-1 => 501")]),
        case("garbage SIZE", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE=abc => 501")]),
        case("empty SIZE", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE= => 501")]),
        case("SIZE without a value", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE => 501")]),
        case("SIZE at the limit", vec![ehlo(), line("MAIL FROM:<a@example.com> SIZE=100 => 250")]),
        // Line endings in commands.
        case("bare CR inside a command", vec![step(&[b"NOOP\rNOOP\r\n"], &[500])]),
        case("bare LF inside a command", vec![step(&[b"NOOP\nNOOP\r\n"], &[500])]),
        case("CR LF split across writes", vec![step(&[b"NOOP\r", b"\n"], &[250])]),
        case("one byte per write", vec![step(&[b"N", b"O", b"O", b"P", b"\r", b"\n"], &[250])]),
        case("CR CR LF", vec![step(&[b"\r\r\n"], &[500])]),
        case("an empty line", vec![step(&[b"\r\n"], &[500])]),
        case("only spaces", vec![step(&[b"   \r\n"], &[500])]),
        // Every command before HELO, and other sequence errors.
        case("MAIL before HELO", vec![line("MAIL FROM:<a@example.com> => 503")]),
        case("RCPT before HELO", vec![line("RCPT TO:<b@example.com> => 503")]),
        case("DATA before HELO", vec![line("DATA => 503")]),
        case("RSET before HELO", vec![line("RSET => 250")]),
        case("NOOP before HELO", vec![line("NOOP => 250")]),
        case("VRFY before HELO", vec![line("VRFY someone => 252")]),
        case("HELP before HELO", vec![line("HELP => 250")]),
        case("EXPN before HELO", vec![line("EXPN list => 502")]),
        Case { name: "QUIT before HELO", steps: vec![line("QUIT => 221")], closes: true },
        case("nested MAIL", vec![helo(), mail(), line("MAIL FROM:<c@example.com> => 503")]),
        case("DATA without RCPT", vec![helo(), mail(), line("DATA => 503")]),
        case("RCPT without MAIL", vec![helo(), line("RCPT TO:<b@example.com> => 503")]),
        case("duplicate HELO", vec![helo(), line("HELO again => 503")]),
        case("EHLO after HELO", vec![helo(), line("EHLO again => 503")]),
        // Syntax errors.
        case("HELO without a name", vec![line("HELO => 501")]),
        case("EHLO without a name", vec![line("EHLO => 501")]),
        case("NOOP with an argument", vec![line("NOOP now => 501")]),
        case("RSET with an argument", vec![line("RSET all => 501")]),
        case("VRFY without an argument", vec![line("VRFY => 501")]),
        case("VRFY of garbage", vec![line("VRFY << => 502")]),
        case("HELP for an unknown verb", vec![line("HELP SPAM => 501")]),
        case("MAIL without a colon", vec![helo(), line("MAIL FROM a@example.com => 501")]),
        case("MAIL parameters after HELO", vec![helo(), line("MAIL FROM:<a@example.com> SIZE=10 => 501")]),
        case("MAIL with an unclosed path", vec![ehlo(), line("MAIL FROM:<a@example.com => 501")]),
        case("MAIL with a space in the path", vec![ehlo(), line("MAIL FROM:<a b@example.com> => 501")]),
        case("MAIL with an unknown parameter", vec![ehlo(), line("MAIL FROM:<a@example.com> X-FOO=1 => 555")]),
        case("an unknown BODY", vec![ehlo(), line("MAIL FROM:<a@example.com> BODY=QUOTED => 501")]),
        case("SMTPUTF8 when not enabled", vec![ehlo(), line("MAIL FROM:<a@example.com> SMTPUTF8 => 555")]),
        case("UTF-8 address without SMTPUTF8", vec![ehlo(), line("MAIL FROM:<ü@example.com> => 553")]),
        case("the null sender", vec![ehlo(), line("MAIL FROM:<> => 250")]),
        case("the null recipient", vec![ehlo(), mail(), line("RCPT TO:<> => 501")]),
        case("RCPT with an unknown parameter", vec![ehlo(), mail(), line("RCPT TO:<b@example.com> X-UNKNOWN=1 => 555")]),
        case("RCPT with a bad DSN parameter", vec![ehlo(), mail(), line("RCPT TO:<b@example.com> NOTIFY=NEVER,DELAY => 501")]),
        case("MAIL with a bad DSN parameter", vec![ehlo(), line("MAIL FROM:<a@example.com> RET=BOTH => 501")]),
        case("DATA with an argument", vec![helo(), mail(), rcpt(), line("DATA now => 501")]),
        case("lower-case commands", vec![line("helo client => 250"), line("mail from:<a@example.com> => 250")]),
        // DATA: nothing but CRLF.CRLF ends it (SMTP smuggling).
        case("LF . CRLF inside DATA", then(transaction(), vec![step(&[b"a\n.\r\nNOOP\r\n"], &[]), step(&[b".\r\n"], &[250])])),
        case("CR . CR inside DATA", then(transaction(), vec![step(&[b"a\r.\rNOOP\r\n"], &[]), step(&[b".\r\n"], &[250])])),
        case("LF . LF inside DATA", then(transaction(), vec![step(&[b"a\n.\nNOOP\r\n"], &[]), step(&[b".\r\n"], &[250])])),
        case("a dot line split across writes", then(transaction(), vec![step(&[b"a\r", b"\n", b".", b"\r", b"\n"], &[250])])),
        case("stuffed dots", then(transaction(), vec![step(&[b"..\r\n...\r\n.\r\n"], &[250])])),
        case("NUL bytes in the body", then(transaction(), vec![step(&[b"a\0b\r\n.\r\n"], &[250])])),
        case("an empty body", then(transaction(), vec![step(&[b".\r\n"], &[250])])),
        case("a body over the limit", then(transaction(), vec![step(&[&repeat("", b'x', 101), b"\r\n.\r\n"], &[552])])),
        case("a body far over the limit", then(transaction(), vec![step(&[&repeat("", b'x', 300_000), b"\r\n.\r\n"], &[552])])),
        case("after 552 the envelope is clean", then(transaction(), vec![step(&[&repeat("", b'x', 101), b"\r\n.\r\n"], &[552]), line("DATA => 503")])),
        case("a body at the limit", then(transaction(), vec![step(&[&repeat("", b'x', 100), b"\r\n.\r\n"], &[250])])),
        // BDAT (RFC 3030): every chunk announced is read, refused or not.
        // (A chunk that ends in ".\r\n" and gets 250 is a recorded message.)
        case("BDAT before HELO", vec![step(&[b"BDAT 4\r\nNOOP"], &[503])]),
        case("BDAT without MAIL", vec![ehlo(), step(&[b"BDAT 4 LAST\r\nNOOP"], &[503])]),
        case("BDAT without RCPT", vec![ehlo(), mail(), step(&[b"BDAT 4\r\nNOOP"], &[503])]),
        case("BDAT without a size", vec![ehlo(), mail(), rcpt(), line("BDAT => 501"), line("BDAT -1 LAST => 501")]),
        case("BDAT with an unknown word", vec![ehlo(), mail(), rcpt(), step(&[b"BDAT 4 NOW\r\nNOOP"], &[501])]),
        case("a BDAT chunk split across writes", vec![ehlo(), mail(), rcpt(), step(&[b"BDAT 7 LA", b"ST\r\nhi", b"\r\n", b".\r\n"], &[250])]),
        case("BDAT chunks past the limit", vec![ehlo(), mail(), rcpt(), step(&[b"BDAT 60\r\n", &[b'x'; 60]], &[250]), step(&[b"BDAT 41\r\n", &[b'x'; 41]], &[552]), step(&[b"BDAT 1 LAST\r\nx"], &[503])]),
        case("a BDAT chunk far past the limit", vec![ehlo(), mail(), rcpt(), step(&[b"BDAT 300000 LAST\r\n", &repeat("", b'x', 300_000)], &[552])]),
        case("DATA after BDAT", vec![ehlo(), mail(), rcpt(), step(&[b"BDAT 1\r\nx"], &[250]), line("DATA => 503")]),
        case("BINARYMIME with DATA", vec![ehlo(), line("MAIL FROM:<a@example.com> BODY=BINARYMIME => 250"), rcpt(), line("DATA => 503")]),
        // Floods and strangers.
        case("a pipelined transaction", vec![step(&[b"HELO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nRSET\r\n"], &[250, 250, 250, 354, 250, 250])]),
        case("10 000 pipelined NOOPs in one write", vec![step(&[&b"NOOP\r\n".repeat(10_000)], &[250; 10_000])]),
        case("an HTTP request", vec![step(&[b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"], &[500, 500, 500])]),
        case("a TLS ClientHello", vec![step(&[tls_client_hello, b"\r\n"], &[500])]),
        Case { name: "QUIT closes", steps: vec![helo(), line("QUIT => 221")], closes: true },
    ]
}

/// Runs every case against `addr`; returns the failures.
fn run_cases(addr: SocketAddr) -> Vec<String> {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(
        cases.len() >= 60,
        "the suite must keep at least 60 cases, has {}",
        cases.len()
    );
    for case in &cases {
        let mut client = Client::greeted(addr);
        let mut transcript = String::new();
        let mut failed = None;
        'steps: for step in &case.steps {
            for write in &step.writes {
                // Separate writes reach the server in separate reads.
                if step.writes.len() > 1 {
                    client.send_apart(write);
                } else {
                    client.send(write);
                }
            }
            for &code in &step.codes {
                match client.try_reply() {
                    Some(reply) if reply.starts_with(&code.to_string()) => {
                        if step.codes.len() < 20 {
                            transcript.push_str(&reply);
                        }
                    }
                    Some(reply) => {
                        failed = Some(format!("expected {code}, got {reply:?}"));
                        break 'steps;
                    }
                    None => {
                        failed = Some(format!("expected {code}, but the server closed the connection"));
                        break 'steps;
                    }
                }
            }
        }
        if failed.is_none() {
            if case.closes {
                if !client.closed() {
                    failed = Some("expected the server to close the session".to_string());
                }
            } else {
                client.send(b"NOOP\r\n");
                match client.try_reply() {
                    Some(reply) if reply.starts_with("250") => {}
                    other => failed = Some(format!("the session did not go on: NOOP got {other:?}")),
                }
            }
        }
        if let Some(problem) = failed {
            failures.push(format!(
                "{}: {problem}\n  replies so far:\n{transcript}",
                case.name
            ));
        }
    }
    failures
}

#[test]
fn every_bad_input_gets_its_reply_from_the_library_server() {
    let server = TestSmtpServer::builder().data_size_limit(100).start();
    let failures = run_cases(server.addr());
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Only the complete transactions were recorded.
    let expected = cases()
        .iter()
        .filter(|case| {
            case.steps
                .iter()
                .any(|s| s.codes.contains(&250) && s.writes.concat().ends_with(b".\r\n"))
        })
        .count()
        + 1; // the pipelined transaction
    assert_eq!(server.messages().len(), expected, "{server}");
}

#[cfg(not(feature = "cli"))]
#[test]
fn every_bad_input_gets_its_reply_from_the_command_line_skipped_without_feature_cli() {
    support::skip("the binary is built with feature `cli`; `cargo test --all-features` runs this test");
}

#[cfg(feature = "cli")]
#[test]
fn every_bad_input_gets_its_reply_from_the_command_line() {
    let binary = Binary::start(&["-c", "SmtpServer", "-s", "100"], &[]);
    let failures = run_cases(binary.addr());
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
