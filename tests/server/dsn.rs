//! DSN (RFC 3461) with a real client: Python's smtplib sends `RET`,
//! `ENVID`, `NOTIFY` and `ORCPT`; the fixture keeps them typed.

use smtp_fixture::TestSmtpServer;
use smtp_fixture::{Notify, Return};
use support::Client;

use crate::support;

#[test]
fn smtplib_s_dsn_parameters_reach_the_envelope_and_the_snapshot() {
    needs_python!("smtplib");
    let server = TestSmtpServer::start();
    let script = r#"
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
    s.ehlo()
    assert s.has_extn("dsn"), s.esmtp_features
    s.sendmail("shop@example.com", ["ann@example.com", "bob@example.com"], "Subject: dsn\r\n\r\nhi\r\n",
               mail_options=["RET=HDRS", "ENVID=Order+2B42"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE", "ORCPT=rfc822;Ann+40Example.com"])
"#;
    support::python_ok(script, &[server.port().to_string()]);

    let message = server.wait_for_first_message();
    let envelope = &message.envelope;
    assert_eq!(envelope.dsn.ret, Some(Return::Headers));
    assert_eq!(envelope.dsn.envid.as_deref(), Some("Order+42"));
    for recipient in ["ann@example.com", "bob@example.com"] {
        let dsn = envelope
            .recipient_dsn(recipient)
            .expect("each recipient's request");
        assert_eq!(
            dsn.notify,
            Some(Notify {
                success: true,
                failure: true,
                delay: false
            })
        );
        assert_eq!(
            dsn.orcpt.as_ref().map(|o| o.address.as_str()),
            Some("Ann@Example.com")
        );
    }
    let snapshot = message.snapshot();
    assert!(snapshot.contains("DSN: RET=HDRS ENVID=Order+42"), "{snapshot}");
    assert!(
        snapshot
            .contains("RCPT TO:<bob@example.com> DSN: NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Ann@Example.com"),
        "{snapshot}"
    );
}

#[test]
fn without_dsn_the_parameters_are_refused_as_the_reference_does() {
    let server = TestSmtpServer::builder().dsn(false).start();
    let mut client = Client::greeted(server.addr());
    let ehlo = client.command("EHLO client");
    assert!(!ehlo.contains("DSN"), "{ehlo}");
    assert_eq!(client.code("MAIL FROM:<a@example.com> RET=FULL"), 555);
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    assert_eq!(client.code("RCPT TO:<b@example.com> NOTIFY=NEVER"), 555);

    let compat = TestSmtpServer::builder().reference_extensions().start();
    let mut client = Client::greeted(compat.addr());
    let ehlo = client.command("EHLO client");
    assert!(!ehlo.contains("DSN") && !ehlo.contains("PIPELINING"), "{ehlo}");
}

#[test]
fn a_long_orcpt_fits_the_longer_rcpt_line_dsn_allows() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.code("EHLO client"), 250);
    assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
    // 512 + 500 bytes at most with DSN (RFC 3461, 5).
    let orcpt = format!("rfc822;{}@example.com", "o".repeat(480));
    let line = format!("RCPT TO:<b@example.com> NOTIFY=NEVER ORCPT={orcpt}");
    assert!(line.len() > 512 && line.len() < 1012, "{}", line.len());
    assert_eq!(client.code(&line), 250);
}
