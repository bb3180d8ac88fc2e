//! Transcripts against the sans-I/O [`Session`], without a socket.
//!
//! Every behaviour of the reference's own test suite (Python 3.11,
//! `Lib/test/test_smtpd.py`) that shows on the wire is a row below, named
//! after the reference test it ports. Each row lists every reply after the
//! greeting (the reference's tests mostly look at the last one only) and
//! every message accepted. Every row is also replayed in many chunkings of
//! its input, and a property test cuts the input at random places: the
//! outcome must not depend on how the bytes arrive.
//!
//! Where this crate deviates from the reference on purpose, the row tests
//! our behaviour and says what the reference does (see `DEVIATIONS`).
//!
//! Not portable, because they do not show on the wire: `test_bad_state`
//! (sets an impossible internal state), `test_attribute_deprecations`,
//! `test_server_accept`, `test_broken_connect`, `TestFamilyDetection`,
//! `MiscTestCase` and `test_process_message_unimplemented` (our default
//! handler accepts instead of raising).

use std::net::SocketAddr;
use std::sync::Arc;

use proptest::prelude::*;
use smtp_fixture::handlers::DebuggingServer;
use smtp_fixture::protocol::{Config, ConfigError, Message};
use smtp_fixture::protocol::{Decision, Question, Session, Step};
use smtp_fixture::Reply;
use support::{expand, expand_str};

use crate::support;

const PEER: &str = "127.0.0.1:40000";
const HOSTNAME: &str = "fqdn.example";

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

/// The reference suite's `DummyServer.process_message`: `250 Okish` for the
/// data `return status`, `250 SMTPUTF8 message okish` for a transaction that
/// declared SMTPUTF8, else the normal `250 OK`.
fn dummy_status(message: &Message) -> Option<Reply> {
    if message.data == b"return status\r\n" {
        return Some(Reply::new(250, "Okish"));
    }
    if message.envelope.mail_options.iter().any(|o| o == "SMTPUTF8") {
        return Some(Reply::new(250, "SMTPUTF8 message okish"));
    }
    None
}

/// What a session did with some input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    greeting: String,
    /// Every reply after the greeting, in wire form (CRLF line endings).
    replies: Vec<String>,
    /// Messages that got a positive final reply.
    messages: Vec<Message>,
    /// The reverse path of the transaction still open at the end.
    open_mail_from: Option<String>,
    closed: bool,
}

/// Drives a [`Session`]: feeds bytes, answers every question with
/// [`Decision::Proceed`] (the message with [`dummy_status`]), and collects
/// replies and messages.
struct Driver {
    session: Session,
    pending: Vec<u8>,
    out: Outcome,
}

impl Driver {
    fn new(config: Config) -> Driver {
        let peer: SocketAddr = PEER.parse().unwrap();
        let session = Session::new(Arc::new(config), 1, peer);
        let start = session.start();
        let mut driver = Driver {
            session,
            pending: Vec::new(),
            out: Outcome {
                greeting: String::new(),
                replies: Vec::new(),
                messages: Vec::new(),
                open_mail_from: None,
                closed: false,
            },
        };
        driver.act(start);
        assert_eq!(driver.out.replies.len(), 1, "no greeting: {:?}", driver.out);
        driver.out.greeting = driver.out.replies.remove(0);
        driver
    }

    /// Feeds bytes as they might arrive from a socket, keeping what the
    /// session did not use for the next call.
    fn feed(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        // Every round uses at least one byte, or returns. A closed session
        // must take and ignore whatever comes.
        for _ in 0..self.pending.len() + 2 {
            let progress = self.session.receive(&self.pending);
            self.pending.drain(..progress.used);
            match progress.step {
                Some(step) => self.act(step),
                None if progress.used == 0 => return,
                None => {}
            }
        }
        panic!(
            "the session neither used the input nor asked for more: {:?}",
            self.out
        );
    }

    fn act(&mut self, mut step: Step) {
        // A step leads to a reply after a question or two.
        for _ in 0..8 {
            match step {
                Step::Ask => {
                    let decision = match self.session.question() {
                        Some(Question::Message(message)) => {
                            dummy_status(message).map_or(Decision::Proceed, Decision::Reply)
                        }
                        _ => Decision::Proceed,
                    };
                    step = self.session.resolve(decision);
                }
                Step::Reply(reply) => {
                    self.out.replies.push(wire(&reply));
                    return;
                }
                Step::Accepted(reply, message) => {
                    self.out.replies.push(wire(&reply));
                    self.out.messages.push(*message);
                    return;
                }
                Step::Close(reply) => {
                    self.out.replies.extend(reply.as_ref().map(wire));
                    self.out.closed = true;
                    return;
                }
                Step::StartTls(reply) => panic!("STARTTLS is not configured, yet: {reply}"),
                Step::Raw(bytes) => panic!("no handler here sends raw bytes, yet: {bytes:?}"),
                other => panic!("no handler here asks for {other:?}"),
            }
        }
        panic!("a question never led to a reply");
    }

    fn finish(mut self) -> Outcome {
        self.out.open_mail_from = self.session.envelope().map(|e| e.mail_from.clone());
        self.out
    }
}

fn wire(reply: &Reply) -> String {
    String::from_utf8(reply.to_wire()).expect("replies are UTF-8")
}

/// Runs `input` through a new session in pieces of `chunk` bytes.
fn run(config: &Config, input: &[u8], chunk: usize) -> Outcome {
    let mut driver = Driver::new(config.clone());
    for piece in input.chunks(chunk.max(1)) {
        driver.feed(piece);
    }
    driver.finish()
}

/// Runs `input` cut at `cuts` (byte offsets, in any order).
fn run_cut(config: &Config, input: &[u8], cuts: &[usize]) -> Outcome {
    let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(input.len())).collect();
    cuts.sort_unstable();
    let mut driver = Driver::new(config.clone());
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        driver.feed(&input[start..cut]);
        start = cut;
    }
    driver.finish()
}

// ---------------------------------------------------------------------------
// The tables
// ---------------------------------------------------------------------------

/// The server setups of the reference suite's test classes.
#[derive(Debug, Clone, Copy)]
enum Setup {
    /// `SMTPDChannelTest`, `SMTPDChannelWithDecodeDataTrue`: decode_data.
    Decoded,
    /// `SMTPDChannelTest` where it lowers the limit to 1048 bytes.
    Decoded1048,
    /// `SMTPDChannelWithDataSizeLimitTest`: 32 bytes, decode_data.
    Decoded32,
    /// `SMTPDChannelWithDecodeDataFalse` and the option parsing tests: the
    /// defaults.
    Bytes,
    /// `SMTPDChannelTestWithEnableSMTPUTF8True`.
    Utf8,
}

