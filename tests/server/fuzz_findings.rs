//! The defects a coverage-guided fuzzing campaign and a live abuse run
//! found, each reproduced over a real socket as it was reported.

#[cfg(any(feature = "cli", feature = "tls"))]
use std::io::Read;
#[cfg(feature = "cli")]
use std::process::{Command, Stdio};
#[cfg(any(feature = "cli", feature = "tls"))]
use std::time::Duration;

use base64::Engine;
use smtp_fixture::{on, Action, Reply, TestSmtpServer};
#[cfg(feature = "cli")]
use support::Binary;
use support::Client;

#[cfg(feature = "http")]
use crate::http;
use crate::support;

/// Long enough that the server reads the rest of the message straight into
/// it (the in-place path starts after 64 KiB).
fn large_body() -> Vec<u8> {
    let line = [b"x".repeat(78).as_slice(), b"\r\n"].concat();
    line.repeat(100_000 / line.len() + 1)
}

fn start_data(client: &mut Client) {
    assert_eq!(client.code("MAIL FROM:<ann@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<bob@example.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
}

#[test]
fn a_terminator_split_after_its_cr_ends_a_large_message() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);

    // The CR arrives alone at the end of a read, the rest of the
    // terminator later: the server used to take the CR as content, miss
    // the terminator, and read the next commands as message text.
    start_data(&mut client);
    client.send(&large_body());
    client.send_apart(b"end\r");
    client.send(b"\n.\r\n");
    assert!(
        client.reply().starts_with("250"),
        "the split terminator ended the message"
    );

    // The same split before a stuffed dot: the dot must still be removed.
    start_data(&mut client);
    client.send(&large_body());
    client.send_apart(b"end\r");
    client.send(b"\n..dotline\r\n.\r\n");
    assert!(client.reply().starts_with("250"));
    assert_eq!(client.code("NOOP"), 250, "the session reads commands again");

    let messages = server.wait_for_messages(2);
    assert!(
        messages[0].data.ends_with(b"xx\r\nend\r\n"),
        "first message's end"
    );
    assert!(
        messages[1].data.ends_with(b"xx\r\nend\r\n.dotline\r\n"),
        "second message's end: {:?}",
        String::from_utf8_lossy(&messages[1].data[messages[1].data.len() - 20..])
    );
}

/// A client at the AUTH LOGIN prompt, with the user name's challenge read.
fn at_auth_prompt(server: &TestSmtpServer) -> Client {
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("AUTH LOGIN"), 334);
    client
}

#[test]
fn an_over_long_auth_response_ends_the_exchange_however_it_arrives() {
    let server = TestSmtpServer::builder().auth_any().start();
    let response = "A".repeat(100_000);

    // In pieces: the server drops the line as it comes.
    let mut client = at_auth_prompt(&server);
    for piece in response.as_bytes().chunks(10_000) {
        client.send_apart(piece);
    }
    assert_eq!(client.code(""), 500, "the over-long response is refused");
    assert_eq!(client.code("NOOP"), 250, "and the next line is a command again");

    // In one piece: the same reply and the same end.
    let mut client = at_auth_prompt(&server);
    assert_eq!(client.code(&response), 500);
    assert_eq!(client.code("NOOP"), 250);
}

#[test]
fn auth_command_lines_may_be_as_long_as_rfc_4954_allows() {
    let server = TestSmtpServer::builder().auth_any().start();
    let engine = base64::engine::general_purpose::STANDARD;

    // An AUTH PLAIN of about 600 bytes with its initial response.
    let plain = engine.encode(format!("\0ann\0{}", "p".repeat(430)));
    let line = format!("AUTH PLAIN {plain}");
    assert!(line.len() > 590, "{}", line.len());
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code(&line), 235, "{line}");

    // An OAuth2 bearer token well over 512 bytes.
    let token = "t".repeat(1100);
    let xoauth2 = engine.encode(format!("user=ann\x01auth=Bearer {token}\x01\x01"));
    let line = format!("AUTH XOAUTH2 {xoauth2}");
    assert!(line.len() > 1500, "{}", line.len());
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code(&line), 235);

    // Past 12 288 bytes it is too long, and the session goes on.
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code(&format!("AUTH PLAIN {}", "A".repeat(12_300))), 500);
    assert_eq!(client.code("NOOP"), 250);
}

