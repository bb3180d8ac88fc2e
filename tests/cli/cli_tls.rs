//! The command line's TLS and AUTH flags, with Python's `smtplib` as the
//! client: `starttls()` then `login()`, as a Python shop's code does.

use std::process::Command;

use support::Binary;

use crate::support;

fn start(args: &[&str]) -> (Binary, u16) {
    let binary = Binary::start(&["-c", "SmtpServer"], args);
    let port = binary.port;
    (binary, port)
}

fn python(script: &str, args: &[&str]) -> (bool, String) {
    let run = support::python(script, args);
    (run.success, run.output())
}

const STARTTLS_LOGIN: &str = r#"
import smtplib, ssl, sys
port, cafile, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cafile)
with smtplib.SMTP("localhost", port, timeout=10) as s:
    s.ehlo()
    assert s.has_extn("starttls"), s.esmtp_features
    s.starttls(context=context)
    s.ehlo()
    s.login("ann", password)
    s.sendmail("ann@example.com", ["bob@example.com"], "Subject: via python\r\n\r\nhi\r\n")
print("sent")
"#;

#[test]
fn python_smtplib_starttls_and_login_against_the_binary() {
    needs_python!("smtplib, ssl");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert_arg, key_arg, _) = support::tls_clients::self_signed_files(dir.path());
    let (_binary, port) = start(&[
        "--tls-cert",
        &cert_arg,
        "--tls-key",
        &key_arg,
        "--auth",
        "ann:s3cret",
    ]);

    let (ok, output) = python(STARTTLS_LOGIN, &[&port.to_string(), &cert_arg, "s3cret"]);
    assert!(ok && output.contains("sent"), "{output}");
    let (ok, output) = python(STARTTLS_LOGIN, &[&port.to_string(), &cert_arg, "wrong"]);
    assert!(
        !ok && output.contains("535"),
        "a wrong password must fail with 535: {output}"
    );
}

#[test]
fn require_tls_and_auth_any_flags() {
    needs_python!("smtplib");
    let (_binary, port) = start(&["--require-tls", "--auth-any"]);
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.ehlo()
    print(s.has_extn("starttls"), s.docmd("MAIL FROM:<a@example.com>"))
"#;
    let (ok, output) = python(script, &[&port.to_string()]);
    assert!(ok, "{output}");
    assert!(
        output.contains("True (530, b'5.7.0 Must issue a STARTTLS command first')"),
        "{output}"
    );
}

#[test]
fn a_bad_auth_pair_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
        .args(["--auth", "nopassword"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("want USER:PASS"));
}
