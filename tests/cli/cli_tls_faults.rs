//! The command line's TLS fault flags (`--tls-certificate-expired`,
//! `--tls-certificate-not-yet-valid`, `--tls-certificate-for`,
//! `--tls-untrusted`, `--tls-versions`, `--tls-abort-handshake`), with
//! lettre and Python's `ssl` as clients trusting the test CA that the
//! binary prints at start.

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use lettre::transport::smtp::client::TlsVersion;
use support::tls_clients::{
    assert_contains, assert_fails_with, assert_python_saw_eof, lettre_send, python_send, self_signed_files,
    unverified, verified,
};
use support::Binary;

use crate::support;

/// The binary with TLS faults, the CA it printed, its fault line, and the
/// rest of its standard error, line by line.
struct Faulty {
    binary: Binary,
    ca: String,
    faults: String,
    stderr: Receiver<String>,
}

const WAIT: Duration = Duration::from_secs(20);

/// Starts `smtp-fixture -c SmtpServer 127.0.0.1:PORT ARGS..` and reads the
/// start-up text on standard error: the CA (unless `--tls-cert` is given)
/// and the line that lists the faults.
fn start(args: &[&str]) -> Faulty {
    let mut binary = Binary::start(&["-c", "SmtpServer"], args);
    let stderr = binary.stderr.take().expect("its stderr");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    let mut ca = String::new();
    let faults = loop {
        let line = lines.recv_timeout(WAIT).expect("the start-up text on stderr");
        if line.starts_with("smtp-fixture: TLS faults on purpose:") {
            break line;
        }
        if line.starts_with("-----BEGIN") || !ca.is_empty() {
            ca.push_str(&line);
            ca.push('\n');
        }
    };
    Faulty {
        binary,
        ca,
        faults,
        stderr: lines,
    }
}

impl Faulty {
    fn port(&self) -> u16 {
        self.binary.port
    }

    /// Reads standard error until a line contains `needle`.
    #[track_caller]
    fn stderr_line_with(&self, needle: &str) -> String {
        loop {
            let line = self
                .stderr
                .recv_timeout(WAIT)
                .unwrap_or_else(|_| panic!("no line with {needle:?} on stderr"));
            if line.contains(needle) {
                return line;
            }
        }
    }
}

/// The certificate faults: flag, what the start-up line says, lettre's
/// error, OpenSSL's error.
const CERTIFICATE_FAULTS: [(&[&str], &str, &str, &str); 4] = [
    (
        &["--tls-certificate-expired"],
        "the certificate is expired",
        "certificate expired",
        "certificate has expired",
    ),
    (
        &["--tls-certificate-not-yet-valid"],
        "the certificate is not yet valid",
        "certificate not valid yet",
        "certificate is not yet valid",
    ),
    (
        &["--tls-certificate-for", "other.example"],
        "the certificate is for other.example, not localhost",
        "NotValidForName",
        "Hostname mismatch, certificate is not valid for 'localhost'",
    ),
    (
        &["--tls-untrusted"],
        "another CA issued the certificate",
        "UnknownIssuer",
        "unable to get local issuer certificate",
    ),
];

#[test]
fn certificate_fault_flags_with_lettre() {
    for (args, banner, error, _) in CERTIFICATE_FAULTS {
        let server = start(args);
        assert!(
            server.ca.starts_with("-----BEGIN CERTIFICATE-----"),
            "{args:?}: {}",
            server.ca
        );
        assert!(server.faults.contains(banner), "{args:?}: {}", server.faults);
        assert_fails_with(lettre_send(server.port(), &server.ca, false, verified), error);
        lettre_send(server.port(), &server.ca, false, unverified)
            .unwrap_or_else(|error| panic!("{args:?}: delivered without verification: {error}"));
    }
}

#[test]
fn certificate_fault_flags_with_python() {
    needs_python!("smtplib, ssl");
    for (args, _, _, error) in CERTIFICATE_FAULTS {
        let server = start(args);
        assert_contains(&python_send(server.port(), &server.ca, "verify", &[]), error);
        assert_contains(&python_send(server.port(), &server.ca, "none", &[]), "sent");
    }
}

#[test]
fn a_fault_flag_with_smtps() {
    let server = start(&["--smtps", "--tls-untrusted"]);
    assert_fails_with(
        lettre_send(server.port(), &server.ca, true, verified),
        "UnknownIssuer",
    );
    lettre_send(server.port(), &server.ca, true, unverified).expect("delivered without verification");
}

#[test]
fn tls_versions_flag() {
    let server = start(&["--tls-versions", "1.2"]);
    assert!(
        server.faults.contains("only TLSv1.2 is spoken"),
        "{}",
        server.faults
    );
    assert_fails_with(
        lettre_send(server.port(), &server.ca, false, |tls| {
            tls.set_min_tls_version(TlsVersion::Tlsv13)
        }),
        "ProtocolVersion",
    );
    lettre_send(server.port(), &server.ca, false, verified).expect("a TLS 1.2 session");
    needs_python!("smtplib, ssl");
    assert_contains(
        &python_send(server.port(), &server.ca, "verify", &["min1.3"]),
        "protocol version",
    );
    assert_contains(
        &python_send(server.port(), &server.ca, "verify", &[]),
        "sent TLSv1.2",
    );
}

#[test]
fn tls_versions_with_a_certificate_of_ones_own() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key, own) = self_signed_files(dir.path());
    let server = start(&[
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-versions",
        "TLSv1.3",
    ]);
    assert_eq!(server.ca, "", "no test CA with --tls-cert");
    assert!(
        server.faults.contains("only TLSv1.3 is spoken"),
        "{}",
        server.faults
    );
    lettre_send(server.port(), &own, false, verified).expect("a TLS 1.3 session");
    needs_python!("smtplib, ssl");
    assert_contains(
        &python_send(server.port(), &own, "verify", &["max1.2"]),
        "tlsv1 alert protocol version",
    );
}

#[test]
fn tls_abort_handshake_flag() {
    let server = start(&["-d", "--tls-abort-handshake"]);
    assert!(
        server.faults.contains("handshakes end after the ClientHello"),
        "{}",
        server.faults
    );
    assert_fails_with(
        lettre_send(server.port(), &server.ca, false, verified),
        "UnexpectedEof",
    );
    let note = server.stderr_line_with("scripted: TLS handshake aborted after the ClientHello");
    assert!(note.ends_with("(SNI localhost)"), "{note}");
    needs_python!("smtplib, ssl");
    assert_python_saw_eof(&python_send(server.port(), &server.ca, "none", &[]));
}

#[test]
fn bad_fault_flags_are_usage_errors() {
    for args in [
        &["--tls-versions", "1.1"][..],
        &["--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-untrusted"],
        &["--tls-certificate-expired", "--tls-certificate-not-yet-valid"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(args)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("Usage:"), "{args:?}: {stderr}");
    }
}