#[test]
fn addresses_refused_by_rfc_5321_get_501_in_every_form() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    for path in [
        "<\"a\\\x0bb\"@example.com>",
        "<\"a\\\x7fb\"@example.com>",
        "\"a\\\x0bb\"@example.com",
        "a@[>]",
        "<a@[>]>",
    ] {
        assert_eq!(
            client.code(&format!("MAIL FROM:{path}")),
            501,
            "MAIL FROM:{path:?}"
        );
    }
    assert_eq!(
        client.code("MAIL FROM:<\"a\\ b\"@example.com>"),
        250,
        "an escaped space is fine"
    );
    for path in ["<\"a\\\x0bb\"@example.com>", "a@[>]", "<a@[>]>"] {
        assert_eq!(client.code(&format!("RCPT TO:{path}")), 501, "RCPT TO:{path:?}");
    }
}

#[test]
#[cfg(feature = "cli")]
fn a_declared_size_reserves_no_memory() {
    // Each session declares 64 MiB. The server used to reserve that much
    // for each at DATA and, under a 2 GiB address space limit, abort the
    // whole process after 31 sessions.
    let server = Binary::start_with_memory_limit(2 << 30, &["-s", "67108864"], &[]);
    let mut clients: Vec<Client> = (0..200)
        .map(|_| {
            let mut client = Client::greeted(server.addr());
            assert_eq!(client.code("EHLO client.test"), 250);
            assert_eq!(client.code("MAIL FROM:<ann@example.com> SIZE=67108864"), 250);
            assert_eq!(client.code("RCPT TO:<bob@example.com>"), 250);
            assert_eq!(client.code("DATA"), 354);
            client
        })
        .collect();
    for client in &mut clients {
        client.send(b"Subject: small\r\n\r\nsmall after all\r\n.\r\n");
        assert!(client.reply().starts_with("250"));
    }
}

#[test]
#[cfg(feature = "cli")]
fn an_absurd_size_limit_is_refused_when_the_server_starts() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
        .args(["-s", "18446744073709551615", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // A server that started anyway is killed when the test's process ends.
    let status = support::eventually_within(
        Duration::from_secs(10),
        "the server refuses a data_size_limit of 2^64 - 1 and exits",
        || child.try_wait().expect("its status"),
    );
    assert!(!status.success(), "it must not start");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("its stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    assert!(
        stderr.contains("data_size_limit") && stderr.contains("too large"),
        "{stderr}"
    );

    // The largest limit allowed works: no arithmetic on it wraps.
    let server = TestSmtpServer::builder()
        .data_size_limit(isize::MAX as usize)
        .start();
    let mut client = Client::greeted(server.addr());
    let reply = client.send_message(
        "ann@example.com",
        "bob@example.com",
        b"Subject: tiny\r\n\r\nhi\r\n.\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
}

/// Reads until the server closes the connection; panics if it is still
/// open after `wait`.
#[cfg(feature = "tls")]
fn assert_closed_within(client: &mut Client, wait: Duration) {
    client
        .writer
        .set_read_timeout(Some(wait))
        .expect("a read timeout");
    let mut buffer = [0u8; 4096];
    loop {
        match client.writer.read(&mut buffer) {
            Ok(0) => return,
            Ok(_) => {} // what it still had to say; read on until it closes
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(error) => panic!("the server still held the connection after {wait:?}: {error}"),
        }
    }
}

/// The header of a TLS handshake record that announces 16 KiB, which never
/// come.
#[cfg(feature = "tls")]
const STALLED_HANDSHAKE: &[u8] = b"\x16\x03\x01\x40\x00";

#[test]
#[cfg(feature = "tls")]
fn a_stalled_tls_handshake_is_cut_off_before_the_idle_timeout() {
    let server = TestSmtpServer::builder()
        .starttls()
        .idle_timeout(Duration::from_secs(120))
        .tls_handshake_timeout(Duration::from_millis(300))
        .start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("STARTTLS"), 220);
    client.send(STALLED_HANDSHAKE);
    assert_closed_within(&mut client, Duration::from_secs(10));

    let server = TestSmtpServer::builder()
        .implicit_tls()
        .idle_timeout(Duration::from_secs(120))
        .tls_handshake_timeout(Duration::from_millis(300))
        .start();
    let mut client = Client::connect(server.addr());
    client.send(STALLED_HANDSHAKE);
    assert_closed_within(&mut client, Duration::from_secs(10));
}

/// A client with a transaction open (EHLO, MAIL, RCPT), ready for BDAT.
fn ready_for_bdat(server: &TestSmtpServer) -> Client {
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("MAIL FROM:<ann@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<bob@example.com>"), 250);
    client
}

