//! Transcripts tell the truth: one entry per line however the bytes were
//! chunked on the wire, each line once, in the order it crossed the socket.

use std::thread::sleep;
use std::time::Duration;

use proptest::prelude::*;
use smtp_fixture::TestSmtpServer;
use smtp_fixture::{Direction, Transcript};
use support::Client;

mod support;

/// The client's lines of the only session.
fn client_lines(server: &TestSmtpServer) -> Vec<String> {
    let transcripts = server.transcripts();
    assert_eq!(transcripts.len(), 1, "one session");
    transcripts[0]
        .client_lines()
        .into_iter()
        .map(String::from)
        .collect()
}

fn session(server: &TestSmtpServer) -> Transcript {
    server.transcripts().remove(0)
}

#[test]
fn a_body_line_that_arrives_in_two_reads_is_one_line() {
    let server = TestSmtpServer::start();
    let mut client = Client::in_data(server.addr());
    client.send(b"AAAA");
    sleep(Duration::from_millis(300));
    client.send(b"BBBB\r\n.\r\n");
    assert!(client.reply().starts_with("250"));
    assert_eq!(client.code("QUIT"), 221);
    server.wait_for_first_message();
    let lines = client_lines(&server);
    assert!(lines.contains(&"AAAABBBB".to_string()), "{lines:?}");
    assert!(!lines.iter().any(|l| l == "AAAA" || l == "BBBB"), "{lines:?}");
}

#[test]
fn each_line_is_dated_when_its_bytes_arrived() {
    let server = TestSmtpServer::start();
    let mut client = Client::in_data(server.addr());
    client.send(b"early one\r\nearly two\r\n");
    sleep(Duration::from_millis(300));
    client.send(b"late\r\n.\r\n");
    assert!(client.reply().starts_with("250"));
    server.wait_for_first_message();
    let transcript = session(&server);
    let at = |text: &str| {
        transcript
            .lines
            .iter()
            .find(|line| line.text == text)
            .unwrap_or_else(|| panic!("no line {text:?} in\n{transcript}"))
            .at
    };
    let (one, two, late) = (at("early one"), at("early two"), at("late"));
    assert!(one <= two && two <= late, "lines out of order:\n{transcript}");
    assert!(
        late.saturating_sub(two) >= Duration::from_millis(250),
        "the line sent 300 ms later is dated {:?} after the one before it:\n{transcript}",
        late.saturating_sub(two)
    );
    let reply = transcript
        .lines
        .iter()
        .rev()
        .find(|line| line.direction == Direction::Server)
        .expect("a reply");
    assert!(
        reply.at >= late,
        "the final reply is dated before the body's end:\n{transcript}"
    );
}

#[test]
fn a_command_after_a_large_body_is_logged_once_after_the_body() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client"), 250);
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
    // 3 MB, read straight into the message, with the terminator and the
    // next command in the same write.
    let line = [b"y".repeat(998).as_slice(), b"\r\n"].concat();
    let mut burst = line.repeat(3_000);
    burst.extend_from_slice(b".\r\nQUIT\r\n");
    client.send(&burst);
    assert!(client.reply().starts_with("250"));
    assert!(client.reply().starts_with("221"));
    server.wait_for_first_message();
    // The transcript is complete once the session has closed.
    for _ in 0..100 {
        if session(&server).closed {
            break;
        }
        sleep(Duration::from_millis(20));
    }

    let transcript = session(&server);
    let quits: Vec<usize> = (0..transcript.lines.len())
        .filter(|&i| transcript.lines[i].direction == Direction::Client && transcript.lines[i].text == "QUIT")
        .collect();
    assert_eq!(quits.len(), 1, "{transcript}");
    let ok = transcript
        .lines
        .iter()
        .position(|l| l.direction == Direction::Server && l.text == "250 OK")
        .expect("the final reply");
    let bye = transcript
        .lines
        .iter()
        .position(|l| l.direction == Direction::Server && l.text.starts_with("221"))
        .expect("the goodbye");
    assert!(ok < bye, "{transcript}");
    let note = transcript
        .lines
        .iter()
        .position(|l| l.text.contains("more bytes of the message not shown"))
        .expect("the body's note");
    assert!(note < quits[0], "the QUIT comes after the body: {transcript}");
    assert!(
        !transcript.lines.iter().any(|l| l.text.contains("cut")),
        "no line is cut: {transcript}"
    );
}

