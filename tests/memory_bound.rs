//! Memory stays bounded under an oversized DATA: 1 GiB sent to a server with
//! a 1 MiB limit grows the process's peak RSS by far less than the message.
//!
//! Alone in its test binary, so the peak it reads is its own.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use smtp_fixture::TestSmtpServer;

/// The process's peak resident set (VmHWM), in bytes; `None` off Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn reply(reader: &mut BufReader<TcpStream>) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a reply");
        all.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            return all;
        }
    }
}

#[test]
fn a_gigabyte_of_data_against_a_one_megabyte_limit() {
    let Some(before) = peak_rss() else {
        eprintln!("skipped: /proc/self/status is not available on this system");
        return;
    };
    let total: usize = std::env::var("SMTP_FIXTURE_FLOOD_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
        << 20;
    let server = TestSmtpServer::builder().data_size_limit(1 << 20).start();
    let stream = TcpStream::connect(server.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    assert!(reply(&mut reader).starts_with("220"));
    writer.write_all(b"HELO flood\r\n").expect("write");
    reply(&mut reader);
    writer
        .write_all(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
        .expect("write");
    for _ in 0..3 {
        reply(&mut reader);
    }
    let block = [b"x".repeat(1022).as_slice(), b"\r\n"].concat().repeat(1024); // 1 MiB of lines
    let started = Instant::now();
    let mut sent = 0;
    while sent < total {
        writer.write_all(&block).expect("the server keeps reading");
        sent += block.len();
    }
    writer.write_all(b".\r\n").expect("write");
    assert_eq!(reply(&mut reader), "552 Error: Too much mail data\r\n");
    let elapsed = started.elapsed();
    writer.write_all(b"NOOP\r\n").expect("write");
    assert_eq!(reply(&mut reader), "250 OK\r\n", "the session goes on");

    let growth = peak_rss().unwrap_or(before).saturating_sub(before);
    eprintln!(
        "flood: {} MiB in {:.1?} ({:.0} MB/s); peak RSS grew by {:.1} MiB",
        sent >> 20,
        elapsed,
        sent as f64 / 1e6 / elapsed.as_secs_f64(),
        growth as f64 / (1 << 20) as f64
    );
    assert!(growth < 64 << 20, "peak RSS grew by {growth} bytes");
    assert!(server.messages().is_empty());
}
