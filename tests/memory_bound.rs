//! Memory stays bounded under an oversized DATA: 1 GiB sent to a server with
//! a 1 MiB limit grows the process's peak RSS by far less than the message.
//!
//! Alone in its test binary, so the peak it reads is its own.

use std::io::Write;
use std::time::{Duration, Instant};

use smtp_fixture::TestSmtpServer;
use support::Client;

mod support;

/// The process's peak resident set (VmHWM), in bytes; `None` off Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn a_gigabyte_of_data_against_a_one_megabyte_limit() {
    let Some(before) = peak_rss() else {
        support::skip("/proc/self/status is not available on this system");
        return;
    };
    let total: usize = std::env::var("SMTP_FIXTURE_FLOOD_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
        << 20;
    let server = TestSmtpServer::builder().data_size_limit(1 << 20).start();
    let mut client = Client::greeted(server.addr());
    client.set_timeout(Duration::from_secs(120));
    client.command("HELO flood");
    client.send(b"MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n");
    for _ in 0..3 {
        client.reply();
    }
    let block = [b"x".repeat(1022).as_slice(), b"\r\n"].concat().repeat(1024); // 1 MiB of lines
    let started = Instant::now();
    let mut sent = 0;
    while sent < total {
        client.writer.write_all(&block).expect("the server keeps reading");
        sent += block.len();
    }
    client.send(b".\r\n");
    assert_eq!(client.reply(), "552 Error: Too much mail data\r\n");
    let elapsed = started.elapsed();
    assert_eq!(client.command("NOOP"), "250 OK\r\n", "the session goes on");

    let growth = peak_rss().unwrap_or(before).saturating_sub(before);
    eprintln!(
        "flood: {} MiB in {:.1?} ({:.0} MB/s); peak RSS grew by {:.1} MiB",
        sent >> 20,
        elapsed,
        sent as f64 / 1e6 / elapsed.as_secs_f64(),
        growth as f64 / f64::from(1 << 20)
    );
    assert!(growth < 64 << 20, "peak RSS grew by {growth} bytes");
    assert!(server.messages().is_empty());
}
