//! No lost message, no phantom message: many clients at once, random sizes,
//! RSET, pipelining and clients that vanish mid-DATA. Every message that got
//! its final 250 must be recorded exactly once, byte for byte, and nothing
//! else may be recorded.
//!
//! The CI size is small; `SMTP_FIXTURE_LOAD=full cargo test --release --test
//! load_no_loss` runs 50 clients × 200 messages of up to 256 KiB.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use smtp_fixture::TestSmtpServer;
use support::Client;

mod support;

/// A small deterministic generator (xorshift64*), so a failure can be
/// replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A message body of about `size` bytes: CRLF lines, some starting with a
/// dot, and its dot-stuffed wire form.
fn body(rng: &mut Rng, id: &str, size: usize) -> (Vec<u8>, Vec<u8>) {
    let mut data = format!("Message-ID: <{id}@load.test>\r\nSubject: {id}\r\n\r\n").into_bytes();
    while data.len() < size {
        let len = rng.below(120) as usize;
        let mut line: Vec<u8> = (0..len).map(|_| b' ' + rng.below(95) as u8).collect();
        if rng.below(10) == 0 {
            line.insert(0, b'.');
        }
        data.extend_from_slice(&line);
        data.extend_from_slice(b"\r\n");
    }
    let mut wire = Vec::with_capacity(data.len() + 64);
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
    }
    wire.extend_from_slice(b".\r\n");
    (data, wire)
}

/// A client that has said EHLO, with reads bounded by 30 s.
fn connect(addr: SocketAddr) -> Client {
    let mut client = Client::greeted(addr);
    client.set_timeout(Duration::from_secs(30));
    assert_eq!(client.code("EHLO load"), 250);
    client
}

/// One client's run: returns the messages acknowledged with 250.
fn client_run(
    addr: SocketAddr,
    client_id: usize,
    messages: usize,
    max_size: usize,
) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (client_id as u64 + 1));
    let mut acknowledged = Vec::new();
    let mut client = connect(addr);
    for n in 0..messages {
        let id = format!("c{client_id}m{n}");
        let size = rng.below(max_size as u64 + 1) as usize;
        let (data, wire) = body(&mut rng, &id, size);
        let envelope =
            format!("MAIL FROM:<{id}@load.test>\r\nRCPT TO:<rcpt{client_id}@load.test>\r\nDATA\r\n");
        match rng.below(8) {
            0 => {
                // Vanish mid-DATA: nothing may be recorded for this one.
                assert_eq!(
                    client.send_code(format!("MAIL FROM:<{id}@load.test>\r\n").as_bytes()),
                    250
                );
                assert_eq!(
                    client.send_code(format!("RCPT TO:<rcpt{client_id}@load.test>\r\n").as_bytes()),
                    250
                );
                assert_eq!(client.send_code(b"DATA\r\n"), 354);
                let cut = wire.len().saturating_sub(5) / 2;
                client.writer.write_all(&wire[..cut]).expect("write");
                drop(client);
                client = connect(addr);
                continue;
            }
            1 => {
                // A transaction abandoned with RSET.
                assert_eq!(
                    client.send_code(format!("MAIL FROM:<{id}-rset@load.test>\r\n").as_bytes()),
                    250
                );
                assert_eq!(client.send_code(b"RSET\r\n"), 250);
            }
            _ => {}
        }
        let accepted = if rng.below(2) == 0 {
            // Pipelined: the envelope in one write.
            client.writer.write_all(envelope.as_bytes()).expect("write");
            assert_eq!(
                [client.reply_code(), client.reply_code(), client.reply_code()],
                [250, 250, 354]
            );
            client.send_code(&wire)
        } else {
            for line in envelope.split_inclusive('\n') {
                let code = client.send_code(line.as_bytes());
                assert!(code == 250 || code == 354, "{line:?} got {code}");
            }
            client.send_code(&wire)
        };
        assert_eq!(accepted, 250, "message {id}");
        acknowledged.push((id, data));
    }
    let _ = client.send_code(b"QUIT\r\n");
    acknowledged
}

#[test]
fn every_acknowledged_message_is_recorded_once_and_nothing_else() {
    let full = std::env::var("SMTP_FIXTURE_LOAD").is_ok_and(|v| v == "full");
    let (clients, per_client, max_size) = if full {
        (50, 200, 256 * 1024)
    } else {
        (10, 20, 32 * 1024)
    };
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_secs(60))
        .start();
    let addr = server.addr();
    let threads: Vec<_> = (0..clients)
        .map(|c| thread::spawn(move || client_run(addr, c, per_client, max_size)))
        .collect();
    let mut expected: HashMap<String, Vec<u8>> = HashMap::new();
    for thread in threads {
        for (id, data) in thread.join().expect("a client thread") {
            expected.insert(id, data);
        }
    }
    let recorded = server.wait_for_messages(expected.len());
    assert_eq!(recorded.len(), expected.len(), "phantom messages were recorded");
    let mut seen = HashMap::new();
    for message in &recorded {
        let id = message.subject().expect("every message has its id as subject");
        assert!(seen.insert(id.clone(), ()).is_none(), "{id} recorded twice");
        let sent = expected
            .get(&id)
            .unwrap_or_else(|| panic!("{id} was recorded but never acknowledged"));
        assert!(
            message.data == *sent,
            "{id}: recorded bytes differ from the bytes sent"
        );
        assert_eq!(message.envelope.mail_from, format!("{id}@load.test"));
    }
    eprintln!(
        "load: {} clients, {} messages acknowledged and recorded",
        clients,
        recorded.len()
    );
}
