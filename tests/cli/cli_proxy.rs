//! `smtp-fixture -c PureProxy LOCAL REMOTE`: the binary relays to a fixture,
//! and the upstream's refusals reach the client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use smtp_fixture::{on, Reply, TestSmtpServer};
use support::Binary;

use crate::support;

/// Starts the proxy on `bind` relaying to `upstream`; returns it, its port,
/// its second stdout line and (off loopback) its first stderr line.
fn proxy(bind: &str, upstream: &TestSmtpServer) -> (Binary, u16, String) {
    let mut binary = Binary::start_on(bind, &["-c", "PureProxy"], &[&upstream.addr().to_string()]);
    let mut lines = String::new();
    binary.stdout.read_line(&mut lines).expect("the relaying line");
    if bind != "127.0.0.1" {
        let stderr = binary.stderr.take().expect("stderr");
        BufReader::new(stderr).read_line(&mut lines).expect("the warning");
    }
    let port = binary.port;
    (binary, port, lines)
}

fn send(port: u16, rcpts: &[&str], body: &str) -> String {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    let mut script = String::from("EHLO client\r\nMAIL FROM:<ann@example.com>\r\n");
    for rcpt in rcpts {
        script.push_str(&format!("RCPT TO:<{rcpt}>\r\n"));
    }
    script.push_str(&format!("DATA\r\n{body}\r\n.\r\nQUIT\r\n"));
    writer.write_all(script.as_bytes()).expect("write");
    let mut replies = String::new();
    BufReader::new(stream)
        .read_to_string(&mut replies)
        .expect("the replies");
    replies
}

#[test]
fn the_binary_relays_to_a_fixture_with_x_peer() {
    let upstream = TestSmtpServer::start();
    let (_proxy, port, banner) = proxy("127.0.0.1", &upstream);
    assert!(
        banner.contains(&format!("relaying to {}", upstream.addr())),
        "{banner}"
    );
    let replies = send(
        port,
        &["bob@example.com"],
        "Subject: relayed\r\n\r\n..dot\r\nbody",
    );
    assert!(replies.contains("\r\n250 OK\r\n221"), "{replies}");
    let message = upstream.wait_for_messages(1).remove(0);
    assert_eq!(message.envelope.rcpt_to, ["bob@example.com"]);
    assert_eq!(
        message.data,
        b"Subject: relayed\r\nX-Peer: 127.0.0.1\r\n\r\n.dot\r\nbody\r\n".to_vec()
    );
}

#[test]
fn an_upstream_refusal_reaches_the_client() {
    let upstream = TestSmtpServer::start();
    upstream.respond(on::rcpt_to("gone@example.com"), Reply::new(550, "5.1.1 gone"));
    let (_proxy, port, _) = proxy("127.0.0.1", &upstream);
    let replies = send(port, &["gone@example.com"], "Subject: x\r\n\r\nx");
    assert!(
        replies.contains("550 5.1.1 gone"),
        "the refusal is not lost: {replies}"
    );
    assert!(upstream.messages().is_empty());
}

#[test]
fn a_proxy_on_a_non_loopback_address_warns_of_an_open_relay() {
    let upstream = TestSmtpServer::start();
    let (_proxy, _port, output) = proxy("0.0.0.0", &upstream);
    assert!(output.contains("warning: PureProxy on 0.0.0.0"), "{output}");
}