impl Setup {
    fn config(self) -> Config {
        // The reference's suite knows no DSN or CHUNKING (the session's own
        // tests do).
        let base = Config {
            hostname: HOSTNAME.to_string(),
            dsn: false,
            chunking: false,
            ..Config::default()
        };
        match self {
            Setup::Decoded => Config {
                decode_data: true,
                ..base
            },
            Setup::Decoded1048 => Config {
                decode_data: true,
                data_size_limit: 1048,
                ..base
            },
            Setup::Decoded32 => Config {
                decode_data: true,
                data_size_limit: 32,
                ..base
            },
            Setup::Bytes => base,
            Setup::Utf8 => Config {
                enable_smtputf8: true,
                ..base
            },
        }
    }
}

/// (reverse path, forward paths, data) of an accepted message; see
/// [`expand`] for `{a*492}`.
type Msg = (&'static str, &'static [&'static str], &'static [u8]);

/// One transcript.
struct Case {
    /// The reference test it ports (`Class.test_name`), or what it pins.
    name: &'static str,
    setup: Setup,
    /// Lines sent, each followed by CRLF as the reference suite's
    /// `write_line` does; see [`expand`] for `{a*492}`.
    lines: &'static [&'static [u8]],
    /// Every reply after the greeting; a `\n` separates the lines of a
    /// multi-line reply.
    replies: &'static [&'static str],
    messages: &'static [Msg],
    /// The reverse path of the open transaction at the end, when checked.
    mail_from: Option<&'static str>,
    closed: bool,
}

const CASE: Case = Case {
    name: "",
    setup: Setup::Decoded,
    lines: &[],
    replies: &[],
    messages: &[],
    mail_from: None,
    closed: false,
};

const OK: &str = "250 OK";
const BYE: &str = "221 Bye";
const HELO: &str = "250 fqdn.example";
// Deviation: PIPELINING (RFC 2920) is announced; the reference does not
// announce it (though it handles pipelined input).
const EHLO_DECODED: &str = "250-fqdn.example\n250-SIZE 33554432\n250-PIPELINING\n250 HELP";
const EHLO_DECODED_1048: &str = "250-fqdn.example\n250-SIZE 1048\n250-PIPELINING\n250 HELP";
const EHLO_BYTES: &str = "250-fqdn.example\n250-SIZE 33554432\n250-8BITMIME\n250-PIPELINING\n250 HELP";
const EHLO_UTF8: &str =
    "250-fqdn.example\n250-SIZE 33554432\n250-8BITMIME\n250-SMTPUTF8\n250-PIPELINING\n250 HELP";
const GO_AHEAD: &str = "354 End data with <CR><LF>.<CR><LF>";
const DUPLICATE: &str = "503 Duplicate HELO/EHLO";
const NEED_HELO: &str = "503 Error: send HELO first";
const MAIL_SYNTAX: &str = "501 Syntax: MAIL FROM: <address>";
const MAIL_SYNTAX_EHLO: &str = "501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]";
const RCPT_SYNTAX: &str = "501 Syntax: RCPT TO: <address>";
const RCPT_SYNTAX_EHLO: &str = "501 Syntax: RCPT TO: <address> [SP <mail-parameters>]";
const MAIL_555: &str = "555 MAIL FROM parameters not recognized or not implemented";
const RCPT_555: &str = "555 RCPT TO parameters not recognized or not implemented";
const BAD_BODY: &str = "501 Error: BODY can only be one of 7BIT, 8BITMIME";
const TOO_LONG: &str = "500 Error: line too long";
const TOO_MUCH: &str = "552 Error: Too much mail data";
const SIZE_EXCEEDS: &str = "552 Error: message size exceeds fixed maximum message size";
const NON_ASCII: &str = "553 Error: non-ASCII address requires SMTPUTF8";
const CANNOT_VRFY: &str = "252 Cannot VRFY user, but will accept message and attempt delivery";
const SUPPORTED: &str = "250 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY";
const SUPPORTED_501: &str = "501 Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY";
const FRED: &str = "\"Fred Blogs\"@example.com";

/// `HELO example`, `MAIL From:eggs@example`, `RCPT To:spam@example`, `DATA`:
/// the reference suite's usual start of a transaction.
macro_rules! transaction {
    ($($line:expr),* $(,)?) => {
        &[b"HELO example", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"DATA", $($line),*]
    };
}

