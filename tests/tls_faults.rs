//! TLS faults on purpose: an expired or not yet valid certificate, one for
//! another host, one from a CA the client does not trust, a server limited
//! to one TLS version, a handshake that ends after the ClientHello. Each
//! with lettre (rustls) and Python's `ssl` (OpenSSL): a verifying client
//! fails with the error a user would see, and a client with verification
//! off still delivers.
#![cfg(feature = "tls")]

use std::time::{Duration, Instant};

use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters, TlsParametersBuilder, TlsVersion};
use lettre::{AsyncSmtpTransport, AsyncTransport, SmtpTransport, Tokio1Executor, Transport};
use smtp_fixture::TestSmtpServer;
use smtp_fixture::TlsVersion as ServerTlsVersion;
use support::tls_clients::{
    assert_contains, assert_fails_with, assert_python_saw_eof, describe, email, unverified, verified,
};

mod support;

/// lettre to the fixture, trusting its CA.
fn lettre_send(
    server: &TestSmtpServer,
    implicit: bool,
    tls: impl FnOnce(TlsParametersBuilder) -> TlsParametersBuilder,
) -> Result<(), String> {
    let ca = server.certificate_pem().expect("TLS is on");
    support::tls_clients::lettre_send(server.port(), ca, implicit, tls)
}

/// Python to the fixture, trusting its CA.
fn python_send(server: &TestSmtpServer, mode: &str, options: &[&str]) -> String {
    let ca = server.certificate_pem().expect("TLS is on");
    support::tls_clients::python_send(server.port(), ca, mode, options)
}

