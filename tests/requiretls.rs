//! REQUIRETLS (RFC 8689): announced only inside TLS, accepted on MAIL
//! there and kept in the envelope; outside TLS it is a parameter the server
//! does not know. Python's smtplib over STARTTLS is the client.
#![cfg(feature = "tls")]

use smtp_fixture::TestSmtpServer;
use support::Client;

mod support;

const CLIENT: &str = r#"
import smtplib, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
with smtplib.SMTP("localhost", port) as smtp:
    smtp.ehlo()
    print("before TLS:", smtp.has_extn("requiretls"))
    smtp.starttls(context=context)
    smtp.ehlo()
    print("inside TLS:", smtp.has_extn("requiretls"))
    smtp.sendmail("a@example.com", ["b@example.com"], b"Subject: secret\r\n\r\nhi\r\n", mail_options=["REQUIRETLS"])
print("sent")
"#;

#[test]
fn requiretls_is_offered_inside_tls_and_recorded() {
    needs_python!("smtplib, ssl");
    let server = TestSmtpServer::builder().starttls().start();
    let dir = std::env::temp_dir().join(format!("smtp-fixture-requiretls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let cafile = dir.join("ca.pem");
    std::fs::write(&cafile, server.certificate_pem().expect("a certificate"))
        .expect("the certificate written");
    let run = support::python(
        CLIENT,
        &[server.port().to_string(), cafile.to_string_lossy().into_owned()],
    );
    std::fs::remove_dir_all(&dir).expect("the temporary directory removed");
    let stdout = run.stdout.as_str();
    assert!(run.success, "{}", run.output());
    assert_eq!(stdout, "before TLS: False\ninside TLS: True\nsent\n");
    let message = server.wait_for_first_message();
    assert!(
        message.envelope.requiretls(),
        "{:?}",
        message.envelope.mail_options
    );
}

#[test]
fn outside_tls_requiretls_is_not_recognized() {
    let server = TestSmtpServer::builder().starttls().start();
    let mut client = Client::greeted(server.addr());
    assert!(!client.command("EHLO c").contains("REQUIRETLS"));
    assert_eq!(
        client.command("MAIL FROM:<a@example.com> REQUIRETLS"),
        "555 MAIL FROM parameters not recognized or not implemented\r\n"
    );
}