/// `BDAT 34 LASTX` and a chunk of 34 bytes that reads as two commands,
/// then a NOOP: issue 29's reproducer.
const BDAT_LINE_WITH_BAD_WORD: &[u8] = b"BDAT 34 LASTX\r\nRSET\r\nMAIL FROM:<x@evil.example>\r\nNOOP\r\n";

/// After the answer to a BDAT whose chunk held commands: the chunk was
/// dropped, so the NOOP after it is the next command answered, and the
/// session still reads commands (QUIT, not a chunk's command, ends it).
fn assert_chunk_dropped(client: &mut Client, what: &str) {
    assert_eq!(client.reply_code(), 250, "{what}: the NOOP after the chunk");
    assert_eq!(
        client.code("QUIT"),
        221,
        "{what}: the chunk's commands were carried out (one reply each)"
    );
}

#[test]
fn a_bdat_refused_by_a_rule_still_has_its_chunk_dropped() {
    // RFC 3030, 2: the octets after a BDAT line with a size are data,
    // whatever the reply. A rule's reply used to lose the size of a line
    // with a bad word after it, and the chunk ran as commands (RSET, MAIL).
    let server = TestSmtpServer::start();
    server.respond(on::command("BDAT"), Reply::new(550, "5.7.1 no chunks"));
    let mut client = ready_for_bdat(&server);
    client.send(BDAT_LINE_WITH_BAD_WORD);
    assert_eq!(client.reply(), "550 5.7.1 no chunks\r\n");
    assert_chunk_dropped(&mut client, "BDAT 34 LASTX refused by a rule");

    // The same line without the rule: 501, the chunk dropped as well.
    let server = TestSmtpServer::start();
    let mut client = ready_for_bdat(&server);
    client.send(BDAT_LINE_WITH_BAD_WORD);
    assert_eq!(client.reply_code(), 501);
    assert_chunk_dropped(&mut client, "BDAT 34 LASTX without a rule");
    assert!(server.messages().is_empty());
}

#[test]
#[cfg(feature = "cli")]
fn a_bdat_refused_by_a_command_line_rule_still_has_its_chunk_dropped() {
    let server = Binary::start(&["-c", "SmtpServer"], &["--reply", "BDAT=550 5.7.1 no chunks"]);
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("MAIL FROM:<ann@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<bob@example.com>"), 250);
    client.send(BDAT_LINE_WITH_BAD_WORD);
    assert_eq!(client.reply(), "550 5.7.1 no chunks\r\n");
    assert_chunk_dropped(&mut client, "--reply BDAT=550");
}

