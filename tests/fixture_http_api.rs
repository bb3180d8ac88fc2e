//! `TestSmtpServer::builder().http_api()`: the fixture's own store and
//! rules over HTTP, for a Rust test that hands the URL to a browser test.

use http::{get, request, send_json};
use pretty_assertions::assert_eq;
use smtp_fixture::TestSmtpServer;
use support::Client;

#[path = "support/http.rs"]
mod http;
mod support;

#[test]
fn the_fixture_and_its_http_api_share_messages_and_rules() {
    let server = TestSmtpServer::builder().http_api().start();
    let http = server.http_addr().expect("an HTTP address");
    assert_eq!(server.http_url(), Some(format!("http://{http}")));
    assert_eq!(http.ip(), server.addr().ip());

    let mut client = Client::greeted(server.addr());
    let reply = client.send_message(
        "app@example.com",
        "ann@example.com",
        b"Subject: Welcome\r\n\r\nHi\r\n.\r\n",
    );
    assert!(reply.starts_with("250"), "{reply}");
    server.wait_for_messages(1);
    let list = get(http, "/api/v1/messages").json();
    assert_eq!(list["messages"][0]["Subject"], "Welcome");

    // A rule added over HTTP applies to the fixture's SMTP side.
    let added = send_json(
        http,
        "POST",
        "/api/v1/rules",
        r#"{"reply": "RCPT TO:gone@example.com=550 5.1.1 No such user"}"#,
    );
    assert_eq!(added.status, 201, "{}", added.text());
    client.command("RSET");
    client.command("MAIL FROM:<app@example.com>");
    assert_eq!(
        client.command("RCPT TO:<gone@example.com>"),
        "550 5.1.1 No such user\r\n"
    );
    assert_eq!(server.refused_recipients()[0].address, "gone@example.com");

    // Deleting over HTTP empties the fixture too.
    assert_eq!(
        request(http, "DELETE", "/api/v1/messages", "text/plain", b"").text(),
        "ok"
    );
    assert!(server.messages().is_empty());
}

#[test]
fn without_http_api_there_is_no_http_address() {
    let server = TestSmtpServer::start();
    assert_eq!(server.http_addr(), None);
    assert_eq!(server.http_url(), None);
}
