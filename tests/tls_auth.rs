//! STARTTLS, implicit TLS and AUTH: a production mail configuration works
//! against the fixture by changing host, port and the trusted root only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::{on, Reply, TestSmtpServer};

mod support;

fn email() -> Message {
    Message::builder()
        .from("ann@example.com".parse::<Mailbox>().expect("mailbox"))
        .to("bob@example.com".parse::<Mailbox>().expect("mailbox"))
        .subject("Over TLS")
        .body(String::from("secret"))
        .expect("a message")
}

fn tls_parameters(server: &TestSmtpServer) -> TlsParameters {
    let pem = server.certificate_pem().expect("TLS is on");
    let root = Certificate::from_pem(pem.as_bytes()).expect("a PEM certificate");
    TlsParameters::builder("localhost".to_string())
        .add_root_certificate(root)
        .build_rustls()
        .expect("TLS parameters")
}

fn ann() -> Credentials {
    Credentials::new("ann".to_string(), "s3cret".to_string())
}

#[test]
fn starttls_and_auth_plain_with_the_blocking_transport() {
    let server = TestSmtpServer::builder()
        .starttls()
        .auth_user("ann", "s3cret")
        .require_auth(true)
        .start();
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::Required(tls_parameters(&server)))
        .credentials(ann())
        .authentication(vec![Mechanism::Plain])
        .build();
    mailer.send(&email()).expect("sent over STARTTLS with AUTH PLAIN");

    let message = server.wait_for_messages(1).remove(0);
    let tls = message.tls.as_ref().expect("the session was encrypted");
    assert!(tls.version.starts_with("TLSv1_"), "{tls:?}");
    assert!(!tls.cipher.is_empty());
    assert_eq!(tls.sni.as_deref(), Some("localhost"));
    let auth = message.auth.as_ref().expect("the client authenticated");
    assert_eq!(
        (auth.mechanism.as_str(), auth.username.as_str()),
        ("PLAIN", "ann")
    );
    let transcript = message.transcript().expect("a transcript");
    assert!(
        transcript.to_string().contains("TLS started: TLSv1_"),
        "{transcript}"
    );
}

