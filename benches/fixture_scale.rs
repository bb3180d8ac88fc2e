//! Does the fixture stay linear? Sends many messages through one fixture
//! and prints the rate per slice (it must stay flat: no quadratic store,
//! waiter or transcript costs), then the cost of `messages()`.
//!
//! `cargo bench --bench fixture_scale` sends 200 000 messages;
//! `SMTP_FIXTURE_SCALE=1000000 cargo bench --bench fixture_scale` a million.
//!
//! `cargo bench --bench fixture_scale -- snapshot` only measures
//! `messages()` on a fixture holding 100 000 messages (sent over one
//! pipelined connection to 127.0.0.1, within 60 s): the time of one call and
//! the body bytes it copied (none: snapshots share the bodies).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use smtp_fixture::TestSmtpServer;

const CLIENTS: usize = 4;
const SLICES: usize = 10;

/// Sends `count` messages over one connection, each as one pipelined write.
fn client(addr: std::net::SocketAddr, count: usize) {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut line = String::new();
    let mut read_reply = |reader: &mut BufReader<TcpStream>| loop {
        line.clear();
        reader.read_line(&mut line).expect("a reply");
        assert!(line.len() > 4, "connection closed");
        if line.as_bytes()[3] == b' ' {
            return line[..3].to_string();
        }
    };
    read_reply(&mut reader);
    writer.write_all(b"EHLO scale\r\n").expect("write");
    read_reply(&mut reader);
    let message = b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: scale\r\n\r\n0123456789012345678901234567890123456789\r\n.\r\n";
    for _ in 0..count {
        writer.write_all(message).expect("write");
        for expected in ["250", "250", "354", "250"] {
            assert_eq!(read_reply(&mut reader), expected);
        }
    }
    writer.write_all(b"QUIT\r\n").expect("write");
}

/// Sends `count` messages over one connection without waiting for replies
/// (a writer thread sends, this thread counts the replies); fails after
/// `deadline`.
fn pipelined_client(addr: std::net::SocketAddr, count: usize, deadline: Duration) {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(deadline)).expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    let sender = thread::spawn(move || {
        let message = b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: snapshot\r\n\r\n0123456789012345678901234567890123456789\r\n.\r\n";
        let mut batch = b"EHLO snapshot\r\n".to_vec();
        for sent in 0..count {
            batch.extend_from_slice(message);
            if batch.len() > 64 * 1024 || sent + 1 == count {
                writer.write_all(&batch).expect("write");
                batch.clear();
            }
        }
        writer.write_all(b"QUIT\r\n").expect("write");
    });
    let started = Instant::now();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    // The greeting, EHLO, then MAIL, RCPT, DATA and the final reply each.
    let mut replies = 0;
    while replies < 2 + 4 * count {
        line.clear();
        reader.read_line(&mut line).expect("a reply in time");
        assert!(line.len() > 4, "connection closed after {replies} replies");
        assert!(matches!(&line[..1], "2" | "3"), "refused: {line}");
        if line.as_bytes()[3] == b' ' {
            replies += 1;
        }
        assert!(started.elapsed() < deadline, "not done within {deadline:?}");
    }
    sender.join().expect("the sender");
}

/// Prints the time of one `messages()` call and the body bytes it copied:
/// a body is copied if its buffer is not the one an earlier snapshot holds.
fn snapshot_cost(server: &TestSmtpServer) {
    let earlier = server.messages();
    let started = Instant::now();
    let snapshot = server.messages();
    let elapsed = started.elapsed();
    let held: usize = snapshot.iter().map(|m| m.data.len()).sum();
    let copied: usize = snapshot
        .iter()
        .zip(&earlier)
        .filter(|(now, before)| now.data.as_ptr() != before.data.as_ptr())
        .map(|(now, _)| now.data.len())
        .sum();
    println!(
        "\nmessages() with {} messages: {:.1} ms; body bytes copied: {copied} (of {held} held)",
        snapshot.len(),
        elapsed.as_secs_f64() * 1e3,
    );
}

fn snapshot_only() {
    const COUNT: usize = 100_000;
    let deadline = Duration::from_secs(60);
    let server = TestSmtpServer::builder().wait_timeout(deadline).start();
    let started = Instant::now();
    pipelined_client(server.addr(), COUNT, deadline);
    server.wait_for_messages(COUNT);
    println!(
        "filled the fixture with {COUNT} messages over one pipelined connection in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    snapshot_cost(&server);
}

fn main() {
    if std::env::args().any(|arg| arg == "snapshot") {
        return snapshot_only();
    }
    let total: usize = std::env::var("SMTP_FIXTURE_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let per_slice = total / SLICES;
    let server = TestSmtpServer::builder()
        .wait_timeout(Duration::from_secs(120))
        .start();
    let addr = server.addr();
    println!("| slice | messages in the fixture | msg/s |");
    println!("|---|---|---|");
    for slice in 1..=SLICES {
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| thread::spawn(move || client(addr, per_slice / CLIENTS)))
            .collect();
        for client in clients {
            client.join().expect("a client");
        }
        let held = server
            .wait_for_messages(slice * (per_slice / CLIENTS) * CLIENTS)
            .len();
        println!(
            "| {slice} | {held} | {:.0} |",
            per_slice as f64 / started.elapsed().as_secs_f64()
        );
    }
    snapshot_cost(&server);
}
