//! HAProxy's PROXY protocol in front of the fixture: hand-written v1 and v2
//! headers over raw sockets (whole, split, followed by pipelined SMTP,
//! malformed, late, LOCAL), and a real HAProxy with `send-proxy` and
//! `send-proxy-v2` between a client and the fixture.

use crate::support;

use std::fs::File;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use pretty_assertions::assert_eq;
use smtp_fixture::Direction;
use smtp_fixture::{ReceivedMessage, TestSmtpServer};
use support::{free_port, Client};

const CLIENT: &str = "192.0.2.7:40123";
const CLIENT6: &str = "[2001:db8::7]:40123";

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

fn proxied() -> TestSmtpServer {
    TestSmtpServer::builder().proxy_protocol().start()
}

fn v1(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
    format!(
        "PROXY {family} {} {} {} {}\r\n",
        source.ip(),
        destination.ip(),
        source.port(),
        destination.port()
    )
    .into_bytes()
}

/// A v2 header: `command` 0x20 (LOCAL) or 0x21 (PROXY), then the
/// addresses' family and block.
fn v2_raw(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
    let mut header = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    header.extend_from_slice(&[command, family]);
    header.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
    header.extend_from_slice(block);
    header
}

fn v2(source: SocketAddr, destination: SocketAddr) -> Vec<u8> {
    let octets = |ip: IpAddr| match ip {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    let mut block = octets(source.ip());
    block.extend(octets(destination.ip()));
    block.extend_from_slice(&source.port().to_be_bytes());
    block.extend_from_slice(&destination.port().to_be_bytes());
    v2_raw(0x21, if source.is_ipv4() { 0x11 } else { 0x21 }, &block)
}

/// Connects, sends `header`, and reads the greeting.
fn through_header(server: &TestSmtpServer, header: &[u8]) -> Client {
    let mut client = Client::connect(server.addr());
    client.send(header);
    client.greeting = client.reply();
    assert!(client.greeting.starts_with("220 "), "{:?}", client.greeting);
    client
}

fn deliver(client: &mut Client, to: &str) {
    let reply = client.send_message("ann@example.com", to, b"Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
}

/// The notes of every session's transcript so far.
fn notes(server: &TestSmtpServer) -> Vec<String> {
    server
        .transcripts()
        .iter()
        .flat_map(|t| t.lines.clone())
        .filter(|line| line.direction == Direction::Note)
        .map(|line| line.text)
        .collect()
}

/// The notes of the session `message` came on.
fn notes_of(server: &TestSmtpServer, message: &ReceivedMessage) -> Vec<String> {
    let transcript = server.transcript_of(message).expect("a transcript");
    let lines = transcript.lines.iter();
    lines
        .filter(|line| line.direction == Direction::Note)
        .map(|line| line.text.clone())
        .collect()
}

#[test]
fn a_v1_header_names_the_recorded_peer_and_the_proxy_is_kept() {
    let server = proxied();
    let mut client = through_header(&server, &v1(addr(CLIENT), addr("198.51.100.1:25")));
    deliver(&mut client, "bob@example.com");
    let proxy = client.writer.local_addr().unwrap();

    let message = server.wait_for_first_message();
    assert_eq!(message.peer, addr(CLIENT));
    assert_eq!(message.proxy, Some(proxy));
    let transcript = server.transcript_of(&message).unwrap();
    assert_eq!(transcript.peer, addr(CLIENT));
    assert_eq!(transcript.proxy, Some(proxy));
    let shown = transcript.to_string();
    assert!(
        shown.starts_with(&format!("session 1 from {CLIENT} via proxy {proxy} (")),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "-- PROXY v1: client {CLIENT} (to 198.51.100.1:25) via proxy {proxy}"
        )),
        "{shown}"
    );
    // The header is not an SMTP line.
    assert_eq!(transcript.client_lines()[0], "EHLO client.test");
}

#[test]
fn v2_headers_for_ipv4_and_ipv6() {
    let server = proxied();
    let cases = [
        (CLIENT, "198.51.100.1:25", "v4@example.com"),
        (CLIENT6, "[2001:db8::1]:25", "v6@example.com"),
    ];
    for (client, destination, to) in cases {
        let mut session = through_header(&server, &v2(addr(client), addr(destination)));
        deliver(&mut session, to);
        let message = server.wait_for_message(|m| m.envelope.rcpt_to == [to]);
        assert_eq!(message.peer, addr(client));
        assert_eq!(message.proxy, Some(session.writer.local_addr().unwrap()));
        let notes = notes_of(&server, &message);
        let expected = format!(
            "PROXY v2: client {client} (to {destination}) via proxy {}",
            message.proxy.unwrap()
        );
        assert_eq!(notes[0], expected);
    }
}

