//! In-process figures for the fixture: how fast it starts and stops, what
//! an idle one costs, and how `messages()` scales. Prints a table; run with
//! `cargo bench --bench fixture`.

use std::time::{Duration, Instant};

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use smtp_fixture::TestSmtpServer;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

fn email() -> Message {
    Message::builder()
        .from("ann@example.com".parse::<Mailbox>().expect("mailbox"))
        .to("bob@example.com".parse::<Mailbox>().expect("mailbox"))
        .subject("bench")
        .body(String::from("hello"))
        .expect("a message")
}

fn main() {
    // Warm the shared runtime so the first sample does not pay for it.
    drop(TestSmtpServer::start());

    let starts: Vec<Duration> = (0..1000)
        .map(|_| {
            let started = Instant::now();
            let server = TestSmtpServer::start();
            let elapsed = started.elapsed();
            drop(server);
            elapsed
        })
        .collect();
    println!(
        "| start() until the port accepts (median of 1000) | {:.1} µs |",
        median(starts).as_secs_f64() * 1e6
    );

    let stops: Vec<Duration> = (0..1000)
        .map(|_| {
            let server = TestSmtpServer::start();
            let started = Instant::now();
            drop(server);
            started.elapsed()
        })
        .collect();
    println!(
        "| drop (median of 1000) | {:.1} µs |",
        median(stops).as_secs_f64() * 1e6
    );

    let email = email();
    let round_trips: Vec<Duration> = (0..200)
        .map(|_| {
            let started = Instant::now();
            let server = TestSmtpServer::start();
            let mailer = SmtpTransport::builder_dangerous(server.host())
                .port(server.port())
                .build();
            mailer.send(&email).expect("sent");
            server.wait_for_messages(1);
            drop(server);
            started.elapsed()
        })
        .collect();
    println!(
        "| start + one lettre send + wait_for_messages(1) + drop (median of 200) | {:.2} ms |",
        median(round_trips).as_secs_f64() * 1e3
    );

    let before = rss();
    let fixtures: Vec<TestSmtpServer> = (0..1000).map(|_| TestSmtpServer::start()).collect();
    let after = rss();
    if let (Some(before), Some(after)) = (before, after) {
        println!(
            "| idle fixture, RSS each (1000 alive) | {:.1} KiB |",
            (after - before) as f64 / 1000.0 / 1024.0
        );
    }
    drop(fixtures);

    let server = TestSmtpServer::start();
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build();
    let count = 2000;
    let started = Instant::now();
    for _ in 0..count {
        mailer.send(&email).expect("sent");
    }
    server.wait_for_messages(count);
    let elapsed = started.elapsed();
    println!(
        "| lettre sends through one fixture (2000, one thread) | {:.0} msg/s |",
        count as f64 / elapsed.as_secs_f64()
    );
    let started = Instant::now();
    let snapshot = server.messages();
    println!(
        "| messages() with {} messages | {:.2} ms |",
        snapshot.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
}
