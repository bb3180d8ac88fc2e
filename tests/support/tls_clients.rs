//! Real TLS clients for the TLS tests: lettre (rustls) and Python's
//! `smtplib`/`ssl` (OpenSSL), each sending one message to a server on
//! 127.0.0.1 as `localhost`, trusting a given CA, and reporting the error
//! text a user would see.

use std::error::Error;
use std::io::Write;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters, TlsParametersBuilder};
use lettre::{Message, SmtpTransport, Transport};

/// The message both clients send.
pub fn email() -> Message {
    Message::builder()
        .from("ann@example.com".parse::<Mailbox>().expect("mailbox"))
        .to("bob@example.com".parse::<Mailbox>().expect("mailbox"))
        .subject("Through a faulty TLS")
        .body(String::from("hello"))
        .expect("a message")
}

/// An error with all its sources, then its `Debug` form: what a user reads
/// in a log, and the variant names.
pub fn describe(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    format!("{text} / {error:?}")
}

/// Sends one message with lettre's blocking transport to 127.0.0.1:`port`
/// over STARTTLS (or implicit TLS) as `localhost`, trusting `ca_pem`, with
/// `tls` adjusting the TLS parameters; `Err` holds the error as described.
pub fn lettre_send(
    port: u16,
    ca_pem: &str,
    implicit: bool,
    tls: impl FnOnce(TlsParametersBuilder) -> TlsParametersBuilder,
) -> Result<(), String> {
    let root = Certificate::from_pem(ca_pem.as_bytes()).expect("a PEM certificate");
    let parameters = tls(TlsParameters::builder("localhost".to_string()).add_root_certificate(root))
        .build_rustls()
        .expect("TLS parameters");
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(port)
        .tls(if implicit {
            Tls::Wrapper(parameters)
        } else {
            Tls::Required(parameters)
        })
        .timeout(Some(Duration::from_secs(20)))
        .build();
    mailer.send(&email()).map(drop).map_err(|error| describe(&error))
}

/// The crypto provider of the tests' own rustls clients: aws-lc-rs when the
/// crate has it, else ring. rustls 0.23.48 deprecates its ready-made ring
/// provider for lacking post-quantum key exchange, which a test on loopback
/// does not need (the library builds its ring provider from rustls's
/// non-deprecated parts, src/server/tls_provider.rs).
#[cfg(feature = "tls")]
pub fn client_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "tls-aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "tls-aws-lc"))]
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    std::sync::Arc::new(provider)
}

/// A rustls client (TLS 1.2 and 1.3) for `localhost` that trusts
/// `ca_der` only: for raw sessions over TLS, where lettre would hide the
/// bytes.
#[cfg(feature = "tls")]
pub fn rustls_client(ca_der: &[u8]) -> rustls::ClientConnection {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca_der.to_vec().into()).expect("a root");
    let config = rustls::ClientConfig::builder_with_provider(client_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("a name");
    rustls::ClientConnection::new(std::sync::Arc::new(config), name).expect("a TLS client")
}

/// TLS parameters as they are: the certificate is verified.
pub fn verified(tls: TlsParametersBuilder) -> TlsParametersBuilder {
    tls
}

/// Verification off: with rustls, lettre checks the name even when it
/// accepts invalid certificates, so both switches are needed.
pub fn unverified(tls: TlsParametersBuilder) -> TlsParametersBuilder {
    tls.dangerous_accept_invalid_certs(true)
        .dangerous_accept_invalid_hostnames(true)
}

/// Fails with `lettre_send`'s error unless it contains `needle`.
#[track_caller]
pub fn assert_fails_with(result: Result<(), String>, needle: &str) {
    match result {
        Ok(()) => panic!("the client delivered; expected an error with {needle:?}"),
        Err(error) => assert!(error.contains(needle), "expected {needle:?} in: {error}"),
    }
}

/// Python's smtplib to `localhost`:`port` over STARTTLS, trusting `ca_pem`.
/// `mode`: `verify`, `no-hostname` (chain checked, name not) or `none`;
/// options `max1.2`, `min1.3`, `implicit`. Prints `sent <version>` or
/// `ERROR <type> <message>`.
const PYTHON_CLIENT: &str = r#"
import smtplib, ssl, sys
port, cafile, mode, options = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
context = ssl.create_default_context(cafile=cafile)
if mode in ("no-hostname", "none"):
    context.check_hostname = False
if mode == "none":
    context.verify_mode = ssl.CERT_NONE
if "max1.2" in options:
    context.maximum_version = ssl.TLSVersion.TLSv1_2
if "min1.3" in options:
    context.minimum_version = ssl.TLSVersion.TLSv1_3
try:
    if "implicit" in options:
        client = smtplib.SMTP_SSL("localhost", port, timeout=20, context=context)
    else:
        client = smtplib.SMTP("localhost", port, timeout=20)
        client.starttls(context=context)
    with client:
        version = client.sock.version()
        client.sendmail("ann@example.com", ["bob@example.com"], "Subject: via python\r\n\r\nhi\r\n")
    print("sent", version)
except Exception as error:
    print("ERROR", type(error).__name__, error)
"#;

/// Runs the Python client (see above); returns what it printed.
pub fn python_send(port: u16, ca_pem: &str, mode: &str, options: &[&str]) -> String {
    let mut ca = tempfile::NamedTempFile::new().expect("a temporary file");
    ca.write_all(ca_pem.as_bytes()).expect("write the CA");
    let mut args = vec![
        port.to_string(),
        ca.path().to_string_lossy().into_owned(),
        mode.to_string(),
    ];
    args.extend(options.iter().map(|option| option.to_string()));
    super::python(PYTHON_CLIENT, &args).output()
}

/// A fresh self-signed certificate for `localhost` written to `dir` as
/// `cert.pem` and `key.pem`: their paths, and the certificate's PEM.
#[cfg(feature = "tls-generate")]
pub fn self_signed_files(dir: &std::path::Path) -> (String, String, String) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("a certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("write the certificate");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("write the key");
    (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
        generated.cert.pem(),
    )
}

/// Fails unless Python's client saw the connection end inside the TLS
/// handshake: `SSLEOFError` ("EOF occurred in violation of protocol"), or,
/// with the OpenSSL 3.0 of Debian's Python 3.11, `SSLZeroReturnError`
/// ("TLS/SSL connection has been closed (EOF)").
#[track_caller]
pub fn assert_python_saw_eof(output: &str) {
    let eof = (output.contains("ERROR SSLEOFError")
        && output.contains("EOF occurred in violation of protocol"))
        || output.contains("ERROR SSLZeroReturnError TLS/SSL connection has been closed (EOF)");
    assert!(eof, "expected an EOF in the TLS handshake, got: {output}");
}

#[track_caller]
pub fn assert_contains(output: &str, needle: &str) {
    assert!(output.contains(needle), "expected {needle:?} in: {output}");
}
