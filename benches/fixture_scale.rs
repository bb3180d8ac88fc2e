//! Does the fixture stay linear? Sends many messages through one fixture
//! and prints the rate per slice (it must stay flat: no quadratic store,
//! waiter or transcript costs), then the cost of `messages()`.
//!
//! `cargo bench --bench fixture_scale` sends 200 000 messages;
//! `SMTP_FIXTURE_SCALE=1000000 cargo bench --bench fixture_scale` a million.

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

fn main() {
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
    let started = Instant::now();
    let snapshot = server.messages();
    println!(
        "\nmessages() with {} messages: {:.1} ms (bodies of {} bytes each are copied)",
        snapshot.len(),
        started.elapsed().as_secs_f64() * 1e3,
        snapshot[0].data.len()
    );
}
