//! Failures over time on the command line and in `POST /api/v1/rules`:
//! `--greylist`, `--rate`, `--quota`, `--per-connection`, `--lose-reply`,
//! `--chance`. The binary's clock is real, so these tests check the first
//! refusals; the passing of time is the Rust API's (manual clock) to test.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::Command;

use pretty_assertions::assert_eq;
use support::{Binary, Client};

use crate::http::{get, send_json};
use crate::support;

/// MAIL, RCPT, DATA and a small message on a greeted client: the final
/// reply, or the reply that stopped the transaction.
fn transaction(client: &mut Client, to: &str, subject: &str) -> String {
    let mail = client.command("MAIL FROM:<shop@example.com>");
    if !mail.starts_with("250") {
        return mail;
    }
    let rcpt = client.command(&format!("RCPT TO:<{to}>"));
    if !rcpt.starts_with("250") {
        client.command("RSET");
        return rcpt;
    }
    assert!(client.command("DATA").starts_with("354"));
    client.send(format!("Subject: {subject}\r\n\r\nhi\r\n.\r\n").as_bytes());
    client.try_reply().unwrap_or_default()
}

fn ehloed(addr: SocketAddr) -> Client {
    let mut client = Client::greeted(addr);
    assert_eq!(client.code("EHLO client.test"), 250);
    client
}

#[test]
fn greylist_rate_quota_and_per_connection_flags_send_their_replies() {
    let server = Binary::start(
        &["-c", "SmtpServer"],
        &[
            "--greylist",
            "RCPT TO:new@example.com=5m",
            "--rate",
            "MESSAGE=2/1h",
            "--quota",
            "MESSAGE=1messages,552",
            "--per-connection",
            "3",
        ],
    );
    let mut client = ehloed(server.addr());
    let greylisted = transaction(&mut client, "new@example.com", "first");
    assert!(greylisted.starts_with("451 4.7.1 "), "{greylisted}");
    assert!(transaction(&mut client, "ann@example.com", "1").starts_with("250"));
    let full = transaction(&mut client, "ann@example.com", "2");
    assert!(full.starts_with("552 5.2.2 "), "{full}");
    // The quota refused the 2nd after the rate limit let it through: the
    // rate limit counted it, so the 3rd message is over 2 an hour.
    let limited = transaction(&mut client, "bob@example.com", "3");
    assert!(
        limited.starts_with("421 4.7.0 "),
        "4th MAIL in one connection: {limited}"
    );
    assert!(client.closed());
    let mut again = ehloed(server.addr());
    let limited = transaction(&mut again, "bob@example.com", "3");
    assert!(limited.starts_with("451 4.7.1 "), "{limited}");
}

/// The service's HTTP address, from the line it prints.
fn service(after: &[&str]) -> (Binary, SocketAddr) {
    let mut binary = Binary::start(&["-c", "SmtpServer", "--http", "127.0.0.1:0"], after);
    let mut line = String::new();
    binary.stdout.read_line(&mut line).expect("the HTTP line");
    let addr = line
        .trim()
        .strip_prefix("smtp-fixture: HTTP API and web page on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP address in {line:?}"));
    (binary, addr)
}

#[test]
fn a_lost_reply_stores_the_message_and_the_retry_is_stored_again() {
    let (binary, http) = service(&["--lose-reply", "MESSAGE", "--times", "1"]);
    let mut client = ehloed(binary.addr());
    assert_eq!(
        transaction(&mut client, "ann@example.com", "invoice"),
        "",
        "no reply"
    );
    assert!(client.closed());
    let mut retry = ehloed(binary.addr());
    assert!(transaction(&mut retry, "ann@example.com", "invoice").starts_with("250"));
    support::eventually("both arrivals stored", || {
        support::holds(get(http, "/api/v1/messages").json()["total"] == 2)
    });
}