#[tokio::test]
async fn implicit_tls_and_auth_login_with_the_async_transport() {
    let server = TestSmtpServer::builder()
        .implicit_tls()
        .auth_user("ann", "s3cret")
        .start();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::Wrapper(tls_parameters(&server)))
        .credentials(ann())
        .authentication(vec![Mechanism::Login])
        .build();
    mailer
        .send(email())
        .await
        .expect("sent over implicit TLS with AUTH LOGIN");
    let message = server.wait_for_messages_async(1).await.remove(0);
    assert!(message.tls.is_some());
    assert_eq!(message.auth.map(|a| a.mechanism), Some("LOGIN".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_without_credentials_async() {
    let server = TestSmtpServer::builder().starttls().require_tls(true).start();
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::Required(tls_parameters(&server)))
        .build();
    mailer.send(email()).await.expect("sent");
    let message = server.wait_for_messages_async(1).await.remove(0);
    assert!(message.tls.is_some());
    assert_eq!(message.auth, None);
}

#[test]
fn xoauth2_with_lettre() {
    let server = TestSmtpServer::builder()
        .auth_user("ann@example.com", "ya29.token")
        .start();
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .credentials(Credentials::new(
            "ann@example.com".to_string(),
            "ya29.token".to_string(),
        ))
        .authentication(vec![Mechanism::Xoauth2])
        .build();
    mailer.send(&email()).expect("sent with XOAUTH2");
    assert_eq!(
        server.wait_for_messages(1)[0]
            .auth
            .as_ref()
            .map(|a| a.mechanism.as_str()),
        Some("XOAUTH2")
    );
}

#[test]
fn a_wrong_password_is_a_permanent_535() {
    let server = TestSmtpServer::builder().auth_user("ann", "s3cret").start();
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .credentials(Credentials::new("ann".to_string(), "guess".to_string()))
        .build();
    let error = mailer.send(&email()).unwrap_err();
    assert!(error.is_permanent(), "{error:?}");
    assert_eq!(error.status().map(|c| c.to_string()).as_deref(), Some("535"));
    assert!(server.messages().is_empty());
}

#[test]
fn a_scripted_auth_reply_wins() {
    let server = TestSmtpServer::builder().auth_any().start();
    server
        .respond(
            on::auth(),
            Reply::new(454, "4.7.0 Temporary authentication failure"),
        )
        .times(1);
    let mailer = SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .credentials(ann())
        .build();
    let error = mailer.send(&email()).unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    mailer.send(&email()).expect("the second attempt authenticates");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

/// A raw client, over TCP and then, after STARTTLS, over TLS.
struct Raw {
    stream: Box<dyn ReadWrite>,
    pending: Vec<u8>,
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

impl Raw {
    fn connect(server: &TestSmtpServer) -> Raw {
        let tcp = TcpStream::connect(server.addr()).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut raw = Raw {
            stream: Box::new(tcp),
            pending: Vec::new(),
        };
        assert!(raw.reply().starts_with("220 "));
        raw
    }

    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            while !self.pending.contains(&b'\n') {
                let mut buf = [0u8; 4096];
                let n = self.stream.read(&mut buf).expect("read");
                assert!(n > 0, "closed while waiting for a reply; so far {all:?}");
                self.pending.extend_from_slice(&buf[..n]);
            }
            let end = self.pending.iter().position(|&b| b == b'\n').expect("a line") + 1;
            let line: Vec<u8> = self.pending.drain(..end).collect();
            let line = String::from_utf8(line).expect("UTF-8");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    fn command(&mut self, line: &str) -> String {
        self.stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        self.reply()
    }

    /// STARTTLS, then the handshake, trusting the server's certificate.
    fn starttls(self, server: &TestSmtpServer) -> Raw {
        let mut raw = self;
        assert_eq!(raw.command("STARTTLS"), "220 2.0.0 Ready to start TLS\r\n");
        let connection = support::tls_clients::rustls_client(server.certificate_der().expect("TLS is on"));
        let stream = std::mem::replace(&mut raw.stream, Box::new(std::io::Cursor::new(Vec::new())));
        Raw {
            stream: Box::new(rustls::StreamOwned::new(connection, stream)),
            pending: Vec::new(),
        }
    }
}

#[test]
fn starttls_resets_the_session_and_is_announced_only_before_tls() {
    let server = TestSmtpServer::builder().starttls().auth_any().start();
    let mut raw = Raw::connect(&server);
    let ehlo = raw.command("EHLO client");
    assert!(ehlo.contains("250-STARTTLS\r\n"), "{ehlo}");
    assert_eq!(raw.command("MAIL FROM:<before@example.com>"), "250 OK\r\n");
    let mut raw = raw.starttls(&server);
    // Everything before the handshake is forgotten: greet again.
    assert_eq!(
        raw.command("MAIL FROM:<a@example.com>"),
        "503 Error: send HELO first\r\n"
    );
    let ehlo = raw.command("EHLO client");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    assert!(
        ehlo.contains("250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2\r\n"),
        "{ehlo}"
    );
    assert_eq!(raw.command("STARTTLS"), "503 5.5.1 Error: TLS already active\r\n");
    assert_eq!(raw.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
}

#[test]
fn require_tls_refuses_mail_and_auth_before_starttls() {
    let server = TestSmtpServer::builder()
        .starttls()
        .require_tls(true)
        .auth_any()
        .start();
    let mut raw = Raw::connect(&server);
    raw.command("EHLO client");
    let refusal = "530 5.7.0 Must issue a STARTTLS command first\r\n";
    assert_eq!(raw.command("MAIL FROM:<a@example.com>"), refusal);
    assert_eq!(
        raw.command(&format!("AUTH PLAIN {}", BASE64.encode("\0ann\0pw"))),
        refusal
    );
    let mut raw = raw.starttls(&server);
    raw.command("EHLO client");
    assert_eq!(raw.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
}

#[test]
fn auth_over_plaintext_can_be_refused_with_538() {
    let server = TestSmtpServer::builder()
        .starttls()
        .auth_any()
        .auth_requires_tls(true)
        .start();
    let mut raw = Raw::connect(&server);
    let ehlo = raw.command("EHLO client");
    assert!(!ehlo.contains("AUTH"), "AUTH is not offered before TLS: {ehlo}");
    let reply = raw.command(&format!("AUTH PLAIN {}", BASE64.encode("\0ann\0pw")));
    assert!(reply.starts_with("538 5.7.11"), "{reply}");
}

#[test]
fn the_auth_exchanges_over_a_raw_socket() {
    let server = TestSmtpServer::builder()
        .auth_user("tim", "tanstaaftanstaaf")
        .require_auth(true)
        .start();
    let mut raw = Raw::connect(&server);
    raw.command("EHLO client");
    assert_eq!(
        raw.command("MAIL FROM:<a@example.com>"),
        "530 5.7.0 Authentication required\r\n"
    );
    assert_eq!(raw.command("AUTH PLAIN"), "334 \r\n");
    assert_eq!(raw.command("*"), "501 5.7.0 Authentication cancelled\r\n");
    assert_eq!(
        raw.command("AUTH PLAIN !!!notbase64"),
        "501 5.5.2 Error: malformed authentication response\r\n"
    );
    assert_eq!(
        raw.command("AUTH KERBEROS_V4"),
        "504 5.5.4 Unrecognized authentication type\r\n"
    );
    assert_eq!(
        raw.command("AUTH"),
        "501 Syntax: AUTH <mechanism> [<initial-response>]\r\n"
    );
    let wrong = BASE64.encode("\0tim\0wrong");
    assert_eq!(
        raw.command(&format!("AUTH PLAIN {wrong}")),
        "535 5.7.8 Authentication credentials invalid\r\n"
    );

    // CRAM-MD5, computed here with the hmac crate from the challenge.
    let challenge = raw.command("AUTH CRAM-MD5");
    let challenge = challenge.strip_prefix("334 ").expect("a challenge").trim_end();
    let challenge = String::from_utf8(BASE64.decode(challenge).expect("base64")).expect("text");
    let mut mac = Hmac::<md5_reference::Md5>::new_from_slice(b"tanstaaftanstaaf").expect("a key");
    mac.update(challenge.as_bytes());
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let answer = BASE64.encode(format!("tim {digest}"));
    assert_eq!(raw.command(&answer), "235 2.7.0 Authentication successful\r\n");
    assert_eq!(
        raw.command("AUTH PLAIN"),
        "503 5.5.1 Error: already authenticated\r\n"
    );
    assert_eq!(raw.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
}

#[test]
fn a_failed_handshake_ends_only_that_session() {
    let server = TestSmtpServer::builder().starttls().start();
    let mut raw = Raw::connect(&server);
    raw.command("EHLO client");
    assert_eq!(raw.command("STARTTLS"), "220 2.0.0 Ready to start TLS\r\n");
    raw.stream
        .write_all(b"this is not a TLS ClientHello\r\n")
        .expect("write");
    let mut rest = Vec::new();
    let _ = raw.stream.read_to_end(&mut rest);
    // Another client is served, over TLS too.
    let mut other = Raw::connect(&server);
    other.command("EHLO client");
    let mut other = other.starttls(&server);
    assert!(other.command("EHLO client").starts_with("250-localhost"));
    let transcripts = server.transcripts();
    assert!(
        transcripts[0].to_string().contains("TLS handshake failed"),
        "{}",
        transcripts[0]
    );
}

#[test]
fn pipelined_bursts_are_answered_in_order() {
    let server = TestSmtpServer::start();
    let tcp = TcpStream::connect(server.addr()).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut reader = BufReader::new(tcp.try_clone().expect("clone"));
    let mut writer = tcp;
    let mut burst = String::from("EHLO client\r\n");
    for n in 0..50 {
        burst.push_str(&format!(
            "MAIL FROM:<a@example.com>\r\nRCPT TO:<r{n}@example.com>\r\nRCPT TO:<bad address>\r\nDATA\r\nSubject: {n}\r\n\r\n.\r\n"
        ));
    }
    burst.push_str("QUIT\r\n");
    writer.write_all(burst.as_bytes()).expect("one write");
    let mut codes = Vec::new();
    let mut line = String::new();
    while reader.read_line(&mut line).expect("read") > 0 {
        if line.as_bytes()[3] == b' ' {
            codes.push(line[..3].to_string());
        }
        line.clear();
    }
    let mut expected = vec!["220".to_string(), "250".to_string()];
    for _ in 0..50 {
        expected.extend(["250", "250", "501", "354", "250"].map(String::from));
    }
    expected.push("221".to_string());
    assert_eq!(codes, expected);
    let messages = server.wait_for_messages(50);
    let subjects: Vec<String> = messages.iter().filter_map(|m| m.subject()).collect();
    assert_eq!(subjects, (0..50).map(|n| n.to_string()).collect::<Vec<_>>());
}

#[test]
fn enhanced_status_codes_when_announced() {
    let server = TestSmtpServer::builder().enhanced_status_codes(true).start();
    let mut raw = Raw::connect(&server);
    let ehlo = raw.command("EHLO client");
    assert!(
        ehlo.contains("250-ENHANCEDSTATUSCODES\r\n") && ehlo.starts_with("250-localhost\r\n"),
        "{ehlo}"
    );
    assert_eq!(
        raw.command("RCPT TO:<b@example.com>"),
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(raw.command("MAIL FROM:<a@example.com>"), "250 2.0.0 OK\r\n");
    assert_eq!(raw.command("RCPT TO:<b@example.com>"), "250 2.0.0 OK\r\n");
    assert_eq!(raw.command("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
    assert_eq!(raw.command("Subject: x\r\n\r\n."), "250 2.0.0 OK\r\n");
    assert_eq!(
        raw.command("BOGUS"),
        "500 5.5.2 Error: command \"BOGUS\" not recognized\r\n"
    );
    assert_eq!(raw.command("QUIT"), "221 2.0.0 Bye\r\n");
}

#[test]
fn without_enhanced_status_codes_replies_are_the_references() {
    let server = TestSmtpServer::start();
    let mut raw = Raw::connect(&server);
    assert!(!raw.command("EHLO client").contains("ENHANCEDSTATUSCODES"));
    assert_eq!(
        raw.command("RCPT TO:<b@example.com>"),
        "503 Error: need MAIL command\r\n"
    );
}