#[test]
fn a_raw_or_faulty_answer_to_bdat_still_has_its_chunk_dropped() {
    // Unlike DATA's, a chunk's bytes are on the wire already: whatever the
    // server answers, it must read them. The chunk "QUIT\r\n" used to end
    // the session after a raw answer.
    let chunk_is_quit = b"BDAT 6\r\nQUIT\r\nNOOP\r\n";
    let answers: [(&str, Action, &[u8], &str); 4] = [
        (
            "raw bytes",
            Action::raw(b"250 raw\r\n".to_vec()),
            chunk_is_quit,
            "250 raw\r\n",
        ),
        (
            "raw bytes, line with a bad word",
            Action::raw(b"250 raw\r\n".to_vec()),
            b"BDAT 6 NOW\r\nQUIT\r\nNOOP\r\n",
            "250 raw\r\n",
        ),
        (
            "a throttled refusal",
            Action::from(Reply::new(452, "4.3.1 later")).throttled(10_000),
            chunk_is_quit,
            "452 4.3.1 later\r\n",
        ),
        (
            "throttled raw bytes",
            Action::raw(b"250 slow raw\r\n".to_vec()).throttled(10_000),
            b"BDAT 6 LAST\r\nQUIT\r\nNOOP\r\n",
            "250 slow raw\r\n",
        ),
    ];
    for (what, action, input, answer) in answers {
        let server = TestSmtpServer::start();
        server.respond(on::command("BDAT"), action);
        let mut client = ready_for_bdat(&server);
        client.send(input);
        assert_eq!(client.reply(), answer, "{what}");
        assert_chunk_dropped(&mut client, what);
        assert!(server.messages().is_empty(), "{what}");
    }
}

#[test]
fn a_bdat_after_a_554_greeting_still_has_its_chunk_dropped() {
    // Only QUIT is served after a 554 greeting (RFC 5321, 3.1); a BDAT's
    // chunk is still data, and its QUIT must not end the session.
    let server = TestSmtpServer::start();
    server.respond(on::connect(), Reply::new(554, "5.3.2 not now"));
    let mut client = Client::connect(server.addr());
    assert_eq!(client.reply_code(), 554);
    client.send(b"BDAT 6\r\nQUIT\r\nNOOP\r\n");
    assert_eq!(client.reply_code(), 503, "BDAT");
    assert_eq!(client.reply_code(), 503, "the NOOP after its chunk");
    assert_eq!(client.code("QUIT"), 221);
}

#[test]
#[cfg(feature = "http")]
fn search_dates_out_of_range_are_refused_and_delete_nothing() {
    // A year past i64's reach once wrapped around in the day arithmetic:
    // `after:` that date matched a message received today (a debug build
    // panicked), and a DELETE by it deleted the message.
    let server = TestSmtpServer::builder().http_api().start();
    let http_addr = server.http_addr().expect("an HTTP address");
    let mut client = Client::greeted(server.addr());
    let reply = client.send_message(
        "app@example.com",
        "ann@example.com",
        b"Subject: Kept\r\n\r\nHi\r\n.\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    server.wait_for_messages(1);

    for date in [
        "99999999999999999-01-01",
        "99999999999999999999999999-01-01",
        "10000-01-01",
        "2023-02-29",
        "2024-04-31",
    ] {
        for key in ["after", "before", "-after", "-before"] {
            let query = format!("/api/v1/search?query={key}:{date}");
            let found = http::get(http_addr, &query);
            assert_eq!(found.status, 400, "GET {query}: {}", found.text());
            let deleted = http::request(http_addr, "DELETE", &query, "text/plain", b"");
            assert_eq!(deleted.status, 400, "DELETE {query}: {}", deleted.text());
            assert_eq!(server.messages().len(), 1, "DELETE {query} deleted the message");
        }
    }

    // The last day the syntax can name compares as a day far ahead.
    let count = |query: &str| {
        http::get(http_addr, &format!("/api/v1/search?query={query}")).json()["messages_count"].clone()
    };
    assert_eq!(count("before:9999-12-31"), 1);
    assert_eq!(count("after:9999-12-31"), 0);
    assert_eq!(count("-after:9999-12-31"), 1);
    assert_eq!(count("after:2024-02-29"), 1);
    let deleted = http::request(
        http_addr,
        "DELETE",
        "/api/v1/search?query=after:9999-12-31",
        "text/plain",
        b"",
    );
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(
        server.messages().len(),
        1,
        "a search that matches nothing deletes nothing"
    );
}