#[test]
fn posted_rules_over_time_answer_and_list_as_posted() {
    let (binary, http) = service(&[]);
    let posted = serde_json::json!([
        {"rate": "MESSAGE=1/3600000ms"},
        {"greylist": "RCPT TO:new@example.com=300000ms"},
        {"reply": "DATA=451 4.3.0 Later", "chance": "50@7"},
    ]);
    let added = send_json(http, "POST", "/api/v1/rules", &posted.to_string());
    assert_eq!(added.status, 201, "{}", added.text());
    let listed = get(http, "/api/v1/rules").json()["rules"].clone();
    assert_eq!(listed[0]["rate"], "MESSAGE=1/3600000ms", "{listed}");
    assert_eq!(
        listed[1]["greylist"], "RCPT TO:new@example.com=300000ms",
        "{listed}"
    );
    let chance = listed[2]["rule"].as_str().unwrap_or_default();
    assert!(chance.contains("50% of the time (seed 7)"), "{listed}");

    let mut client = ehloed(binary.addr());
    let greylisted = transaction(&mut client, "new@example.com", "x");
    assert!(greylisted.starts_with("451 4.7.1 "), "{greylisted}");
    let bad = send_json(
        http,
        "POST",
        "/api/v1/rules",
        r#"{"reply": "DATA=451 No", "chance": "lots"}"#,
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
}

/// Which of `count` messages a `--chance 30@SEED` rule refuses.
fn refused_by_chance(seed: u64, count: usize) -> Vec<usize> {
    let chance = format!("30@{seed}");
    let server = Binary::start(
        &["-c", "SmtpServer"],
        &["--reply", "MESSAGE=451 4.3.0 Later", "--chance", &chance],
    );
    let mut client = ehloed(server.addr());
    (0..count)
        .filter(|n| {
            let reply = transaction(&mut client, "ann@example.com", &n.to_string());
            assert!(reply.starts_with("250") || reply.starts_with("451"), "{reply}");
            reply.starts_with("451")
        })
        .collect()
}

#[test]
fn seeded_chaos_on_the_command_line_fails_the_same_attempts_in_every_run() {
    let first = refused_by_chance(42, 30);
    assert_eq!(first, refused_by_chance(42, 30));
    assert!(!first.is_empty() && first.len() < 30, "{first:?}");
    assert_ne!(first, refused_by_chance(43, 30));
}

#[test]
fn malformed_rules_over_time_are_usage_errors() {
    for args in [
        vec!["--rate", "MESSAGE=10"],
        vec!["--rate", "MESSAGE=10/soon"],
        vec!["--quota", "1XB"],
        vec!["--quota", "1MB,550"],
        vec!["--greylist", "later"],
        vec!["--chance", "30"],
        vec!["--reply", "DATA=451 No", "--chance", "300"],
        vec!["--reply", "DATA=451 No", "--chance", "30", "--chance", "40"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("Usage:"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_manual_clock_in_service_mode_is_moved_over_http() {
    let (binary, http) = service(&["--manual-clock", "--greylist", "5m"]);
    let advance = |by: &str| {
        let body = serde_json::json!({ "advance": by }).to_string();
        let response = send_json(http, "POST", "/api/v1/clock", &body);
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["Seconds"].clone()
    };
    let mut client = ehloed(binary.addr());
    let first = transaction(&mut client, "ann@example.com", "x");
    assert!(first.starts_with("451 4.7.1 "), "{first}");
    assert_eq!(advance("4m"), 240.0, "a manual clock moves only when told");
    assert!(transaction(&mut client, "ann@example.com", "x").starts_with("451 4.7.1 "));
    assert_eq!(advance("2m"), 360.0);
    assert!(transaction(&mut client, "ann@example.com", "x").starts_with("250"));
    assert_eq!(get(http, "/api/v1/clock").json()["Seconds"], 360.0);
    let bad = send_json(http, "POST", "/api/v1/clock", r#"{"advance": "soon"}"#);
    assert_eq!(bad.status, 400, "{}", bad.text());
}
