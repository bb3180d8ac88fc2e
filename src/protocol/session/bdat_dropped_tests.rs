//! BDAT chunks that do not add to the message (RFC 3030, 2): refused by
//! the server, answered by the handler in its place (a reply, raw bytes, a
//! faulty link), or sent in a session that serves only QUIT. Their octets
//! are data whatever the answer: read and dropped, never run as commands.
//! Every case is fed whole, a byte at a time and read in place.

use super::super::test_driver::{self, Feed};
use super::super::*;
use crate::protocol::command::Verb;

const SYNTAX: &str = "501 Syntax: BDAT <size> [LAST]";
const EHLO: &str = "250-localhost\n250-SIZE 33554432\n250-8BITMIME\n250-PIPELINING\n250-DSN\n250-CHUNKING\n250-BINARYMIME\n250 HELP";
const OPEN: &[u8] = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n";

/// Issue 29's reproducer: a bad word after the size, and a chunk of 34
/// bytes that reads as two commands.
const BAD_WORD: &[u8] = b"BDAT 34 LASTX\r\nRSET\r\nMAIL FROM:<x@evil.example>\r\nNOOP\r\n";
/// A chunk that reads as QUIT: run as a command, it ends the session.
const QUIT_CHUNK: &[u8] = b"BDAT 6\r\nQUIT\r\nNOOP\r\n";

struct Case {
    what: &'static str,
    /// The handler's answer to BDAT lines whose argument is this (`""`:
    /// every BDAT line); other questions proceed.
    bdat: Option<(&'static str, Decision)>,
    /// The handler's answer to the connection, in place of the greeting.
    connect: Option<Reply>,
    chunking: bool,
    /// Sent after EHLO, MAIL and RCPT (their replies are not compared).
    opened: bool,
    input: &'static [u8],
    /// Replies as the driver records them (raw bytes as sent).
    replies: &'static [&'static str],
    messages: &'static [&'static [u8]],
}

impl Case {
    fn new(what: &'static str, input: &'static [u8], replies: &'static [&'static str]) -> Case {
        Case {
            what,
            bdat: None,
            connect: None,
            chunking: true,
            opened: true,
            input,
            replies,
            messages: &[],
        }
    }

    fn bdat(mut self, arg: &'static str, decision: Decision) -> Case {
        self.bdat = Some((arg, decision));
        self
    }

    fn run(&self, feed: Feed) -> (Vec<String>, Vec<Vec<u8>>) {
        let config = Config {
            chunking: self.chunking,
            ..Config::default()
        };
        let answer = |question: &Question| match (question, &self.bdat) {
            (Question::Connect, _) => self.connect.clone().map_or(Decision::Proceed, Decision::Reply),
            (Question::Command(command), Some((arg, decision)))
                if command.verb() == Some(Verb::Bdat) && (arg.is_empty() || command.arg() == Some(arg)) =>
            {
                decision.clone()
            }
            _ => Decision::Proceed,
        };
        let input = if self.opened {
            [OPEN, self.input].concat()
        } else {
            self.input.to_vec()
        };
        let outcome = test_driver::run(&config, &input, feed, &answer);
        let skip = if self.opened { 3 } else { 0 };
        let messages = outcome.messages.into_iter().map(|m| m.data).collect();
        (outcome.replies[skip..].to_vec(), messages)
    }
}

fn refusal(code: u16, text: &str) -> Decision {
    Decision::Reply(Reply::new(code, text))
}

fn raw(bytes: &[u8]) -> Decision {
    Decision::Raw(bytes.to_vec())
}

fn throttled(decision: Decision) -> Decision {
    Decision::Fault(LinkFault::Throttle { bytes_per_second: 10 }, Box::new(decision))
}

