//! CHUNKING / BDAT (RFC 3030) and BINARYMIME over real sockets: the
//! fixture records the chunks as one message, byte for byte; pipelined
//! chunks, large chunks read in place, the size limit, the transcript; the
//! switch in the builder and on the command line; with SMTPUTF8 and
//! 8BITMIME beside it.

use smtp_fixture::TestSmtpServer;
#[cfg(feature = "cli")]
use support::Binary;
use support::Client;

use crate::support;

fn open_transaction(client: &mut Client, mail: &str) {
    let ehlo = client.command("EHLO client.test");
    assert!(ehlo.contains("250-CHUNKING\r\n"), "{ehlo}");
    assert!(ehlo.contains("250-BINARYMIME\r\n"), "{ehlo}");
    assert_eq!(client.code(mail), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
}

/// `BDAT n [LAST]` followed by its chunk, in one write.
fn bdat(chunk: &[u8], last: bool) -> Vec<u8> {
    let line = format!("BDAT {}{}\r\n", chunk.len(), if last { " LAST" } else { "" });
    [line.as_bytes(), chunk].concat()
}

#[test]
fn chunks_are_one_message_byte_for_byte() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    open_transaction(&mut client, "MAIL FROM:<a@example.com> BODY=BINARYMIME");
    // Bytes DATA could not carry: a lone dot line, NUL, a bare LF, no final CRLF.
    let pieces: [&[u8]; 3] = [b"Subject: binary\r\n\r\n.\r\n", b"\0\xff\n", b"..end"];
    client.send(&bdat(pieces[0], false));
    assert_eq!(
        client.reply(),
        format!("250 OK {} octets received\r\n", pieces[0].len())
    );
    client.send(&bdat(pieces[1], false));
    assert_eq!(client.reply(), "250 OK 3 octets received\r\n");
    client.send(&bdat(pieces[2], true));
    assert_eq!(client.reply(), "250 OK\r\n");
    let message = server.wait_for_first_message();
    assert_eq!(&message.data[..], pieces.concat());
    assert!(message.envelope.binary_mime());
    assert_eq!(client.code("QUIT"), 221);

    // The transcript shows each BDAT line as a command, not glued to the
    // chunk before it (which ends without CRLF).
    let transcript = server.transcript_of(&message).expect("a transcript").to_string();
    assert!(transcript.contains("C: BDAT 5 LAST"), "{transcript}");
    assert!(
        transcript.contains("C: BDAT 3\r") || transcript.contains("C: BDAT 3\n"),
        "{transcript}"
    );
}

#[test]
fn pipelined_chunks_and_commands_get_their_replies_in_order() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client.send(
        &[
            &b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"[..],
            &bdat(b"one\r\n", false),
            &bdat(b"two\r\n", true),
            b"MAIL FROM:<c@example.com>\r\nRCPT TO:<d@example.com>\r\n",
            &bdat(b"", true),
            b"NOOP\r\n",
        ]
        .concat(),
    );
    let ehlo = client.reply();
    assert!(ehlo.starts_with("250-"), "{ehlo}");
    let replies: Vec<String> = (0..8).map(|_| client.reply()).collect();
    assert_eq!(
        replies,
        [
            "250 OK\r\n",
            "250 OK\r\n",
            "250 OK 5 octets received\r\n",
            "250 OK\r\n",
            "250 OK\r\n",
            "250 OK\r\n",
            "250 OK\r\n",
            "250 OK\r\n"
        ]
    );
    let messages = server.wait_for_messages(2);
    assert_eq!(&messages[0].data[..], b"one\r\ntwo\r\n");
    assert_eq!(&messages[1].data[..], b"");
    assert_eq!(messages[1].envelope.rcpt_to, ["d@example.com"]);
}

#[test]
fn a_large_message_in_large_chunks_arrives_intact() {
    // Past 64 KiB the server reads straight into the message: chunk ends
    // fall inside those reads.
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    open_transaction(&mut client, "MAIL FROM:<a@example.com>");
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    let sizes = [1, 70_000, 1_048_576, 333_333];
    let mut at = 0;
    for size in sizes.iter().cycle() {
        let end = (at + size).min(body.len());
        wire.extend_from_slice(&bdat(&body[at..end], end == body.len()));
        at = end;
        if at == body.len() {
            break;
        }
    }
    client.send(&wire);
    let replies = wire.windows(5).filter(|w| w == b"BDAT ").count();
    for _ in 1..replies {
        assert!(client.reply().starts_with("250 OK "), "a chunk refused");
    }
    assert_eq!(client.reply(), "250 OK\r\n");
    let message = server.wait_for_first_message();
    assert!(
        message.data[..] == body[..],
        "the message differs from the chunks sent"
    );
}