#[test]
fn an_over_long_command_line_is_one_entry_marked_as_cut() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    for piece in b"A".repeat(200_000).chunks(20_000) {
        client.send(piece);
        sleep(Duration::from_millis(5));
    }
    assert_eq!(client.code(""), 500);
    assert_eq!(client.code("NOOP"), 250);
    let lines = client_lines(&server);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("AAAA") && lines[0].ends_with("... (200002 bytes, cut)"),
        "{}",
        &lines[0][lines[0].len() - 40..]
    );
    assert_eq!(lines[1], "NOOP");
}

/// A session's client side: commands, and messages whose bodies hold the
/// bytes that matter to line splitting (dots, CR, LF, empty lines).
fn client_stream() -> impl Strategy<Value = Vec<u8>> {
    let body_line = prop_oneof![
        Just(String::new()),
        Just("..stuffed".to_string()),
        Just("a\rb".to_string()),
        "[a-z .]{1,40}",
    ];
    let message = prop::collection::vec(body_line, 0..12).prop_map(|lines| {
        let mut text = String::from("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
        for line in lines {
            text.push_str(&line);
            text.push_str("\r\n");
        }
        text.push_str(".\r\n");
        text
    });
    let command = prop_oneof![
        Just("NOOP\r\n".to_string()),
        Just("RSET\r\n".to_string()),
        Just("HELP MAIL\r\n".to_string()),
        Just("BOGUS command\r\n".to_string()),
    ];
    prop::collection::vec(prop_oneof![3 => message, 1 => command], 1..5).prop_map(|parts| {
        let mut stream = String::from("EHLO client\r\n");
        for part in parts {
            stream.push_str(&part);
        }
        stream.push_str("QUIT\r\n");
        stream.into_bytes()
    })
}

/// Sends `stream` in pieces cut at `cuts` (fractions of its length), each
/// piece its own write after a pause, so that the server reads it apart,
/// then waits for the session to close. Returns its transcript.
fn transcript_of(stream: &[u8], cuts: &[f64]) -> Transcript {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    let mut points: Vec<usize> = cuts.iter().map(|c| (c * stream.len() as f64) as usize).collect();
    points.push(stream.len());
    points.sort_unstable();
    let mut at = 0;
    for point in points {
        if point > at {
            client.send(&stream[at..point]);
            sleep(Duration::from_millis(2));
            at = point;
        }
    }
    let _ = client.rest();
    for _ in 0..200 {
        let transcript = session(&server);
        if transcript.closed {
            return transcript;
        }
        sleep(Duration::from_millis(5));
    }
    panic!("the session did not close");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// However the stream is cut, the transcript has the same client lines
    /// and the same server lines as when it is sent in one piece (how the
    /// two interleave follows what crossed the wire when), and its client
    /// lines are the stream's lines.
    #[test]
    fn any_chunking_gives_the_same_transcript(stream in client_stream(), cuts in prop::collection::vec(0.0..1.0f64, 0..8)) {
        let whole = transcript_of(&stream, &[]);
        let cut = transcript_of(&stream, &cuts);
        prop_assert_eq!(cut.client_lines(), whole.client_lines());
        prop_assert_eq!(cut.server_lines(), whole.server_lines());

        let mut received = Vec::new();
        for line in whole.client_lines() {
            received.extend_from_slice(line.as_bytes());
            received.extend_from_slice(b"\r\n");
        }
        prop_assert_eq!(String::from_utf8_lossy(&received), String::from_utf8_lossy(&stream));
    }
}