#[test]
fn a_dropped_chunk_is_never_run_as_commands() {
    let cases = [
        Case::new(
            "issue 29: a rule's reply, a bad word after the size",
            BAD_WORD,
            &["550 5.7.1 no chunks", "250 OK"],
        )
        .bdat("", refusal(550, "5.7.1 no chunks")),
        Case::new(
            "a rule's reply to a valid line",
            QUIT_CHUNK,
            &["550 5.7.1 no chunks", "250 OK"],
        )
        .bdat("", refusal(550, "5.7.1 no chunks")),
        Case::new(
            "a rule's reply to an empty chunk",
            b"BDAT 0 LASTX\r\nNOOP\r\n",
            &["550 no", "250 OK"],
        )
        .bdat("", refusal(550, "no")),
        Case::new(
            "a rule's reply to a line without a size: no chunk",
            b"BDAT x\r\nNOOP\r\n",
            &["550 no", "250 OK"],
        )
        .bdat("", refusal(550, "no")),
        Case::new(
            "a positive reply replaces the command too",
            b"BDAT 4 LAST\r\nRSETNOOP\r\n",
            &["250 fine", "250 OK"],
        )
        .bdat("", refusal(250, "fine")),
        Case::new(
            "the first of per-recipient replies",
            QUIT_CHUNK,
            &["452 one", "250 OK"],
        )
        .bdat(
            "",
            Decision::PerRecipient(vec![Reply::new(452, "one"), Reply::new(250, "two")]),
        ),
        Case::new("issue 29: raw bytes", QUIT_CHUNK, &["250 raw\r\n", "250 OK"])
            .bdat("", raw(b"250 raw\r\n")),
        Case::new(
            "raw bytes, a bad word after the size",
            b"BDAT 6 NOW\r\nQUIT\r\nNOOP\r\n",
            &["25", "250 OK"],
        )
        .bdat("", raw(b"25")),
        Case::new(
            "raw bytes, a line without a size",
            b"BDAT\r\nNOOP\r\n",
            &["25", "250 OK"],
        )
        .bdat("", raw(b"25")),
        Case::new("a throttled reply", BAD_WORD, &["452 later", "250 OK"])
            .bdat("", throttled(refusal(452, "later"))),
        Case::new("throttled raw bytes", QUIT_CHUNK, &["250 slow\r\n", "250 OK"])
            .bdat("", throttled(raw(b"250 slow\r\n"))),
        Case::new("a throttled normal answer", BAD_WORD, &[SYNTAX, "250 OK"])
            .bdat("", throttled(Decision::Proceed)),
        Case::new("a disconnect: nothing is read after it", QUIT_CHUNK, &["421 bye"])
            .bdat("", Decision::Disconnect(Some(Reply::new(421, "bye")))),
        Case::new("no rule: the server's 501", BAD_WORD, &[SYNTAX, "250 OK"]),
        Case::new(
            "a NUL after the size",
            b"BDAT 6 \0\r\nQUIT\r\nNOOP\r\n",
            &["500 Error: command line contains a NUL byte", "250 OK"],
        ),
        Case::new(
            "not UTF-8 after the size",
            b"BDAT 6 LAST\xff\r\nQUIT\r\nNOOP\r\n",
            &["500 Error: command line is not valid UTF-8", "250 OK"],
        ),
        Case::new(
            "a NUL in the size: no size, no chunk",
            b"BDAT 6\0\r\nNOOP\r\n",
            &["500 Error: command line contains a NUL byte", "250 OK"],
        ),
        Case {
            connect: Some(Reply::new(554, "5.3.2 not now")),
            opened: false,
            ..Case::new(
                "after a 554 greeting only QUIT is served",
                b"BDAT 6\r\nQUIT\r\nNOOP\r\nQUIT\r\n",
                &[
                    "503 Error: no service, send QUIT",
                    "503 Error: no service, send QUIT",
                    "221 Bye",
                ],
            )
        },
        Case {
            opened: false,
            ..Case::new(
                "no HELO",
                b"BDAT 4\r\nNOOPNOOP\r\n",
                &["503 Error: send HELO first", "250 OK"],
            )
        },
        Case {
            opened: false,
            ..Case::new(
                "no MAIL",
                b"EHLO c\r\nBDAT 4\r\nNOOPNOOP\r\n",
                &[EHLO, "503 Error: need MAIL command", "250 OK"],
            )
        },
        Case {
            opened: false,
            ..Case::new(
                "no RCPT",
                b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nBDAT 4 LAST\r\nNOOPNOOP\r\n",
                &[EHLO, "250 OK", "503 Error: need RCPT command", "250 OK"],
            )
        },
        Case {
            chunking: false,
            ..Case::new(
                "without CHUNKING, BDAT is unknown and what follows is commands",
                QUIT_CHUNK,
                &["500 Error: command \"BDAT\" not recognized", "221 Bye"],
            )
        },
        Case {
            messages: &[b"abcde"],
            ..Case::new(
                "a dropped chunk leaves the message alone",
                b"BDAT 3\r\nabcBDAT 4 NOW\r\nRSETBDAT 2 LAST\r\nde",
                &["250 OK 3 octets received", "451 not now", "250 OK"],
            )
            .bdat("4 NOW", refusal(451, "not now"))
        },
    ];
    for case in &cases {
        for feed in [Feed::Whole, Feed::Pieces(1), Feed::InPlace(1), Feed::InPlace(5)] {
            let (replies, messages) = case.run(feed);
            assert_eq!(replies, case.replies, "{} ({feed:?})", case.what);
            assert_eq!(messages, case.messages, "{} ({feed:?})", case.what);
        }
    }
}

/// A refusal of a dropped chunk counts towards the limit of invalid
/// commands, once its bytes are read.
#[test]
fn a_dropped_chunk_is_read_before_too_many_errors_close() {
    let config = Config {
        max_invalid_commands: 1,
        ..Config::default()
    };
    let input = [OPEN, b"NOOP x\r\nBDAT 6 NOW\r\nQUIT\r\n"].concat();
    let outcome = test_driver::run(&config, &input, Feed::Pieces(1), &test_driver::proceed);
    assert_eq!(outcome.replies.len(), 5, "{:?}", outcome.replies);
    assert!(outcome.replies[4].starts_with("421"), "{:?}", outcome.replies);
}