#[test]
fn smtp_pipelined_in_the_same_write_as_the_header() {
    let server = proxied();
    for header in [
        v1(addr(CLIENT), addr("198.51.100.1:25")),
        v2(addr(CLIENT), addr("198.51.100.1:25")),
    ] {
        let mut client = Client::connect(server.addr());
        let mut burst = header;
        burst.extend_from_slice(
            b"EHLO client.test\r\nMAIL FROM:<ann@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n",
        );
        client.send(&burst);
        assert!(client.reply().starts_with("220 "));
        assert!(client.reply().starts_with("250-"));
        assert_eq!(client.reply(), "250 OK\r\n");
        assert_eq!(client.reply(), "250 OK\r\n");
        assert!(client.reply().starts_with("354 "));
        client.send(b"Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT\r\n");
        assert!(client.reply().starts_with("250 "));
        assert!(client.reply().starts_with("221 "));
    }
    let messages = server.wait_for_messages(2);
    assert!(messages.iter().all(|m| m.peer == addr(CLIENT)), "{messages:?}");
    assert!(messages
        .iter()
        .all(|m| m.data == b"Subject: pipelined\r\n\r\nhi\r\n"));
}

#[test]
fn a_header_split_across_writes() {
    // A byte at a time, each checked as read, is slow on a loaded machine:
    // the header gets more than the default 5 s.
    let server = TestSmtpServer::builder()
        .proxy_protocol()
        .proxy_header_timeout(support::scaled(Duration::from_secs(60)))
        .start();
    let headers = [
        v1(addr(CLIENT6), addr("[2001:db8::1]:25")),
        v2(addr(CLIENT6), addr("[2001:db8::1]:25")),
    ];
    for header in headers {
        let mut client = Client::connect(server.addr());
        // A byte per write, each read by the server before the next is
        // sent; the greeting only comes after the last.
        for byte in &header {
            client.send_apart(std::slice::from_ref(byte));
        }
        assert!(client.reply().starts_with("220 "));
        deliver(&mut client, "bob@example.com");
    }
    let messages = server.wait_for_messages(2);
    assert!(messages.iter().all(|m| m.peer == addr(CLIENT6)), "{messages:?}");
}