/// Python: a verifying client fails the handshake with `error`, then one
/// in `lenient` mode (`none`: no verification) delivers, and the message
/// is recorded.
#[track_caller]
fn python_fails_then_delivers(server: &TestSmtpServer, options: &[&str], error: &str, lenient: &str) {
    let output = python_send(server, "verify", options);
    assert_contains(&output, "ERROR SSLCertVerificationError");
    assert_contains(&output, error);
    assert!(server.messages().is_empty());
    assert_contains(&python_send(server, lenient, options), "sent TLSv1.3");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

/// Waits (a bounded time) until a session's transcript contains `needle`,
/// and returns that transcript. The server notes a failed handshake when it
/// reads the client's alert, which may be a moment after the client gave up.
#[track_caller]
fn transcript_with(server: &TestSmtpServer, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let transcripts: Vec<String> = server.transcripts().iter().map(ToString::to_string).collect();
        if let Some(found) = transcripts.iter().find(|t| t.contains(needle)) {
            return found.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no transcript contains {needle:?}:\n{}",
            transcripts.join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_expired_certificate_with_lettre() {
    let server = TestSmtpServer::builder().tls_certificate_expired().start();
    assert_fails_with(lettre_send(&server, false, verified), "certificate expired");
    assert_fails_with(lettre_send(&server, false, verified), "Expired");
    transcript_with(
        &server,
        "TLS handshake failed: received fatal alert: CertificateExpired",
    );
    assert!(server.messages().is_empty());

    lettre_send(&server, false, unverified).expect("delivered without verification");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

#[test]
fn an_expired_certificate_with_python() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder().tls_certificate_expired().start();
    python_fails_then_delivers(&server, &[], "certificate has expired", "none");
    assert_eq!(
        server.wait_for_messages(1)[0].subject().as_deref(),
        Some("via python")
    );
}

#[test]
fn a_certificate_not_yet_valid_with_lettre() {
    let server = TestSmtpServer::builder().tls_certificate_not_yet_valid().start();
    assert_fails_with(lettre_send(&server, false, verified), "certificate not valid yet");
    assert_fails_with(lettre_send(&server, false, verified), "NotValidYet");
    lettre_send(&server, false, unverified).expect("delivered without verification");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

#[test]
fn a_certificate_not_yet_valid_with_python() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder().tls_certificate_not_yet_valid().start();
    python_fails_then_delivers(&server, &[], "certificate is not yet valid", "none");
}

#[test]
fn a_certificate_for_another_host_with_lettre() {
    let server = TestSmtpServer::builder()
        .tls_certificate_for("other.example")
        .start();
    let error = lettre_send(&server, false, verified).unwrap_err();
    assert!(error.contains("NotValidForName"), "{error}");
    assert!(
        error.contains("certificate not valid for name \"localhost\""),
        "{error}"
    );
    assert!(error.contains("other.example"), "{error}");
    transcript_with(&server, "received fatal alert: BadCertificate");
    // Only the name is wrong: ignoring names alone is enough.
    lettre_send(&server, false, |tls| tls.dangerous_accept_invalid_hostnames(true))
        .expect("delivered when names are not checked");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

#[test]
fn a_certificate_for_another_host_with_python() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder()
        .tls_certificate_for("other.example")
        .start();
    let mismatch = "Hostname mismatch, certificate is not valid for 'localhost'";
    // The chain is still checked, and good: not checking the name is enough.
    python_fails_then_delivers(&server, &[], mismatch, "no-hostname");
}

#[test]
fn an_untrusted_certificate_with_lettre() {
    let server = TestSmtpServer::builder().tls_untrusted().start();
    assert_fails_with(lettre_send(&server, false, verified), "UnknownIssuer");
    transcript_with(&server, "received fatal alert: UnknownCA");
    // The name and the dates are right: only the issuer is unknown.
    assert_fails_with(
        lettre_send(&server, false, |tls| tls.dangerous_accept_invalid_hostnames(true)),
        "UnknownIssuer",
    );
    lettre_send(&server, false, unverified).expect("delivered without verification");
    assert_eq!(server.wait_for_messages(1).len(), 1);
}

#[test]
fn an_untrusted_certificate_with_python() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder().tls_untrusted().start();
    python_fails_then_delivers(&server, &[], "unable to get local issuer certificate", "none");
}

#[test]
fn certificate_faults_apply_to_implicit_tls_too() {
    let server = TestSmtpServer::builder().implicit_tls().tls_untrusted().start();
    assert_fails_with(lettre_send(&server, true, verified), "UnknownIssuer");
    lettre_send(&server, true, unverified).expect("delivered without verification");
    let message = server.wait_for_messages(1).remove(0);
    assert!(message.tls.is_some());
}

#[test]
fn certificate_faults_with_python_over_implicit_tls() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder()
        .tls_certificate_expired()
        .implicit_tls()
        .start();
    python_fails_then_delivers(&server, &["implicit"], "certificate has expired", "none");
}

#[test]
fn a_server_that_speaks_only_tls_1_2_with_lettre() {
    let server = TestSmtpServer::builder()
        .tls_versions(&[ServerTlsVersion::Tls12])
        .start();
    assert_fails_with(
        lettre_send(&server, false, |tls| tls.set_min_tls_version(TlsVersion::Tlsv13)),
        "ProtocolVersion",
    );
    transcript_with(&server, "TLS handshake failed");
    lettre_send(&server, false, verified).expect("a TLS 1.2 session");
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.tls.map(|tls| tls.version).as_deref(), Some("TLSv1_2"));
}

#[test]
fn a_server_that_speaks_only_tls_1_3_with_lettre() {
    let server = TestSmtpServer::builder()
        .tls_versions(&[ServerTlsVersion::Tls13])
        .start();
    lettre_send(&server, false, verified).expect("a TLS 1.3 session");
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.tls.map(|tls| tls.version).as_deref(), Some("TLSv1_3"));
}

#[test]
fn tls_versions_with_python() {
    needs_python!("smtplib, ssl");
    let only_1_3 = TestSmtpServer::builder()
        .tls_versions(&[ServerTlsVersion::Tls13])
        .start();
    assert_contains(
        &python_send(&only_1_3, "verify", &["max1.2"]),
        "tlsv1 alert protocol version",
    );
    assert_contains(&python_send(&only_1_3, "verify", &[]), "sent TLSv1.3");

    let only_1_2 = TestSmtpServer::builder()
        .tls_versions(&[ServerTlsVersion::Tls12])
        .start();
    assert_contains(&python_send(&only_1_2, "verify", &["min1.3"]), "protocol version");
    assert_contains(&python_send(&only_1_2, "verify", &[]), "sent TLSv1.2");
    assert_eq!(only_1_3.wait_for_messages(1).len(), 1);
    assert_eq!(only_1_2.wait_for_messages(1).len(), 1);
}

