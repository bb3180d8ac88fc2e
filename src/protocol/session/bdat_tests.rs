//! BDAT (RFC 3030) in the session, without a socket: every case run with
//! the input whole, a byte at a time, and read in place.

use super::test_driver::{self, proceed, Feed};
use super::*;

/// What a session answered to one input, and the messages it accepted.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    replies: Vec<String>,
    messages: Vec<Vec<u8>>,
}

/// The session's answers to `input` fed as `feed` says, as they go on the
/// wire, and the data of the messages it delivered.
fn run(config: &Config, input: &[u8], feed: Feed) -> Outcome {
    let outcome = test_driver::run(config, input, feed, &proceed);
    Outcome {
        replies: outcome.replies.iter().map(|text| wire(text)).collect(),
        messages: outcome.messages.into_iter().map(|message| message.data).collect(),
    }
}

/// A reply's text (lines joined by `\n`) in its wire form.
fn wire(text: &str) -> String {
    format!("{}\r\n", text.replace('\n', "\r\n"))
}

/// Runs `input` every way it can be fed; all must agree.
fn outcome(config: &Config, input: &[u8]) -> Outcome {
    let whole = run(config, input, Feed::Whole);
    for feed in [
        Feed::Pieces(1),
        Feed::InPlace(1),
        Feed::InPlace(3),
        Feed::InPlace(64),
    ] {
        assert_eq!(
            run(config, input, feed),
            whole,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
    whole
}

const START: &str = "EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";
const STARTED: [&str; 3] = [
    "250-localhost\r\n250-SIZE 33554432\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-DSN\r\n250-CHUNKING\r\n250-BINARYMIME\r\n250 HELP\r\n",
    "250 OK\r\n",
    "250 OK\r\n",
];

fn after_start(replies: &[&str]) -> Vec<String> {
    STARTED.iter().chain(replies).map(|r| r.to_string()).collect()
}

#[test]
fn chunks_make_one_message_without_dot_unstuffing() {
    let input = format!("{START}BDAT 7\r\nline\r\n.BDAT 7 LAST\r\n.\r\n..\r\nQUIT\r\n");
    let got = outcome(&Config::default(), input.as_bytes());
    assert_eq!(
        got.replies,
        after_start(&["250 OK 7 octets received\r\n", "250 OK\r\n", "221 Bye\r\n"])
    );
    assert_eq!(got.messages, [b"line\r\n..\r\n..\r\n".to_vec()]);
}

/// The input after the transaction opened, the replies, the messages.
type Case = (&'static [u8], &'static [&'static str], &'static [&'static [u8]]);

#[test]
fn bdat_cases() {
    let config = Config::default();
    let cases: &[Case] = &[
        // A zero-length last chunk ends the message.
        (
            b"BDAT 3\r\nabcBDAT 0 LAST\r\n",
            &["250 OK 3 octets received\r\n", "250 OK\r\n"],
            &[b"abc"],
        ),
        (b"BDAT 0 LAST\r\n", &["250 OK\r\n"], &[b""]),
        (
            b"BDAT 0\r\nBDAT 2 last\r\nxy",
            &["250 OK 0 octets received\r\n", "250 OK\r\n"],
            &[b"xy"],
        ),
        // Binary bytes, and what looks like commands, are content.
        (b"BDAT 4 LAST\r\n\0\xff\r\n", &["250 OK\r\n"], &[b"\0\xff\r\n"]),
        (
            b"BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n",
            &["250 OK\r\n", "250 OK\r\n"],
            &[b"QUIT\r\n"],
        ),
        // After LAST the transaction is over.
        (
            b"BDAT 1 LAST\r\nxBDAT 1\r\ny",
            &["250 OK\r\n", "503 Error: need MAIL command\r\n"],
            &[b"x"],
        ),
        // Syntax: no size means no chunk; a bad word after the size reads the chunk.
        (
            b"BDAT\r\nNOOP\r\n",
            &["501 Syntax: BDAT <size> [LAST]\r\n", "250 OK\r\n"],
            &[],
        ),
        (
            b"BDAT x\r\nNOOP\r\n",
            &["501 Syntax: BDAT <size> [LAST]\r\n", "250 OK\r\n"],
            &[],
        ),
        (
            b"BDAT 4 END\r\nNOOPBDAT 2 LAST\r\nok",
            &["501 Syntax: BDAT <size> [LAST]\r\n", "250 OK\r\n"],
            &[b"ok"],
        ),
        // DATA and BDAT do not mix; RCPT waits for the next transaction.
        (
            b"BDAT 1\r\nxDATA\r\nRCPT TO:<c@example.com>\r\nBDAT 1 LAST\r\ny",
            &[
                "250 OK 1 octets received\r\n",
                "503 Error: the message is being sent with BDAT\r\n",
                "503 Error: the message is being sent with BDAT\r\n",
                "250 OK\r\n",
            ],
            &[b"xy"],
        ),
        // RSET between chunks drops what came.
        (
            b"BDAT 2\r\nabRSET\r\nBDAT 1 LAST\r\nc",
            &[
                "250 OK 2 octets received\r\n",
                "250 OK\r\n",
                "503 Error: need MAIL command\r\n",
            ],
            &[],
        ),
    ];
    for (tail, replies, messages) in cases {
        let input = [START.as_bytes(), tail].concat();
        let got = outcome(&config, &input);
        let tail = String::from_utf8_lossy(tail);
        assert_eq!(got.replies, after_start(replies), "{tail:?}");
        assert_eq!(got.messages, *messages, "{tail:?}");
    }
}

#[test]
fn the_size_limit_counts_every_chunk() {
    let config = Config {
        data_size_limit: 10,
        ..Config::default()
    };
    let start = START.to_string();
    // 6 + 4 fit; one more byte is too much: 552 after the chunk that crosses
    // the limit, and the transaction is over.
    let fits = format!("{start}BDAT 6\r\n123456BDAT 4 LAST\r\n7890");
    assert_eq!(
        outcome(&config, fits.as_bytes()).messages,
        [b"1234567890".to_vec()]
    );
    let over = format!("{start}BDAT 6\r\n123456BDAT 5\r\n7890xBDAT 1 LAST\r\nyNOOP\r\n");
    let got = outcome(&config, over.as_bytes());
    assert_eq!(got.messages, Vec::<Vec<u8>>::new());
    assert_eq!(
        &got.replies[3..],
        [
            "250 OK 6 octets received\r\n",
            "552 Error: Too much mail data\r\n",
            "503 Error: need MAIL command\r\n",
            "250 OK\r\n"
        ]
    );
    // A chunk announced far past the limit is read and dropped as it comes.
    let huge = format!("{start}BDAT 100000 LAST\r\n{}NOOP\r\n", "z".repeat(100_000));
    let mut session = Session::new(Arc::new(config.clone()), 1, "127.0.0.1:2525".parse().unwrap());
    let _ = session.start();
    let mut input = huge.as_bytes();
    let mut replies = Vec::new();
    while !input.is_empty() {
        let take = input.len().min(4096);
        let mut offered = &input[..take];
        while !offered.is_empty() {
            let progress = session.receive(offered);
            let mut step = progress.step;
            while let Some(current) = step.take() {
                match current {
                    Step::Ask => step = Some(session.resolve(Decision::Proceed)),
                    Step::Reply(reply) => replies.push(reply.code()),
                    _ => {}
                }
            }
            if progress.used == 0 {
                break;
            }
            assert!(session.data_buffer(0).is_none_or(|b| b.capacity() <= 4096 * 2));
            offered = &offered[progress.used..];
            input = &input[progress.used..];
        }
    }
    assert_eq!(replies, [220, 250, 250, 250, 552, 250], "the greeting first");
}

#[test]
fn binarymime_goes_with_bdat_only() {
    let config = Config::default();
    let mail = "EHLO c\r\nMAIL FROM:<a@example.com> BODY=BINARYMIME\r\nRCPT TO:<b@example.com>\r\n";
    let with_data = format!("{mail}DATA\r\n");
    let got = outcome(&config, with_data.as_bytes());
    assert_eq!(
        got.replies.last().unwrap(),
        "503 Error: BODY=BINARYMIME needs BDAT\r\n"
    );
    let with_bdat = format!("{mail}BDAT 3 LAST\r\n\0\x01\x02");
    assert_eq!(outcome(&config, with_bdat.as_bytes()).messages, [vec![0, 1, 2]]);
    // Without CHUNKING (or with decode_data) BINARYMIME is not offered.
    for config in [
        Config {
            chunking: false,
            ..Config::default()
        },
        Config {
            decode_data: true,
            ..Config::default()
        },
    ] {
        let got = outcome(&config, mail.as_bytes());
        let expected = if config.decode_data {
            // As in the reference: with decode_data, BODY is not known at all.
            "555 MAIL FROM parameters not recognized or not implemented\r\n"
        } else {
            "501 Error: BODY can only be one of 7BIT, 8BITMIME\r\n"
        };
        assert_eq!(got.replies[1], expected);
    }
}

#[test]
fn without_chunking_bdat_is_unknown() {
    let config = Config::default().with_reference_extensions();
    let input = format!("{START}BDAT 1 LAST\r\nHELP BDAT\r\n");
    let got = outcome(&config, input.as_bytes());
    assert_eq!(got.replies[3], "500 Error: command \"BDAT\" not recognized\r\n");
    assert!(
        got.replies[4].starts_with("501 Supported commands:"),
        "{:?}",
        got.replies[4]
    );
}

#[test]
fn decode_data_checks_chunked_text_too() {
    let config = Config {
        decode_data: true,
        ..Config::default()
    };
    let input = [START.as_bytes(), b"BDAT 2 LAST\r\n\xc3("].concat();
    let got = outcome(&config, &input);
    assert_eq!(got.replies[3], "554 Error: message data is not valid UTF-8\r\n");
}

/// Chunks that do not add to the message (issue 29).
#[path = "bdat_dropped_tests.rs"]
mod dropped;