#[test]
fn malformed_headers_close_the_connection_without_a_reply() {
    let mut bad_version = v2(addr(CLIENT), addr("198.51.100.1:25"));
    bad_version[12] = 0x11;
    let mut overlong = v2(addr(CLIENT), addr("198.51.100.1:25"));
    overlong[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    let cases: [(&str, Vec<u8>, &str); 9] = [
        (
            "plain SMTP",
            b"EHLO client.test\r\n".to_vec(),
            "not a PROXY protocol header",
        ),
        (
            "a TLS ClientHello",
            vec![0x16, 0x03, 0x01, 0x00, 0xF1, 0x01],
            "not a PROXY protocol header",
        ),
        (
            "v1, a leading zero",
            b"PROXY TCP4 192.0.2.07 198.51.100.1 1 2\r\nEHLO x\r\n".to_vec(),
            "v1: an address not in canonical form",
        ),
        (
            "v1, a bare LF",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2\nEHLO x\r\n".to_vec(),
            "v1: a bare CR or LF in the line",
        ),
        (
            "v1, a port too large",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n".to_vec(),
            "v1: a port not in 0-65535",
        ),
        (
            "v1, no CRLF in 107 bytes",
            [&b"PROXY UNKNOWN "[..], &[b'x'; 120]].concat(),
            "v1: no CRLF within 107 bytes",
        ),
        (
            "v1, UDP",
            b"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n".to_vec(),
            "v1: protocol not TCP4, TCP6 or UNKNOWN",
        ),
        ("v2, version 1", bad_version, "v2: unsupported version 1"),
        (
            "v2, a length of 65535",
            overlong,
            "v2: length 65535 over the limit",
        ),
    ];
    let server = TestSmtpServer::builder()
        .proxy_protocol()
        .keep_artifacts(false)
        .start();
    for (name, input, why) in &cases {
        let mut client = Client::connect(server.addr());
        client.send(input);
        assert_eq!(client.rest(), "", "{name}: the server said something");
        let notes = notes(&server);
        let expected = format!("malformed PROXY header ({why}");
        assert!(
            notes
                .iter()
                .any(|note| note.starts_with(&expected)
                    && note.ends_with(": connection closed without a reply")),
            "{name}: {notes:#?}"
        );
    }
    assert!(server.transcripts().iter().all(|t| t.server_lines().is_empty()));
    assert!(server.messages().is_empty());
}

#[test]
fn a_late_or_unfinished_header_times_out_without_a_reply() {
    let server = TestSmtpServer::builder()
        .proxy_header_timeout(Duration::from_millis(200))
        .start();
    for start in [
        &b""[..],
        b"PROXY TCP4 192.0.2.7 ",
        b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0C\xC0",
    ] {
        let mut client = Client::connect(server.addr());
        client.send(start);
        assert_eq!(client.rest(), "", "{start:?}");
    }
    let timed_out = notes(&server)
        .iter()
        .filter(|n| *n == "no PROXY header within 200ms: connection closed without a reply")
        .count();
    assert_eq!(timed_out, 3, "{:#?}", notes(&server));
}

#[test]
fn a_connection_closed_before_its_header_is_noted() {
    let server = proxied();
    let mut client = Client::connect(server.addr());
    client.send(b"PROXY TCP4 192.0.2.7");
    client.writer.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(client.rest(), "");
    let expected = "the connection closed before a PROXY header: connection closed without a reply";
    assert!(
        notes(&server).iter().any(|n| n == expected),
        "{:#?}",
        notes(&server)
    );
}

#[test]
fn local_and_unknown_headers_keep_the_connection_address() {
    let server = proxied();
    let cases: [(&[u8], &str); 4] = [
        (&v2_raw(0x20, 0x00, &[]), "LOCAL"),
        // LOCAL ignores any addresses it carries.
        (
            &v2(addr(CLIENT), addr("198.51.100.1:25"))
                .iter()
                .enumerate()
                .map(|(i, &b)| if i == 12 { 0x20 } else { b })
                .collect::<Vec<u8>>(),
            "LOCAL",
        ),
        (b"PROXY UNKNOWN\r\n", "UNKNOWN"),
        (&v2_raw(0x21, 0x31, &[0; 216]), "UNKNOWN"),
    ];
    for (n, (header, kind)) in cases.iter().enumerate() {
        let to = format!("local{n}@example.com");
        let mut client = through_header(&server, header);
        deliver(&mut client, &to);
        let own = client.writer.local_addr().unwrap();
        let message = server.wait_for_message(|m| m.envelope.rcpt_to == [to.as_str()]);
        assert_eq!((message.peer, message.proxy), (own, Some(own)), "{n}");
        let notes = notes_of(&server, &message);
        assert!(notes[0].contains(&format!(" {kind}")), "{n}: {notes:?}");
    }
}

#[test]
fn off_by_default_a_header_is_just_a_bad_command() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    let reply = client.command("PROXY TCP4 192.0.2.7 198.51.100.1 40123 25");
    assert!(reply.starts_with("500 "), "{reply}");
    deliver(&mut client, "bob@example.com");
    let message = server.wait_for_first_message();
    assert_eq!(
        (message.peer, message.proxy),
        (client.writer.local_addr().unwrap(), None)
    );
}

/// Implicit TLS starts after the header, and a ClientHello in the same
/// write as the header reaches the handshake.
#[cfg(feature = "tls")]
#[test]
fn implicit_tls_starts_after_the_header() {
    use std::io::{BufRead, BufReader, Write};

    let server = TestSmtpServer::builder().implicit_tls().proxy_protocol().start();
    let mut tls = support::tls_clients::rustls_client(server.certificate_der().expect("TLS is on"));
    let mut burst = v2(addr(CLIENT), addr("198.51.100.1:465"));
    tls.write_tls(&mut burst).expect("the ClientHello");
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    tcp.write_all(&burst).unwrap();
    let mut stream = BufReader::new(rustls::StreamOwned::new(tls, tcp));
    let mut line = String::new();
    stream.read_line(&mut line).expect("the greeting over TLS");
    assert!(line.starts_with("220 "), "{line:?}");
    let commands = "EHLO client.test\r\nMAIL FROM:<ann@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n";
    stream.get_mut().write_all(commands.as_bytes()).unwrap();
    stream
        .get_mut()
        .write_all(b"Subject: tls\r\n\r\nhi\r\n.\r\n")
        .unwrap();
    let message = server.wait_for_first_message();
    assert_eq!(message.peer, addr(CLIENT));
    assert!(message.tls.is_some());
}