#[test]
fn the_size_limit_counts_all_chunks() {
    let server = TestSmtpServer::builder().data_size_limit(100).start();
    let mut client = Client::greeted(server.addr());
    open_transaction(&mut client, "MAIL FROM:<a@example.com>");
    client.send(&bdat(&[b'x'; 60], false));
    assert_eq!(client.reply(), "250 OK 60 octets received\r\n");
    client.send(&bdat(&[b'y'; 41], false));
    assert_eq!(client.reply(), "552 Error: Too much mail data\r\n");
    // The transaction failed: a following chunk is read and refused.
    client.send(&bdat(b"z", true));
    assert_eq!(client.reply(), "503 Error: need MAIL command\r\n");
    assert_eq!(client.code("NOOP"), 250);
    assert!(server.messages().is_empty());
}

#[test]
fn chunking_can_be_switched_off() {
    let server = TestSmtpServer::builder().chunking(false).start();
    let mut client = Client::greeted(server.addr());
    let ehlo = client.command("EHLO c");
    assert!(
        !ehlo.contains("CHUNKING") && !ehlo.contains("BINARYMIME"),
        "{ehlo}"
    );
    assert_eq!(client.code("MAIL FROM:<a@example.com> BODY=BINARYMIME"), 501);
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
    assert_eq!(
        client.command("BDAT 0 LAST"),
        "500 Error: command \"BDAT\" not recognized\r\n"
    );
}

#[test]
fn smtputf8_8bitmime_and_binarymime_together() {
    let server = TestSmtpServer::builder().enable_smtputf8(true).start();
    let mut client = Client::greeted(server.addr());
    open_transaction(
        &mut client,
        "MAIL FROM:<ünïcode@例え.jp> SMTPUTF8 BODY=BINARYMIME",
    );
    let body = "Subject: 日本語\r\n\r\nbytes: \u{0}é\r\n".as_bytes();
    client.send(&bdat(body, true));
    assert_eq!(client.reply(), "250 OK\r\n");
    // 8BITMIME with DATA in the same session.
    assert_eq!(
        client.code("MAIL FROM:<ö@example.com> SMTPUTF8 BODY=8BITMIME"),
        250
    );
    assert_eq!(client.code("RCPT TO:<ü@exämple.com>"), 250);
    assert_eq!(client.code("DATA"), 354);
    client.send("Subject: ü\r\n\r\nüber\r\n.\r\n".as_bytes());
    assert_eq!(client.reply(), "250 OK\r\n");
    // BINARYMIME wants BDAT.
    assert_eq!(client.code("MAIL FROM:<a@example.com> BODY=BINARYMIME"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
    assert_eq!(
        client.command("DATA"),
        "503 Error: BODY=BINARYMIME needs BDAT\r\n"
    );

    let messages = server.wait_for_messages(2);
    assert_eq!(messages[0].envelope.mail_from, "ünïcode@例え.jp");
    assert!(messages[0].envelope.smtputf8() && messages[0].envelope.binary_mime());
    assert_eq!(&messages[0].data[..], body);
    assert_eq!(messages[0].subject().as_deref(), Some("日本語"));
    assert!(messages[1].envelope.eight_bit_mime());
    assert_eq!(messages[1].subject().as_deref(), Some("ü"));
}

#[cfg(feature = "cli")]
#[test]
fn the_command_line_prints_a_chunked_message_and_has_the_switches() {
    let binary = Binary::start(&[], &[]);
    let mut client = Client::greeted(binary.addr());
    open_transaction(&mut client, "MAIL FROM:<a@example.com>");
    client.send(&bdat(b"Subject: chunked\r\n\r\n", false));
    assert!(client.reply().starts_with("250 "));
    client.send(&bdat(b"in two chunks\r\n", true));
    assert_eq!(client.reply(), "250 OK\r\n");
    assert_eq!(client.code("QUIT"), 221);
    let mut binary = binary;
    let mut output = String::new();
    // The DebuggingServer prints the message once it is accepted.
    while !output.contains("END MESSAGE") {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut binary.stdout, &mut line).unwrap_or(0) == 0 {
            break;
        }
        output.push_str(&line);
    }
    assert!(output.contains("Subject: chunked"), "{output}");
    assert!(output.contains("in two chunks"), "{output}");

    for flag in ["--no-chunking", "--compat"] {
        let binary = Binary::start(&[flag], &[]);
        let mut client = Client::greeted(binary.addr());
        let ehlo = client.command("EHLO c");
        assert!(!ehlo.contains("CHUNKING"), "{flag}: {ehlo}");
    }
}