/// The reference suite, test by test.
#[rustfmt::skip]
const REFERENCE: &[Case] = &[
    // --- SMTPDChannelTest (decode_data=True) ---
    Case { name: "SMTPDChannelTest.test_missing_data", lines: &[b""], replies: &["500 Error: bad syntax"], ..CASE },
    Case { name: "SMTPDChannelTest.test_EHLO", lines: &[b"EHLO example"], replies: &[EHLO_DECODED], ..CASE },
    Case { name: "SMTPDChannelTest.test_EHLO_bad_syntax", lines: &[b"EHLO"], replies: &["501 Syntax: EHLO hostname"], ..CASE },
    Case { name: "SMTPDChannelTest.test_EHLO_duplicate", lines: &[b"EHLO example", b"EHLO example"], replies: &[EHLO_DECODED, DUPLICATE], ..CASE },
    Case { name: "SMTPDChannelTest.test_EHLO_HELO_duplicate", lines: &[b"EHLO example", b"HELO example"], replies: &[EHLO_DECODED, DUPLICATE], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO", lines: &[b"HELO example"], replies: &[HELO], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO_EHLO_duplicate", lines: &[b"HELO example", b"EHLO example"], replies: &[HELO, DUPLICATE], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELP", lines: &[b"HELP"], replies: &[SUPPORTED], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELP_command", lines: &[b"HELP MAIL"], replies: &["250 Syntax: MAIL FROM: <address>"], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELP_command_unknown", lines: &[b"HELP SPAM"], replies: &[SUPPORTED_501], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO_bad_syntax", lines: &[b"HELO"], replies: &["501 Syntax: HELO hostname"], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO_duplicate", lines: &[b"HELO example", b"HELO example"], replies: &[HELO, DUPLICATE], ..CASE },
    Case {
        name: "SMTPDChannelTest.test_HELO_parameter_rejected_when_extensions_not_enabled",
        lines: &[b"HELO example", b"MAIL from:<foo@example.com> SIZE=1234"],
        replies: &[HELO, MAIL_SYNTAX],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_allows_space_after_colon",
        lines: &[b"HELO example", b"MAIL from:   <foo@example.com>"],
        replies: &[HELO, OK],
        mail_from: Some("foo@example.com"),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_extended_MAIL_allows_space_after_colon",
        lines: &[b"EHLO example", b"MAIL from:   <foo@example.com> size=20"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some("foo@example.com"),
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_NOOP", lines: &[b"NOOP"], replies: &[OK], ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO_NOOP", lines: &[b"HELO example", b"NOOP"], replies: &[HELO, OK], ..CASE },
    Case { name: "SMTPDChannelTest.test_NOOP_bad_syntax", lines: &[b"NOOP hi"], replies: &["501 Syntax: NOOP"], ..CASE },
    Case { name: "SMTPDChannelTest.test_QUIT", lines: &[b"QUIT"], replies: &[BYE], closed: true, ..CASE },
    Case { name: "SMTPDChannelTest.test_HELO_QUIT", lines: &[b"HELO example", b"QUIT"], replies: &[HELO, BYE], closed: true, ..CASE },
    Case { name: "SMTPDChannelTest.test_QUIT_arg_ignored", lines: &[b"QUIT bye bye"], replies: &[BYE], closed: true, ..CASE },
    Case {
        name: "SMTPDChannelTest.test_command_too_long",
        lines: &[b"HELO example", b"MAIL from: {a*512}@example"],
        replies: &[HELO, TOO_LONG],
        ..CASE
    },
    Case {
        // 522 bytes fit the 512 + 26 allowed once SIZE is announced; 548 do not.
        name: "SMTPDChannelTest.test_MAIL_command_limit_extended_with_SIZE",
        lines: &[b"EHLO example", b"MAIL from:<{a*492}@example> SIZE=1234", b"MAIL from:<{a*518}@example> SIZE=1234"],
        replies: &[EHLO_DECODED, OK, TOO_LONG],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_command_rejects_SMTPUTF8_by_default",
        lines: &[b"EHLO example", b"MAIL from: <naive@example.com> BODY=8BITMIME SMTPUTF8"],
        replies: &[EHLO_DECODED, MAIL_555],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_data_longer_than_default_data_size_limit",
        setup: Setup::Decoded1048,
        lines: transaction![b"{A*1049}\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, TOO_MUCH],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_size_parameter",
        lines: &[b"EHLO example", b"MAIL FROM:<eggs@example> SIZE=512"],
        replies: &[EHLO_DECODED, OK],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_invalid_size_parameter",
        lines: &[b"EHLO example", b"MAIL FROM:<eggs@example> SIZE=invalid"],
        replies: &[EHLO_DECODED, MAIL_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_RCPT_unknown_parameters",
        lines: &[b"EHLO example", b"MAIL FROM:<eggs@example> ham=green", b"MAIL FROM:<eggs@example>", b"RCPT TO:<eggs@example> ham=green"],
        replies: &[EHLO_DECODED, MAIL_555, OK, RCPT_555],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_size_parameter_larger_than_default_data_size_limit",
        setup: Setup::Decoded1048,
        lines: &[b"EHLO example", b"MAIL FROM:<eggs@example> SIZE=2096"],
        replies: &[EHLO_DECODED_1048, SIZE_EXCEEDS],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_need_MAIL",
        lines: &[b"HELO example", b"RCPT to:spam@example"],
        replies: &[HELO, "503 Error: need MAIL command"],
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_MAIL_syntax_HELO", lines: &[b"HELO example", b"MAIL from eggs@example"], replies: &[HELO, MAIL_SYNTAX], ..CASE },
    Case { name: "SMTPDChannelTest.test_MAIL_syntax_EHLO", lines: &[b"EHLO example", b"MAIL from eggs@example"], replies: &[EHLO_DECODED, MAIL_SYNTAX_EHLO], ..CASE },
    Case { name: "SMTPDChannelTest.test_MAIL_missing_address", lines: &[b"HELO example", b"MAIL from:"], replies: &[HELO, MAIL_SYNTAX], ..CASE },
    Case {
        name: "SMTPDChannelTest.test_MAIL_chevrons",
        lines: &[b"HELO example", b"MAIL from:<eggs@example>"],
        replies: &[HELO, OK],
        mail_from: Some("eggs@example"),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_empty_chevrons",
        lines: &[b"EHLO example", b"MAIL from:<>"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some("<>"),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_quoted_localpart",
        lines: &[b"EHLO example", b"MAIL from: <\"Fred Blogs\"@example.com>"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some(FRED),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_quoted_localpart_no_angles",
        lines: &[b"EHLO example", b"MAIL from: \"Fred Blogs\"@example.com"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some(FRED),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_quoted_localpart_with_size",
        lines: &[b"EHLO example", b"MAIL from: <\"Fred Blogs\"@example.com> SIZE=1000"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some(FRED),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_MAIL_quoted_localpart_with_size_no_angles",
        lines: &[b"EHLO example", b"MAIL from: \"Fred Blogs\"@example.com SIZE=1000"],
        replies: &[EHLO_DECODED, OK],
        mail_from: Some(FRED),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_nested_MAIL",
        lines: &[b"HELO example", b"MAIL from:eggs@example", b"MAIL from:spam@example"],
        replies: &[HELO, OK, "503 Error: nested MAIL command"],
        mail_from: Some("eggs@example"),
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_VRFY", lines: &[b"VRFY eggs@example"], replies: &[CANNOT_VRFY], ..CASE },
    Case { name: "SMTPDChannelTest.test_VRFY_syntax", lines: &[b"VRFY"], replies: &["501 Syntax: VRFY <address>"], ..CASE },
    Case { name: "SMTPDChannelTest.test_EXPN_not_implemented", lines: &[b"EXPN"], replies: &["502 EXPN not implemented"], ..CASE },
    Case { name: "SMTPDChannelTest.test_no_HELO_MAIL", lines: &[b"MAIL from:<foo@example.com>"], replies: &[NEED_HELO], ..CASE },
    Case {
        name: "SMTPDChannelTest.test_need_RCPT",
        lines: &[b"HELO example", b"MAIL From:eggs@example", b"DATA"],
        replies: &[HELO, OK, "503 Error: need RCPT command"],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_RCPT_syntax_HELO",
        lines: &[b"HELO example", b"MAIL From: eggs@example", b"RCPT to eggs@example"],
        replies: &[HELO, OK, RCPT_SYNTAX],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_RCPT_syntax_EHLO",
        lines: &[b"EHLO example", b"MAIL From: eggs@example", b"RCPT to eggs@example"],
        replies: &[EHLO_DECODED, OK, RCPT_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_RCPT_lowercase_to_OK",
        lines: &[b"HELO example", b"MAIL From: eggs@example", b"RCPT to: <eggs@example>"],
        replies: &[HELO, OK, OK],
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_no_HELO_RCPT", lines: &[b"RCPT to eggs@example"], replies: &[NEED_HELO], ..CASE },
    Case {
        // Deviation: the data keeps its CRLFs and the last one (the
        // reference hands over 'data\nmore').
        name: "SMTPDChannelTest.test_data_dialog",
        lines: transaction![b"data\r\nmore\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"data\r\nmore\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_DATA_syntax",
        lines: &[b"HELO example", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"DATA spam"],
        replies: &[HELO, OK, OK, "501 Syntax: DATA"],
        mail_from: Some("eggs@example"),
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_no_HELO_DATA", lines: &[b"DATA spam"], replies: &[NEED_HELO], ..CASE },
    Case {
        // The reference's write_line adds a CRLF after the terminator: an
        // empty command line (500), in the reference too. Deviation: the
        // data is '.\r\n' (reference: '.').
        name: "SMTPDChannelTest.test_data_transparency_section_4_5_2",
        lines: transaction![b"..\r\n.\r\n"],
        replies: &[HELO, OK, OK, GO_AHEAD, OK, "500 Error: bad syntax"],
        messages: &[("eggs@example", &["spam@example"], b".\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_multiple_RCPT",
        lines: &[b"HELO example", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"RCPT To:ham@example", b"DATA", b"data\r\n."],
        replies: &[HELO, OK, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example", "ham@example"], b"data\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_manual_status",
        lines: transaction![b"return status\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, "250 Okish"],
        messages: &[("eggs@example", &["spam@example"], b"return status\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTest.test_RSET",
        lines: &[
            b"HELO example", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"RSET",
            b"MAIL From:foo@example", b"RCPT To:eggs@example", b"DATA", b"data\r\n.",
        ],
        replies: &[HELO, OK, OK, OK, OK, OK, GO_AHEAD, OK],
        messages: &[("foo@example", &["eggs@example"], b"data\r\n")],
        ..CASE
    },
    Case { name: "SMTPDChannelTest.test_HELO_RSET", lines: &[b"HELO example", b"RSET"], replies: &[HELO, OK], ..CASE },
    Case { name: "SMTPDChannelTest.test_RSET_syntax", lines: &[b"RSET hi"], replies: &["501 Syntax: RSET"], ..CASE },
    Case {
        name: "SMTPDChannelTest.test_unknown_command",
        lines: &[b"UNKNOWN_CMD"],
        replies: &["500 Error: command \"UNKNOWN_CMD\" not recognized"],
        ..CASE
    },
    // --- SMTPDChannelWithDataSizeLimitTest (32 bytes) ---
    Case {
        name: "SMTPDChannelWithDataSizeLimitTest.test_data_limit_dialog",
        setup: Setup::Decoded32,
        lines: transaction![b"data\r\nmore\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"data\r\nmore\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelWithDataSizeLimitTest.test_data_limit_dialog_too_much_data",
        setup: Setup::Decoded32,
        lines: transaction![b"This message is longer than 32 bytes\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, TOO_MUCH],
        ..CASE
    },
    // --- SMTPDChannelWithDecodeDataFalse / True ---
    Case {
        name: "SMTPDChannelWithDecodeDataFalse.test_ascii_data",
        setup: Setup::Bytes,
        lines: transaction![b"plain ascii text", b"."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"plain ascii text\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelWithDecodeDataFalse.test_utf8_data",
        setup: Setup::Bytes,
        lines: transaction![b"utf8 enriched text: \xc5\xbc\xc5\xba\xc4\x87", b"and some plain ascii", b"."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"utf8 enriched text: \xc5\xbc\xc5\xba\xc4\x87\r\nand some plain ascii\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelWithDecodeDataTrue.test_ascii_data",
        lines: transaction![b"plain ascii text", b"."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"plain ascii text\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelWithDecodeDataTrue.test_utf8_data",
        lines: transaction![b"utf8 enriched text: \xc5\xbc\xc5\xba\xc4\x87", b"and some plain ascii", b"."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], "utf8 enriched text: żźć\r\nand some plain ascii\r\n".as_bytes())],
        ..CASE
    },
    // --- SMTPDChannelTestWithEnableSMTPUTF8True ---
    Case {
        name: "SMTPDChannelTestWithEnableSMTPUTF8True.test_MAIL_command_accepts_SMTPUTF8_when_announced",
        setup: Setup::Utf8,
        lines: &[b"EHLO example", b"MAIL from: <na\xc3\xafve@example.com> BODY=8BITMIME SMTPUTF8"],
        replies: &[EHLO_UTF8, OK],
        mail_from: Some("naïve@example.com"),
        ..CASE
    },
    Case {
        name: "SMTPDChannelTestWithEnableSMTPUTF8True.test_process_smtputf8_message",
        setup: Setup::Utf8,
        lines: &[
            b"EHLO example",
            b"MAIL from: <a@example> ", b"rcpt to:<b@example.com>", b"data", b"c\r\n.",
            b"MAIL from: <a@example> BODY=8BITMIME SMTPUTF8", b"rcpt to:<b@example.com>", b"data", b"c\r\n.",
        ],
        replies: &[EHLO_UTF8, OK, OK, GO_AHEAD, OK, OK, OK, GO_AHEAD, "250 SMTPUTF8 message okish"],
        messages: &[("a@example", &["b@example.com"], b"c\r\n"), ("a@example", &["b@example.com"], b"c\r\n")],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTestWithEnableSMTPUTF8True.test_utf8_data",
        setup: Setup::Utf8,
        lines: &[
            b"EHLO example", b"MAIL From: na\xc3\xafve@exampl\xc3\xa9 BODY=8BITMIME SMTPUTF8",
            b"RCPT To:sp\xc3\xa4m@exampl\xc3\xa9", b"DATA", b"utf8 enriched text: \xc5\xbc\xc5\xba\xc4\x87", b".",
        ],
        replies: &[EHLO_UTF8, OK, OK, GO_AHEAD, "250 SMTPUTF8 message okish"],
        messages: &[("naïve@examplé", &["späm@examplé"], b"utf8 enriched text: \xc5\xbc\xc5\xba\xc4\x87\r\n")],
        ..CASE
    },
    Case {
        // 512 + 26 + 10 = 548 bytes fit, 549 do not.
        name: "SMTPDChannelTestWithEnableSMTPUTF8True.test_MAIL_command_limit_extended_with_SIZE_and_SMTPUTF8",
        setup: Setup::Utf8,
        lines: &[b"ehlo example", b"MAIL from:<{a*529}@example>", b"MAIL from:<{a*528}@example>"],
        replies: &[EHLO_UTF8, TOO_LONG, OK],
        ..CASE
    },
    Case {
        name: "SMTPDChannelTestWithEnableSMTPUTF8True.test_multiple_emails_with_extended_command_length",
        setup: Setup::Utf8,
        lines: &[
            b"ehlo example",
            b"MAIL from:<{a*528}a@example>", b"MAIL from:<{a*528}@example>", b"rcpt to:<hans@example.com>", b"data", b"test\r\n.",
            b"MAIL from:<{b*528}a@example>", b"MAIL from:<{b*528}@example>", b"rcpt to:<hans@example.com>", b"data", b"test\r\n.",
            b"MAIL from:<{c*528}a@example>", b"MAIL from:<{c*528}@example>", b"rcpt to:<hans@example.com>", b"data", b"test\r\n.",
        ],
        replies: &[
            EHLO_UTF8,
            TOO_LONG, OK, OK, GO_AHEAD, OK,
            TOO_LONG, OK, OK, GO_AHEAD, OK,
            TOO_LONG, OK, OK, GO_AHEAD, OK,
        ],
        messages: &[
            ("{a*528}@example", &["hans@example.com"], b"test\r\n"),
            ("{b*528}@example", &["hans@example.com"], b"test\r\n"),
            ("{c*528}@example", &["hans@example.com"], b"test\r\n"),
        ],
        ..CASE
    },
    // --- TestRcptOptionParsing ---
    Case {
        name: "TestRcptOptionParsing.test_params_rejected",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL from: <foo@example.com> size=20", b"RCPT to: <foo@example.com> foo=bar"],
        replies: &[EHLO_BYTES, OK, RCPT_555],
        ..CASE
    },
    Case {
        name: "TestRcptOptionParsing.test_nothing_accepted",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL from: <foo@example.com> size=20", b"RCPT to: <foo@example.com>"],
        replies: &[EHLO_BYTES, OK, OK],
        ..CASE
    },
    // --- TestMailOptionParsing ---
    Case {
        name: "TestMailOptionParsing.test_with_decode_data_true",
        lines: &[
            b"EHLO example",
            b"MAIL from: <foo@example.com> size=20 SMTPUTF8",
            b"MAIL from: <foo@example.com> size=20 SMTPUTF8 BODY=8BITMIME",
            b"MAIL from: <foo@example.com> size=20 BODY=UNKNOWN",
            b"MAIL from: <foo@example.com> size=20 body=8bitmime",
            b"MAIL from: <foo@example.com> size=20",
        ],
        replies: &[EHLO_DECODED, MAIL_555, MAIL_555, MAIL_555, MAIL_555, OK],
        ..CASE
    },
    Case {
        name: "TestMailOptionParsing.test_with_decode_data_false",
        setup: Setup::Bytes,
        lines: &[
            b"EHLO example",
            b"MAIL from: <foo@example.com> size=20 SMTPUTF8",
            b"MAIL from: <foo@example.com> size=20 SMTPUTF8 BODY=8BITMIME",
            b"MAIL from: <foo@example.com> size=20 SMTPUTF8 BODY=UNKNOWN",
            b"MAIL from: <foo@example.com> size=20 body=8bitmime",
        ],
        replies: &[EHLO_BYTES, MAIL_555, MAIL_555, BAD_BODY, OK],
        ..CASE
    },
    Case {
        name: "TestMailOptionParsing.test_with_enable_smtputf8_true",
        setup: Setup::Utf8,
        lines: &[b"EHLO example", b"MAIL from: <foo@example.com> size=20 body=8bitmime smtputf8"],
        replies: &[EHLO_UTF8, OK],
        ..CASE
    },
];

/// Behaviours of the reference beyond its own suite, checked against
/// Python's smtpd over sockets in `tests/parity_with_python.rs`; here with
/// their full reply texts.
#[rustfmt::skip]
const REFERENCE_MORE: &[Case] = &[
    Case { name: "HELP verb in lower case", lines: &[b"HELP mail"], replies: &["250 Syntax: MAIL FROM: <address>"], ..CASE },
    Case {
        name: "HELP MAIL after EHLO adds the parameters",
        lines: &[b"EHLO example", b"HELP MAIL", b"HELP RCPT", b"HELP DATA"],
        replies: &[EHLO_DECODED, "250 Syntax: MAIL FROM: <address> [SP <mail-parameters>]", "250 Syntax: RCPT TO: <address> [SP <mail-parameters>]", "250 Syntax: DATA"],
        ..CASE
    },
    Case { name: "HELP does not list HELP and EXPN", lines: &[b"HELP HELP", b"HELP EXPN"], replies: &[SUPPORTED_501, SUPPORTED_501], ..CASE },
    Case { name: "EXPN with an argument", lines: &[b"EXPN list"], replies: &["502 EXPN not implemented"], ..CASE },
    Case { name: "VRFY of the null path", lines: &[b"VRFY <>", b"VRFY eggs"], replies: &[CANNOT_VRFY, CANNOT_VRFY], ..CASE },
    Case { name: "a line that is only a space has an empty verb", lines: &[b" "], replies: &["500 Error: command \"\" not recognized"], ..CASE },
    Case { name: "verbs are case-insensitive", lines: &[b"helo example", b"noop", b"rset"], replies: &[HELO, OK, OK], ..CASE },
    Case { name: "HELO after a refused HELO", lines: &[b"HELO", b"HELO example"], replies: &["501 Syntax: HELO hostname", HELO], ..CASE },
    Case {
        name: "512 bytes are the limit before EHLO",
        lines: &[b"HELO {a*508}", b"HELO {a*507}"],
        replies: &[TOO_LONG, HELO],
        ..CASE
    },
    Case {
        name: "nested MAIL is checked before the parameters",
        lines: &[b"EHLO example", b"MAIL FROM:<a@b>", b"MAIL FROM:<a@b> SIZE=abc"],
        replies: &[EHLO_DECODED, OK, "503 Error: nested MAIL command"],
        ..CASE
    },
    Case {
        name: "RCPT does not know SIZE: 555, whatever its value",
        lines: &[b"EHLO example", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d> SIZE=abc", b"RCPT TO:<c@d> SIZE=10"],
        replies: &[EHLO_DECODED, OK, RCPT_555, RCPT_555],
        ..CASE
    },
    Case {
        name: "BODY is judged before SMTPUTF8 and SIZE; a later duplicate wins",
        setup: Setup::Utf8,
        lines: &[
            b"EHLO example", b"MAIL FROM:<a@b> SMTPUTF8=x BODY=bad", b"MAIL FROM:<a@b> SIZE=abc BODY=bad",
            b"MAIL FROM:<a@b> SMTPUTF8=x", b"MAIL FROM:<a@b> BODY=bad BODY=7BIT",
        ],
        replies: &[EHLO_UTF8, BAD_BODY, BAD_BODY, "501 Error: SMTPUTF8 takes no arguments", OK],
        ..CASE
    },
    Case {
        name: "parameters glued to the path, BODY=7BIT, SIZE=0",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<a@b>SIZE=0 BODY=7BIT"],
        replies: &[EHLO_BYTES, OK],
        mail_from: Some("a@b"),
        ..CASE
    },
    Case {
        name: "BODY without a value, and an empty parameter value",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<a@b> BODY", b"MAIL FROM:<a@b> FOO="],
        replies: &[EHLO_BYTES, BAD_BODY, MAIL_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        name: "source routes are dropped, address literals kept",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<@relay.example:a@b>", b"RCPT TO:<c@[127.0.0.1]>", b"DATA", b"x\r\n."],
        replies: &[EHLO_BYTES, OK, OK, GO_AHEAD, OK],
        messages: &[("a@b", &["c@[127.0.0.1]"], b"x\r\n")],
        ..CASE
    },
    Case {
        name: "a huge SIZE is over the limit",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<a@b> SIZE=99999999999999999999999999"],
        replies: &[EHLO_BYTES, SIZE_EXCEEDS],
        ..CASE
    },
    Case {
        name: "exactly the limit is accepted (32 bytes, stuffed dots count)",
        setup: Setup::Decoded32,
        lines: transaction![b"{a*32}\r\n.", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"DATA", b"..{a*31}\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK, OK, OK, GO_AHEAD, TOO_MUCH],
        messages: &[("eggs@example", &["spam@example"], b"{a*32}\r\n")],
        ..CASE
    },
    Case {
        name: "the transaction ends with the message",
        lines: &[b"HELO example", b"MAIL From:eggs@example", b"RCPT To:spam@example", b"DATA", b"x\r\n.", b"DATA", b"RCPT To:spam@example"],
        replies: &[HELO, OK, OK, GO_AHEAD, OK, "503 Error: need RCPT command", "503 Error: need MAIL command"],
        messages: &[("eggs@example", &["spam@example"], b"x\r\n")],
        ..CASE
    },
    Case {
        name: "pipelined commands and data in one burst",
        setup: Setup::Bytes,
        lines: &[b"EHLO example\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT"],
        replies: &[EHLO_BYTES, OK, OK, GO_AHEAD, OK, BYE],
        messages: &[("a@b", &["c@d"], b"Subject: x\r\n\r\nbody\r\n")],
        closed: true,
        ..CASE
    },
    Case {
        name: "input after QUIT is ignored",
        lines: &[b"QUIT", b"NOOP"],
        replies: &[BYE],
        closed: true,
        ..CASE
    },
];

/// Where this crate deviates from the reference on purpose: our replies,
/// each with what the reference does instead.
#[rustfmt::skip]
const DEVIATIONS: &[Case] = &[
    Case {
        // Reference: hands over 'a\nb' (LF-joined, last line ending dropped).
        name: "data keeps CRLF line endings and the final CRLF",
        setup: Setup::Bytes,
        lines: transaction![b"a\r\nb\r\n."],
        replies: &[HELO, OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"a\r\nb\r\n")],
        ..CASE
    },
    Case {
        // Reference: stays in DATA after 552, so every later line is data.
        name: "after 552 the session is back in command state with a clean envelope",
        setup: Setup::Decoded32,
        lines: transaction![
            b"{x*40}\r\n.", b"NOOP", b"RCPT To:spam@example",
            b"MAIL From:eggs@example", b"RCPT To:spam@example", b"DATA", b"short\r\n.",
        ],
        replies: &[HELO, OK, OK, GO_AHEAD, TOO_MUCH, OK, "503 Error: need MAIL command", OK, OK, GO_AHEAD, OK],
        messages: &[("eggs@example", &["spam@example"], b"short\r\n")],
        ..CASE
    },
    Case {
        // Reference: waits on, as the CRLF that ended the DATA line does not
        // count towards <CRLF>.<CRLF>.
        name: "an empty message: the dot right after 354",
        setup: Setup::Bytes,
        lines: transaction![b".", b"NOOP"],
        replies: &[HELO, OK, OK, GO_AHEAD, OK, OK],
        messages: &[("eggs@example", &["spam@example"], b"")],
        ..CASE
    },
    Case {
        // Reference: drops the connection (UnicodeDecodeError).
        name: "invalid UTF-8 in a command line",
        setup: Setup::Bytes,
        lines: &[b"\xff\xfe", b"HELO ex\xc3ample", b"NOOP"],
        replies: &["500 Error: command line is not valid UTF-8", "500 Error: command line is not valid UTF-8", OK],
        ..CASE
    },
    Case {
        // Reference: '500 Error: command "NO\x00OP" not recognized', and it
        // accepts MAIL FROM:<a\0b@c> with 250.
        name: "a NUL byte in a command line",
        setup: Setup::Bytes,
        lines: &[b"NO\x00OP", b"EHLO example", b"MAIL FROM:<a\x00b@c>"],
        replies: &["500 Error: command line contains a NUL byte", EHLO_BYTES, "500 Error: command line contains a NUL byte"],
        ..CASE
    },
    Case {
        // Reference: drops the connection (it cannot write the verb back in
        // ASCII).
        name: "a non-ASCII unknown verb",
        setup: Setup::Bytes,
        lines: &[b"\xc3\x84"],
        replies: &["500 Error: command \"\u{c4}\" not recognized"],
        ..CASE
    },
    Case {
        // Reference: 250, the null path as a recipient.
        name: "RCPT TO:<> is refused",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<>", b"RCPT TO:<>"],
        replies: &[EHLO_BYTES, OK, RCPT_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        // Reference: 250 (RFC 6531, 3.4 requires the SMTPUTF8 parameter).
        name: "a non-ASCII address without the SMTPUTF8 parameter",
        setup: Setup::Utf8,
        lines: &[
            b"EHLO example", b"MAIL FROM:<na\xc3\xafve@example.com>", b"MAIL FROM:<a@b>",
            b"RCPT TO:<sp\xc3\xa4m@example.com>", b"RCPT TO:<spam@example.com>",
        ],
        replies: &[EHLO_UTF8, NON_ASCII, OK, NON_ASCII, OK],
        ..CASE
    },
    Case {
        // Reference: 250, with the server not announcing SMTPUTF8 either.
        name: "a non-ASCII address when SMTPUTF8 is off",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<na\xc3\xafve@example.com>"],
        replies: &[EHLO_BYTES, NON_ASCII],
        ..CASE
    },
    Case {
        // Reference: 501 (its keyword check is isalnum; RFC 5321 allows '-').
        name: "ESMTP keywords may contain '-'",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<a@b> X-FOO=bar", b"MAIL FROM:<a@b>", b"RCPT TO:<c@d> X-FOO=bar"],
        replies: &[EHLO_BYTES, MAIL_555, OK, RCPT_555],
        ..CASE
    },
    Case {
        // Reference: rewrites to '"a b"@c', accepts the unclosed '<a@b',
        // drops comments, and crashes (drops the connection) on 'a@'.
        name: "paths the reference rewrites or crashes on",
        setup: Setup::Bytes,
        lines: &[
            b"EHLO example", b"MAIL FROM:<a b@c>", b"MAIL FROM:<a@b", b"MAIL FROM:a@", b"MAIL FROM:<a(comment)@b>",
            b"MAIL FROM:(comment)a@b", b"MAIL FROM:<a@b>(comment)", b"MAIL FROM:<a@b>", b"RCPT TO:<c d@e>",
        ],
        replies: &[
            EHLO_BYTES, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO,
            MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, OK, RCPT_SYNTAX_EHLO,
        ],
        ..CASE
    },
    Case {
        // Reference: accepts them, rewriting ('< a@b>' is 'a@b', 'a\b@c' is
        // '"a\\b"@c'); RFC 5321 allows none of them.
        name: "paths RFC 5321 does not allow",
        setup: Setup::Bytes,
        lines: &[
            b"EHLO example", b"MAIL FROM:<.>", b"MAIL FROM:<a@[]>", b"MAIL FROM:< a@b>", b"MAIL FROM:<a @b>",
            b"MAIL FROM:<a@b >", b"MAIL FROM:a\\b@c",
        ],
        replies: &[EHLO_BYTES, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO, MAIL_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        // Reference: takes 'foo bar' as the quoted local part '"foo bar"'
        // (250); here 'bar' is a parameter: unknown after EHLO, not allowed
        // after HELO.
        name: "an unbracketed path followed by a word",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:foo bar"],
        replies: &[EHLO_BYTES, MAIL_555],
        ..CASE
    },
    Case {
        name: "an unbracketed path followed by a word, after HELO",
        setup: Setup::Bytes,
        lines: &[b"HELO example", b"MAIL FROM:foo bar"],
        replies: &[HELO, MAIL_SYNTAX],
        ..CASE
    },
    Case {
        // Reference: reports '"a"@b' as 'a@b' and '"a\b"@c' as 'ab@c'.
        name: "a quoted local part is kept as sent",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<\"a\"@b>"],
        replies: &[EHLO_BYTES, OK],
        mail_from: Some("\"a\"@b"),
        ..CASE
    },
    Case {
        // Reference: crashes (drops the connection) on 'SIZE' alone.
        name: "SIZE without a value",
        setup: Setup::Bytes,
        lines: &[b"EHLO example", b"MAIL FROM:<a@b> SIZE"],
        replies: &[EHLO_BYTES, MAIL_SYNTAX_EHLO],
        ..CASE
    },
    Case {
        // Reference: drops the connection (UnicodeDecodeError).
        name: "decode_data and data that is not UTF-8",
        lines: transaction![b"caf\xe9\r\n.", b"NOOP"],
        replies: &[HELO, OK, OK, GO_AHEAD, "554 Error: message data is not valid UTF-8", OK],
        ..CASE
    },
    Case {
        // Reference: 252 for 'x,' (it reads an address and ignores the
        // rest) and 502 for '""' (an empty address); it drops the connection
        // for most other arguments it cannot parse.
        name: "VRFY judges its argument as a path",
        setup: Setup::Bytes,
        lines: &[b"VRFY x,", b"VRFY \"\""],
        replies: &["502 Could not VRFY x,", CANNOT_VRFY],
        ..CASE
    },
];

// ---------------------------------------------------------------------------
// Running the tables
// ---------------------------------------------------------------------------

fn input_of(case: &Case) -> Vec<u8> {
    case.lines
        .iter()
        .flat_map(|line| [expand(line), b"\r\n".to_vec()].concat())
        .collect()
}

/// What is wrong with `outcome` for `case`, if anything.
fn mismatch(case: &Case, outcome: &Outcome) -> Option<String> {
    let replies: Vec<String> = case
        .replies
        .iter()
        .map(|reply| reply.split('\n').map(|line| format!("{line}\r\n")).collect())
        .collect();
    let messages: Vec<(String, Vec<String>, Vec<u8>)> = outcome
        .messages
        .iter()
        .map(|m| {
            (
                m.envelope.mail_from.clone(),
                m.envelope.rcpt_to.clone(),
                m.data.clone(),
            )
        })
        .collect();
    let expected_messages: Vec<(String, Vec<String>, Vec<u8>)> = case
        .messages
        .iter()
        .map(|(from, to, data)| {
            (
                expand_str(from),
                to.iter().map(|t| expand_str(t)).collect(),
                expand(data),
            )
        })
        .collect();
    let mut problems = Vec::new();
    if outcome.replies != replies {
        problems.push(format!(
            "replies\n  expected: {replies:?}\n  got:      {:?}",
            outcome.replies
        ));
    }
    if messages != expected_messages {
        problems.push(format!(
            "messages\n  expected: {expected_messages:?}\n  got:      {messages:?}"
        ));
    }
    if let Some(from) = case.mail_from {
        if outcome.open_mail_from.as_deref() != Some(from) {
            problems.push(format!(
                "open transaction: expected {from:?}, got {:?}",
                outcome.open_mail_from
            ));
        }
    }
    if outcome.closed != case.closed {
        problems.push(format!(
            "closed: expected {}, got {}",
            case.closed, outcome.closed
        ));
    }
    (!problems.is_empty()).then(|| problems.join("\n"))
}

/// Runs every row whole and in many chunkings; panics listing every row
/// that fails.
fn check_table(table: &[Case]) {
    let mut failures = Vec::new();
    for case in table {
        let config = case.setup.config();
        let input = input_of(case);
        let whole = run(&config, &input, usize::MAX);
        if let Some(problem) = mismatch(case, &whole) {
            failures.push(format!("{}:\n{problem}", case.name));
            continue;
        }
        for chunk in [1, 2, 3, 5, 7, 13, 64, 511, 512, 513, 549] {
            let chunked = run(&config, &input, chunk);
            if chunked != whole {
                failures.push(format!(
                    "{}: in pieces of {chunk} bytes\n  whole:   {:?}\n  chunked: {:?}",
                    case.name, whole.replies, chunked.replies
                ));
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n\n{}",
        failures.len(),
        table.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_reference_test_suite() {
    check_table(REFERENCE);
}

#[test]
fn more_reference_behaviour() {
    check_table(REFERENCE_MORE);
}

#[test]
fn deviations_from_the_reference() {
    check_table(DEVIATIONS);
}

#[test]
fn the_greeting_names_the_host() {
    let outcome = run(&Setup::Bytes.config(), b"", 1);
    let greeting = outcome.greeting;
    assert!(greeting.starts_with("220 fqdn.example "), "{greeting:?}");
    assert!(
        greeting.ends_with("\r\n") && greeting.matches("\r\n").count() == 1,
        "{greeting:?}"
    );
}

#[test]
fn decode_data_and_smtputf8_together_are_refused() {
    // SMTPDServerTest / SMTPDChannelTest.test_decode_data_and_enable_SMTPUTF8_raises
    let config = Config {
        decode_data: true,
        enable_smtputf8: true,
        ..Config::default()
    };
    assert_eq!(config.validate(), Err(ConfigError::Utf8WithDecodeData));
    assert!(Setup::Utf8.config().validate().is_ok());
    assert!(Setup::Decoded.config().validate().is_ok());
}

/// Deviation: the reference keeps its command line limits in a dict shared
/// by all sessions and cleared whenever a session starts, so a second
/// client connecting takes the first one's EHLO allowance for MAIL away.
#[test]
fn the_command_line_limit_is_per_session() {
    let config = Setup::Bytes.config();
    let mut first = Driver::new(config.clone());
    first.feed(b"EHLO example\r\n");
    let mut second = Driver::new(config);
    second.feed(b"HELO example\r\n");
    // 530 bytes: within 512 + 26 after EHLO.
    let mail = expand(b"MAIL FROM:<{a*510}@example>\r\n");
    first.feed(&mail);
    second.feed(&mail);
    assert_eq!(
        first.finish().replies,
        [EHLO_BYTES.replace('\n', "\r\n") + "\r\n", "250 OK\r\n".into()]
    );
    assert_eq!(
        second.finish().replies,
        ["250 fqdn.example\r\n", "500 Error: line too long\r\n"]
    );
}

/// Deviation: the reference has no limit on rejected commands.
#[test]
fn too_many_invalid_commands_close_the_session() {
    let config = Setup::Bytes.config();
    let limit = config.max_invalid_commands;
    assert!(limit > 0);
    let mut driver = Driver::new(config);
    for _ in 0..limit {
        driver.feed(b"FOO\r\n");
    }
    driver.feed(b"NOOP\r\n");
    driver.feed(b"FOO\r\n");
    driver.feed(b"NOOP\r\n");
    let outcome = driver.finish();
    assert!(outcome.closed);
    assert_eq!(outcome.replies.len(), limit + 2);
    assert!(outcome.replies[..limit]
        .iter()
        .all(|r| r == "500 Error: command \"FOO\" not recognized\r\n"));
    assert_eq!(outcome.replies[limit], "250 OK\r\n");
    assert_eq!(
        outcome.replies[limit + 1],
        "421 fqdn.example Error: too many invalid commands, closing connection\r\n"
    );
}

/// Deviation: the reference takes any number of recipients.
#[test]
fn too_many_recipients_get_452() {
    let config = Config {
        max_recipients: 3,
        ..Setup::Bytes.config()
    };
    let input = b"HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<1@b>\r\nRCPT TO:<2@b>\r\nRCPT TO:<3@b>\r\nRCPT TO:<4@b>\r\nDATA\r\nx\r\n.\r\n";
    let outcome = run(&config, input, usize::MAX);
    assert_eq!(outcome.replies[5], "452 Error: too many recipients\r\n");
    assert_eq!(outcome.messages.len(), 1);
    assert_eq!(outcome.messages[0].envelope.rcpt_to, ["1@b", "2@b", "3@b"]);
}

// ---------------------------------------------------------------------------
// DebuggingServerTest: what the debugging server prints
// ---------------------------------------------------------------------------

/// Sends the reference suite's DebuggingServerTest dialogue and prints the
/// message as the debugging server does.
fn debugging_output(setup: Setup, data: &[u8], smtputf8: bool) -> String {
    let mail: &[u8] = if smtputf8 {
        b"MAIL From:eggs@example BODY=8BITMIME SMTPUTF8"
    } else {
        b"MAIL From:eggs@example"
    };
    let input = [
        b"EHLO example\r\n".as_slice(),
        mail,
        b"\r\nRCPT To:spam@example\r\nDATA\r\n",
        data,
        b"\r\n.\r\n",
    ]
    .concat();
    let outcome = run(&setup.config(), &input, usize::MAX);
    assert_eq!(outcome.messages.len(), 1, "{:?}", outcome.replies);
    let mut out = Vec::new();
    DebuggingServer::print_message(&mut out, &outcome.messages[0]).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn debugging_server_with_decode_data_true() {
    // The reference prints the same lines without the last empty one: the
    // message ends in LF + CRLF, and only here is that final CRLF data.
    assert_eq!(
        debugging_output(Setup::Decoded, b"From: test\n\nhello\n", false),
        "---------- MESSAGE FOLLOWS ----------\n\
         From: test\n\
         X-Peer: 127.0.0.1\n\
         \n\
         hello\n\
         \n\
         ------------ END MESSAGE ------------\n"
    );
}

#[test]
fn debugging_server_with_decode_data_false() {
    // Deviation: lines are printed as text (invalid UTF-8 as U+FFFD), where
    // the reference prints Python byte reprs (b'h\xc3\xa9llo\xff').
    let expected = "---------- MESSAGE FOLLOWS ----------\n\
                    From: test\n\
                    X-Peer: 127.0.0.1\n\
                    \n\
                    h\u{e9}llo\u{fffd}\n\
                    \n\
                    ------------ END MESSAGE ------------\n";
    assert_eq!(
        debugging_output(Setup::Bytes, b"From: test\n\nh\xc3\xa9llo\xff\n", false),
        expected
    );
    assert_eq!(
        debugging_output(Setup::Utf8, b"From: test\n\nh\xc3\xa9llo\xff\n", false),
        expected
    );
}

#[test]
fn debugging_server_prints_no_x_peer_without_an_empty_line() {
    // As the reference: X-Peer goes before the first empty line, and a
    // message without one (lettre's `send_raw(b"test")`) gets none.
    assert_eq!(
        debugging_output(Setup::Utf8, b"test", true),
        "---------- MESSAGE FOLLOWS ----------\n\
         mail options: ['BODY=8BITMIME', 'SMTPUTF8']\n\
         test\n\
         ------------ END MESSAGE ------------\n"
    );
}

#[test]
fn debugging_server_prints_the_mail_options() {
    assert_eq!(
        debugging_output(Setup::Utf8, b"From: test\r\n\r\nh\xc3\xa9llo", true),
        "---------- MESSAGE FOLLOWS ----------\n\
         mail options: ['BODY=8BITMIME', 'SMTPUTF8']\n\
         From: test\n\
         X-Peer: 127.0.0.1\n\
         \n\
         h\u{e9}llo\n\
         ------------ END MESSAGE ------------\n"
    );
}

// ---------------------------------------------------------------------------
// Any chunking
// ---------------------------------------------------------------------------

#[test]
fn expand_repeats_only_the_pattern() {
    assert_eq!(expand(b"<{a*3}@b>"), b"<aaa@b>");
    assert_eq!(expand(b"{x*0}{"), b"{");
    assert_eq!(expand(b"{ab*2}"), b"{ab*2}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Cutting the input anywhere changes nothing.
    #[test]
    fn any_chunking_gives_the_same_transcript(
        row in 0..REFERENCE.len() + REFERENCE_MORE.len() + DEVIATIONS.len(),
        cuts in prop::collection::vec(0usize..2000, 0..24),
    ) {
        let case = REFERENCE.iter().chain(REFERENCE_MORE).chain(DEVIATIONS).nth(row).unwrap();
        let config = case.setup.config();
        let input = input_of(case);
        let whole = run(&config, &input, usize::MAX);
        let cut = run_cut(&config, &input, &cuts);
        prop_assert_eq!(cut, whole, "{}", case.name);
    }
}