/// `smtp-fixture --proxy-protocol`: the DebuggingServer's X-Peer is the
/// proxied client.
#[cfg(feature = "cli")]
#[test]
fn the_command_line_takes_the_header() {
    use std::io::BufRead;

    let mut binary = support::Binary::start(&["--proxy-protocol"], &[]);
    let mut client = Client::connect(binary.addr());
    client.send(&v1(addr(CLIENT), addr("198.51.100.1:25")));
    assert!(client.reply().starts_with("220 "));
    deliver(&mut client, "bob@example.com");
    let mut line = String::new();
    for _ in 0..20 {
        line.clear();
        binary.stdout.read_line(&mut line).expect("the message block");
        if line.starts_with("X-Peer:") {
            break;
        }
    }
    assert_eq!(line.trim_end(), "X-Peer: 192.0.2.7");
}

fn email(to: &str) -> lettre::Message {
    lettre::Message::builder()
        .from("ann@example.com".parse().unwrap())
        .to(to.parse().unwrap())
        .subject("through haproxy")
        .body(String::from("hello"))
        .unwrap()
}

/// A real HAProxy (`haproxy -db`, foreground) on a free loopback port,
/// relaying to `target` with `server_options`, killed when dropped.
struct HaProxy {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl HaProxy {
    fn start(binary: &Path, target: SocketAddr, server_options: &str) -> HaProxy {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = format!(
            "global\n    nbthread 1\n    maxconn 64\n\n\
             defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n\
             listen smtp\n    bind {addr}\n    unique-id-format %ci:%cp_%rt\n    server fixture {target} {server_options}\n"
        );
        let config_path = dir.path().join("haproxy.cfg");
        std::fs::write(&config_path, config).expect("the configuration");
        let log = File::create(dir.path().join("haproxy.log")).expect("a log file");
        let child = Command::new(binary)
            .arg("-db")
            .arg("-f")
            .arg(&config_path)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("haproxy starts");
        let mut proxy = HaProxy { child, addr, dir };
        proxy.wait_until_listening();
        proxy
    }

    /// Connects until HAProxy accepts (a bounded wait); the probe's
    /// connection ends at once (the fixture notes a close after a header).
    fn wait_until_listening(&mut self) {
        let what = format!("haproxy listens on {}", self.addr);
        support::eventually_within(Duration::from_secs(10), &what, || {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("haproxy exited ({status}):\n{}", self.log());
            }
            support::holds(TcpStream::connect(self.addr).is_ok())
        });
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("haproxy.log")).unwrap_or_default()
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn behind_haproxy_the_peer_is_the_client() {
    let binary = needs_tool!("haproxy");
    let variants = [
        ("send-proxy", 1),
        ("send-proxy-v2", 2),
        // TLVs (a unique ID) and a checksum the fixture verifies.
        ("send-proxy-v2 proxy-v2-options crc32c,unique-id", 2),
    ];
    for (options, version) in variants {
        let server = proxied();
        let haproxy = HaProxy::start(&binary, server.addr(), options);

        let mut client = Client::connect(haproxy.addr);
        assert!(client.reply().starts_with("220 "), "{options}");
        deliver(&mut client, "raw@example.com");
        let message = server.wait_for_message(|m| m.envelope.rcpt_to == ["raw@example.com"]);
        let own = client.writer.local_addr().unwrap();
        assert_eq!(message.peer, own, "{options}:\n{}", haproxy.log());
        let proxy = message.proxy.expect("the proxy's address");
        assert!(proxy.ip().is_loopback() && proxy != own, "{options}: {proxy}");
        let notes = notes_of(&server, &message);
        let expected = format!(
            "PROXY v{version}: client {own} (to {}) via proxy {proxy}",
            haproxy.addr
        );
        assert_eq!(notes[0], expected, "{options}");

        let email = email("lettre@example.com");
        let mailer = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
            .port(haproxy.addr.port())
            .build();
        lettre::Transport::send(&mailer, &email).expect("lettre sends through haproxy");
        let message = server.wait_for_message(|m| m.envelope.rcpt_to == ["lettre@example.com"]);
        assert!(message.peer.ip().is_loopback() && message.peer != message.proxy.unwrap());
    }
}

/// TLS passes through HAProxy (mode tcp) after its v2 header: the fixture
/// reads the header, then does the implicit-TLS handshake with lettre.
#[cfg(feature = "tls")]
#[test]
fn behind_haproxy_implicit_tls_passes_through() {
    let binary = needs_tool!("haproxy");
    let server = TestSmtpServer::builder().implicit_tls().proxy_protocol().start();
    let haproxy = HaProxy::start(&binary, server.addr(), "send-proxy-v2");
    let pem = server.certificate_pem().expect("TLS is on");
    support::tls_clients::lettre_send(haproxy.addr.port(), pem, true, support::tls_clients::verified)
        .expect("lettre sends over TLS through haproxy");
    let message = server.wait_for_first_message();
    assert!(message.tls.is_some());
    assert!(message.proxy.is_some() && message.peer != message.proxy.unwrap());
}