#[test]
fn an_aborted_handshake_with_lettre() {
    let server = TestSmtpServer::builder().tls_abort_handshake().start();
    let error = lettre_send(&server, false, verified).unwrap_err();
    assert!(error.contains("unexpected end of file"), "{error}");
    assert!(error.contains("UnexpectedEof"), "{error}");
    let transcript = transcript_with(&server, "scripted: TLS handshake aborted after the ClientHello");
    assert!(transcript.contains("(SNI localhost)"), "{transcript}");
    assert!(server.messages().is_empty());
    // Verification off does not help: there is no handshake to finish.
    assert_fails_with(lettre_send(&server, false, unverified), "UnexpectedEof");
    // A client that stays in plain text is served as usual.
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
        .send(&email())
        .expect("delivered without TLS");
    assert_eq!(server.wait_for_messages(1)[0].tls, None);
}

#[test]
fn an_aborted_handshake_with_python() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder().tls_abort_handshake().start();
    assert_python_saw_eof(&python_send(&server, "verify", &[]));
    assert_python_saw_eof(&python_send(&server, "none", &[]));
    transcript_with(&server, "scripted: TLS handshake aborted after the ClientHello");
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn an_aborted_implicit_tls_handshake_with_async_lettre() {
    let server = TestSmtpServer::builder()
        .implicit_tls()
        .tls_abort_handshake()
        .start();
    let pem = server.certificate_pem().expect("TLS is on");
    let root = Certificate::from_pem(pem.as_bytes()).expect("a PEM certificate");
    let parameters = TlsParameters::builder("localhost".to_string())
        .add_root_certificate(root)
        .build_rustls()
        .expect("TLS parameters");
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server.host())
        .port(server.port())
        .tls(Tls::Wrapper(parameters))
        .build();
    let error = mailer.send(email()).await.unwrap_err();
    let error = describe(&error);
    assert!(error.contains("tls handshake eof"), "{error}");
    // No greeting was ever sent: the transcript holds the note alone.
    let transcript = transcript_with(&server, "scripted: TLS handshake aborted after the ClientHello");
    assert!(!transcript.contains("220"), "{transcript}");
}

#[test]
fn handshake_faults_apply_to_a_certificate_of_ones_own() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let server = TestSmtpServer::builder()
        .tls_certificate(&generated.cert.pem(), &generated.signing_key.serialize_pem())
        .tls_versions(&[ServerTlsVersion::Tls12])
        .start();
    assert_eq!(server.certificate_pem(), Some(generated.cert.pem().as_str()));
    lettre_send(&server, false, verified).expect("a TLS 1.2 session");
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.tls.map(|tls| tls.version).as_deref(), Some("TLSv1_2"));
}

#[test]
fn a_certificate_fault_and_a_certificate_of_ones_own_do_not_go_together() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let error = TestSmtpServer::builder()
        .tls_certificate(&generated.cert.pem(), &generated.signing_key.serialize_pem())
        .tls_certificate_expired()
        .try_start()
        .expect_err("refused");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("do not go together"), "{error}");
}

#[test]
fn faults_combine() {
    let server = TestSmtpServer::builder()
        .tls_certificate_for("other.example")
        .tls_versions(&[ServerTlsVersion::Tls12])
        .start();
    assert_fails_with(lettre_send(&server, false, verified), "NotValidForName");
    lettre_send(&server, false, |tls| tls.dangerous_accept_invalid_hostnames(true))
        .expect("delivered when names are not checked");
    let message = server.wait_for_messages(1).remove(0);
    assert_eq!(message.tls.map(|tls| tls.version).as_deref(), Some("TLSv1_2"));
}
