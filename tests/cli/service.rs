//! Service mode over real sockets: `smtp-fixture --http` started as a
//! process, mail sent over SMTP, Mailpit's routes and ours read over HTTP.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::Duration;

use http::{get, request, send_json, EventStream};
use pretty_assertions::assert_eq;
use serde_json::Value;
use support::{eventually, holds, Binary, Client};

use crate::http;
use crate::support;

/// The binary in service mode (`-c SmtpServer`: nothing printed per
/// message), and its HTTP address.
pub(crate) fn service(extra: &[&str]) -> (Binary, SocketAddr) {
    let (binary, url) = service_url(extra);
    let addr = url
        .strip_prefix("http://")
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP address in {url:?}"));
    (binary, addr)
}

/// The binary in service mode, and its HTTP base URL (`http://ADDR`, no
/// trailing slash), as the line it prints at start says.
pub(crate) fn service_url(extra: &[&str]) -> (Binary, String) {
    let mut before = vec!["-c", "SmtpServer", "--http", "127.0.0.1:0"];
    before.extend_from_slice(extra);
    let mut binary = Binary::start(&before, &[]);
    let mut line = String::new();
    binary.stdout.read_line(&mut line).expect("the HTTP line");
    let url = line
        .trim()
        .strip_prefix("smtp-fixture: HTTP API and web page on ")
        .map(|url| url.trim_end_matches('/').to_string())
        .unwrap_or_else(|| panic!("no HTTP address in {line:?}"));
    (binary, url)
}

pub(crate) const ORDER: &str = "From: Shop <shop@example.com>\r\n\
    To: Ann <ann@example.com>\r\n\
    Cc: Bob <bob@example.com>\r\n\
    Subject: Your order 42\r\n\
    Message-ID: <order42@example.com>\r\n\
    Date: Wed, 02 Dec 2026 07:00:00 +0000\r\n\
    MIME-Version: 1.0\r\n\
    Content-Type: multipart/mixed; boundary=b\r\n\
    \r\n\
    --b\r\n\
    Content-Type: text/plain\r\n\
    \r\n\
    Thanks for your order. Confirm at https://shop.test/confirm?token=t1\r\n\
    --b\r\n\
    Content-Type: application/pdf\r\n\
    Content-Disposition: attachment; filename=invoice.pdf\r\n\
    Content-Transfer-Encoding: base64\r\n\
    \r\n\
    JVBERi0xLjQgaW52b2ljZQ==\r\n\
    --b--\r\n";

/// Sends `data` from shop@ to `to` over one SMTP session; returns the
/// final reply.
pub(crate) fn send(smtp: SocketAddr, to: &[&str], data: &str) -> String {
    let mut client = Client::greeted(smtp);
    assert_eq!(client.code("EHLO client.test"), 250);
    assert_eq!(client.code("MAIL FROM:<shop@example.com>"), 250);
    for rcpt in to {
        client.command(&format!("RCPT TO:<{rcpt}>"));
    }
    let reply = client.command("DATA");
    if !reply.starts_with("354") {
        return reply;
    }
    client.send(data.as_bytes());
    client.send(b".\r\n");
    let reply = client.reply();
    client.command("QUIT");
    reply
}

/// Sends `count` small messages in one pipelined session (a reader thread
/// takes the replies, so neither side blocks on a full buffer).
fn send_many(smtp: SocketAddr, count: usize) {
    let stream = TcpStream::connect(smtp).expect("connect");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let replies = thread::spawn(move || {
        let mut line = String::new();
        let mut finals = 0;
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if line.starts_with("250 OK") {
                finals += 1;
            }
            line.clear();
        }
        finals
    });
    let mut writer = std::io::BufWriter::new(stream);
    writer.write_all(b"EHLO many\r\n").unwrap();
    for n in 1..=count {
        write!(
            writer,
            "MAIL FROM:<bulk@example.com>\r\nRCPT TO:<n{n}@example.com>\r\nDATA\r\nSubject: bulk {n}\r\n\r\nbody {n}\r\n.\r\n"
        )
        .unwrap();
    }
    writer.write_all(b"QUIT\r\n").unwrap();
    writer.flush().unwrap();
    let finals = replies.join().expect("the reader");
    assert!(finals >= count, "{finals} of {count} messages accepted");
}

fn field<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(value, |v, key| &v[*key])
}

#[test]
fn mailpit_list_message_headers_raw_and_part() {
    let (binary, http) = service(&[]);
    assert!(send(
        binary.addr(),
        &["ann@example.com", "bob@example.com", "hidden@example.com"],
        ORDER
    )
    .starts_with("250"));

    let list = get(http, "/api/v1/messages").json();
    assert_eq!(
        (
            list["total"].clone(),
            list["messages_count"].clone(),
            list["unread"].clone()
        ),
        (1.into(), 1.into(), 1.into())
    );
    let summary = &list["messages"][0];
    let mut keys: Vec<&str> = summary.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "Attachments",
            "Bcc",
            "Cc",
            "Created",
            "From",
            "ID",
            "MessageID",
            "Read",
            "ReplyTo",
            "Size",
            "Snippet",
            "Subject",
            "Tags",
            "To",
            "Username"
        ]
    );
    assert_eq!(
        summary["From"],
        serde_json::json!({"Name": "Shop", "Address": "shop@example.com"})
    );
    assert_eq!(
        summary["Bcc"],
        serde_json::json!([{"Name": "", "Address": "hidden@example.com"}])
    );
    assert_eq!(summary["Subject"], "Your order 42");
    assert_eq!(summary["MessageID"], "order42@example.com");
    assert_eq!(summary["Attachments"], 1);
    assert_eq!(summary["Size"], ORDER.len());
    let id = summary["ID"].as_str().unwrap().to_string();

    let message = get(http, &format!("/api/v1/message/{id}")).json();
    assert_eq!(message["Date"], "2026-12-02T07:00:00Z");
    assert!(message["Text"]
        .as_str()
        .unwrap()
        .starts_with("Thanks for your order."));
    let attachment = &message["Attachments"][0];
    assert_eq!(
        (
            field(attachment, &["FileName"]),
            field(attachment, &["ContentType"]),
            field(attachment, &["Size"])
        ),
        (
            &Value::from("invoice.pdf"),
            &Value::from("application/pdf"),
            &Value::from(16)
        )
    );
    // Reading a message marks it read, as in Mailpit.
    assert_eq!(get(http, "/api/v1/messages").json()["unread"], 0);
    assert_eq!(get(http, "/api/v1/message/latest").json()["ID"], id.as_str());

    let headers = get(http, &format!("/api/v1/message/{id}/headers")).json();
    assert_eq!(
        headers["Message-Id"],
        serde_json::json!(["<order42@example.com>"])
    );
    assert_eq!(headers["Subject"], serde_json::json!(["Your order 42"]));

    let raw = get(http, &format!("/api/v1/message/{id}/raw"));
    assert_eq!(raw.text(), ORDER, "the exact bytes received");

    let part_id = attachment["PartID"].as_str().unwrap();
    let part = get(http, &format!("/api/v1/message/{id}/part/{part_id}"));
    assert_eq!(
        (part.status, part.header("content-type")),
        (200, Some("application/pdf"))
    );
    assert_eq!(part.body, b"%PDF-1.4 invoice");

    let text = get(http, &format!("/view/{id}.txt"));
    assert!(text.text().starts_with("Thanks for your order."));
}

#[test]
fn mailpit_search_read_status_and_delete() {
    let (binary, http) = service(&[]);
    for (to, subject) in [
        ("ann@example.com", "Welcome Ann"),
        ("bob@example.com", "Welcome Bob"),
        ("ann@example.com", "Invoice"),
    ] {
        let data = format!("From: shop@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nHello there\r\n");
        assert!(send(binary.addr(), &[to], &data).starts_with("250"));
    }
    let subjects = |query: &str| -> Vec<String> {
        let found = get(http, &format!("/api/v1/search?query={query}")).json();
        found["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Subject"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        subjects("to:ann@example.com"),
        ["Invoice", "Welcome Ann"],
        "newest first"
    );
    assert_eq!(subjects("subject:welcome%20-to:bob"), ["Welcome Ann"]);
    assert_eq!(subjects("%22Welcome%20Bob%22"), ["Welcome Bob"]);
    assert_eq!(subjects("nothing-like-this"), Vec::<String>::new());

    let all = get(http, "/api/v1/messages?limit=2&start=1").json();
    assert_eq!(
        (all["count"].clone(), all["start"].clone(), all["total"].clone()),
        (2.into(), 1.into(), 3.into())
    );

    assert_eq!(
        send_json(http, "PUT", "/api/v1/messages", r#"{"Read": true}"#).text(),
        "ok"
    );
    assert_eq!(get(http, "/api/v1/messages").json()["unread"], 0);
    assert_eq!(subjects("is:unread"), Vec::<String>::new());

    let first = get(http, "/api/v1/search?query=subject:invoice").json()["messages"][0]["ID"].clone();
    let deleted = send_json(
        http,
        "DELETE",
        "/api/v1/messages",
        &format!(r#"{{"IDs": [{first}]}}"#),
    );
    assert_eq!((deleted.status, deleted.text()), (200, "ok".to_string()));
    assert_eq!(get(http, "/api/v1/messages").json()["total"], 2);
    assert_eq!(
        request(http, "DELETE", "/api/v1/search?query=to:bob", "text/plain", b"").text(),
        "ok"
    );
    assert_eq!(subjects("welcome"), ["Welcome Ann"]);
    assert_eq!(
        request(http, "DELETE", "/api/v1/messages", "text/plain", b"").text(),
        "ok"
    );
    assert_eq!(get(http, "/api/v1/messages").json()["total"], 0);
}

#[test]
fn errors_are_json_with_the_right_status() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], "Subject: hi\r\n\r\nhi\r\n").starts_with("250"));
    let cases: [(&str, &str, &[u8], u16); 12] = [
        ("GET", "/api/v1/message/999", b"", 404),
        ("GET", "/api/v1/message/not-an-id/raw", b"", 404),
        ("GET", "/api/v1/message/1/part/9.9", b"", 404),
        ("GET", "/api/v1/no-such-route", b"", 404),
        ("GET", "/api/v1/search", b"", 400),
        ("GET", "/api/v1/search?query=%22open", b"", 400),
        ("GET", "/api/v1/messages?limit=lots", b"", 400),
        ("DELETE", "/api/v1/messages", b"{\"IDs\": [", 400),
        ("DELETE", "/api/v1/messages", b"{\"IDs\": \"1\"}", 400),
        ("PUT", "/api/v1/messages", b"[1, 2]", 400),
        ("POST", "/api/v1/rules", b"{\"reply\": \"NOPE=999\"}", 400),
        ("GET", "/api/v1/wait?count=1&timeout=forever", b"", 400),
    ];
    for (method, path, body, status) in cases {
        let response = request(http, method, path, "application/json", body);
        assert_eq!(response.status, status, "{method} {path}: {}", response.text());
        assert!(
            response.json()["Error"].is_string(),
            "{method} {path}: {}",
            response.text()
        );
    }
    let big = vec![b' '; 2 << 20];
    let response = request(http, "PUT", "/api/v1/messages", "application/json", &big);
    assert_eq!(response.status, 413);
    assert!(response.json()["Error"].as_str().unwrap().contains("bytes"));
    // After all that, the message is still there and the server answers.
    assert_eq!(get(http, "/api/v1/messages").json()["total"], 1);
}

#[test]
fn garbage_requests_do_not_stop_the_service() {
    let (_binary, http) = service(&[]);
    let garbage: [&[u8]; 6] = [
        b"\x00\x01\x02\r\n\r\n",
        b"GET /api/v1/message/%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /api/v1/search?query=%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST /api/v1/rules HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\n\xff\xfe{[",
        b"GET /view/.html HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET /api/v1/message/latest/part/0 HTTP/1.1\r\nConnection: close\r\n\r\n",
    ];
    for bytes in garbage {
        let mut stream = TcpStream::connect(http).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = stream.write_all(bytes);
        let mut answer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stream, &mut answer);
        let status = String::from_utf8_lossy(&answer);
        assert!(
            !status.starts_with("HTTP/1.1 5"),
            "{:?} got {status:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(get(http, "/api/v1/info").status, 200);
}

#[test]
fn the_store_keeps_the_newest_max_messages() {
    let (binary, http) = service(&["--max-messages", "50"]);
    send_many(binary.addr(), 10_050);
    let list = get(http, "/api/v1/messages?limit=100").json();
    assert_eq!(list["total"], 50);
    let subjects: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.first(), Some(&"bulk 10050"));
    assert_eq!(subjects.last(), Some(&"bulk 10001"));
    let info = get(http, "/api/v1/info").json();
    assert_eq!(info["RuntimeStats"]["MessagesDeleted"], 10_000);
    assert_eq!(info["RuntimeStats"]["SMTPAccepted"], 10_050);
}

/// Every rule the text form can say, posted and listed: it comes back as
/// posted, and posting the listing again adds the same rules.
#[test]
fn a_rule_posted_comes_back_equal() {
    let (_binary, http) = service(&[]);
    let posted = serde_json::json!([
        {"reply": "RCPT TO:a@example.com=550 5.1.1 No\\nsuch user", "times": 2},
        {"delay": "MAIL=250ms"},
        {"disconnect": "DATA"},
        {"reply": "MESSAGE TO:b@example.com=452 4.2.2 Full"},
        {"reply": "XCLIENT=250 OK"},
        {"greylist": "RCPT=300000ms"},
        {"rate": "CONNECT=5/60000ms"},
        {"quota": "MESSAGE=5messages,552"},
        {"per-connection": "MAIL=10"},
        {"lose-reply": "MESSAGE"},
    ]);
    let added = send_json(http, "POST", "/api/v1/rules", &posted.to_string());
    assert_eq!(added.status, 201, "{}", added.text());
    // Each rule comes back with its ID and counters beside what was posted.
    let as_posted = |listed: &serde_json::Value| -> Vec<serde_json::Value> {
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|rule| {
                let mut rule = rule.clone();
                let object = rule.as_object_mut().unwrap();
                for added in ["ID", "Hits", "TimesLeft"] {
                    assert!(object.remove(added).is_some(), "{added} in {listed}");
                }
                rule
            })
            .collect()
    };
    let listed = get(http, "/api/v1/rules").json()["rules"].clone();
    let without_counters = as_posted(&listed);
    assert_eq!(serde_json::Value::from(without_counters.clone()), posted);
    request(http, "DELETE", "/api/v1/rules", "text/plain", b"");
    let again = send_json(
        http,
        "POST",
        "/api/v1/rules",
        &serde_json::Value::from(without_counters).to_string(),
    );
    assert_eq!(again.status, 201, "{}", again.text());
    let listed_again = get(http, "/api/v1/rules").json()["rules"].clone();
    assert_eq!(as_posted(&listed_again), as_posted(&listed));
}

#[test]
fn rules_over_http_script_the_smtp_side() {
    let (binary, http) = service(&[]);
    let added = send_json(
        http,
        "POST",
        "/api/v1/rules",
        r#"[{"reply": "RCPT TO:bounce@example.com=550 5.1.1 No such user"},
            {"reply": "MESSAGE=451 4.3.0 Try again later", "times": 1}]"#,
    );
    assert_eq!(added.status, 201, "{}", added.text());

    let mut client = Client::greeted(binary.addr());
    client.command("EHLO client.test");
    client.command("MAIL FROM:<shop@example.com>");
    assert_eq!(
        client.command("RCPT TO:<bounce@example.com>"),
        "550 5.1.1 No such user\r\n"
    );
    client.command("QUIT");
    assert!(send(
        binary.addr(),
        &["ann@example.com"],
        "Subject: first try\r\n\r\nx\r\n"
    )
    .starts_with("451"));
    assert!(send(binary.addr(), &["ann@example.com"], "Subject: retry\r\n\r\nx\r\n").starts_with("250"));

    // The rules come back in the form they were posted in, with counters.
    let rules = get(http, "/api/v1/rules").json();
    assert_eq!(
        rules["rules"],
        serde_json::json!([
            {"ID": 1, "reply": "RCPT TO:bounce@example.com=550 5.1.1 No such user", "Hits": 1, "TimesLeft": null},
            {"ID": 2, "reply": "MESSAGE=451 4.3.0 Try again later", "times": 1, "Hits": 1, "TimesLeft": 0},
        ])
    );

    let rejected = get(http, "/api/v1/rejected").json();
    assert_eq!(rejected["messages"][0]["Subject"], "first try");
    assert_eq!(rejected["messages"][0]["Code"], 451);
    assert_eq!(rejected["recipients"][0]["Address"], "bounce@example.com");
    assert_eq!(rejected["recipients"][0]["Reply"], "550 5.1.1 No such user");

    assert_eq!(
        request(http, "DELETE", "/api/v1/rules", "text/plain", b"").json()["rules"],
        serde_json::json!([])
    );
    let mut client = Client::greeted(binary.addr());
    client.command("EHLO client.test");
    client.command("MAIL FROM:<shop@example.com>");
    assert_eq!(
        client.code("RCPT TO:<bounce@example.com>"),
        250,
        "the rule is gone"
    );
}

#[test]
fn wait_returns_when_the_messages_arrive_and_408_after_its_timeout() {
    let (binary, http) = service(&[]);
    let smtp = binary.addr();
    let waiter = thread::spawn(move || get(http, "/api/v1/wait?count=1&timeout=60s&query=to:bob"));
    // The mail goes once the wait has looked, found nothing, and waits.
    let waiting = || get(http, "/api/v1/info").json()["Waiting"].clone();
    eventually("the wait is in place", || holds(waiting() == 1));
    send(smtp, &["ann@example.com"], "Subject: late\r\n\r\nx\r\n");
    send(smtp, &["bob@example.com"], "Subject: later\r\n\r\nx\r\n");
    let waited = waiter.join().unwrap();
    assert_eq!(waited.status, 200, "{}", waited.text());
    assert_eq!(waited.json()["messages"][0]["Subject"], "later");
    assert_eq!(waiting(), 0, "an answered wait is no longer counted");
    let all = get(http, "/api/v1/wait?count=2&timeout=1s").json();
    assert_eq!(all["total"], 2);

    let timed_out = get(http, "/api/v1/wait?count=3&timeout=200ms");
    assert_eq!(timed_out.status, 408);
    assert_eq!(timed_out.json()["Error"], "2 of 3 messages after 200ms");
}

#[test]
fn links_snapshot_lint_and_transcript_of_a_message() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], ORDER).starts_with("250"));
    let links = get(http, "/api/v1/message/latest/links").json();
    assert_eq!(links[0]["URL"], "https://shop.test/confirm?token=t1");
    assert_eq!(links[0]["Source"], "text");
    let snapshot = get(http, "/api/v1/message/latest/snapshot").text();
    assert!(snapshot.contains("invoice.pdf"), "{snapshot}");
    let lint = get(http, "/api/v1/message/latest/lint").json();
    assert_eq!(lint, serde_json::json!({"Clean": true, "Violations": []}));
    let transcript = get(http, "/api/v1/message/latest/transcript").text();
    assert!(
        transcript.contains("C: MAIL FROM:<shop@example.com>"),
        "{transcript}"
    );
    assert!(transcript.contains("S: 250 OK"), "{transcript}");
}

#[test]
fn a_hundred_event_streams_each_see_accepted_and_deleted() {
    let (binary, http) = service(&[]);
    let mut streams: Vec<EventStream> = (0..100)
        .map(|_| EventStream::open(http, "/api/v1/events"))
        .collect();
    // Each stream is subscribed once its response head arrived.
    assert!(send(binary.addr(), &["ann@example.com"], "Subject: live\r\n\r\nx\r\n").starts_with("250"));
    for stream in &mut streams {
        let summary: Value = serde_json::from_str(&stream.next_event("accepted")).unwrap();
        assert_eq!(summary["Subject"], "live");
    }
    assert_eq!(
        request(http, "DELETE", "/api/v1/messages", "text/plain", b"").text(),
        "ok"
    );
    for stream in &mut streams {
        let deleted: Value = serde_json::from_str(&stream.next_event("deleted")).unwrap();
        assert_eq!(deleted["IDs"], serde_json::json!(["1"]));
    }
    assert_eq!(get(http, "/api/v1/info").status, 200);
}

#[test]
fn a_non_loopback_http_address_is_warned_about() {
    // 0.0.0.0 listens on every interface; the test connects over loopback only.
    let mut binary = Binary::start(&["-c", "SmtpServer", "--http", "0.0.0.0:0"], &[]);
    let mut line = String::new();
    binary.stdout.read_line(&mut line).unwrap();
    assert!(line.contains("HTTP API"), "{line:?}");
    let mut stderr = BufReader::new(binary.stderr.take().unwrap());
    let mut warning = String::new();
    stderr.read_line(&mut warning).unwrap();
    assert!(
        warning.contains("warning: the HTTP API on 0.0.0.0"),
        "{warning:?}"
    );
}

#[test]
fn json_lines_and_eml_files_for_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let eml_dir = dir.path().join("mail");
    let eml_arg = eml_dir.to_str().unwrap().to_string();
    // The default class (DebuggingServer) prints JSON lines instead of its block.
    let mut binary = Binary::start(&["--json", "--eml-dir", &eml_arg], &[]);
    assert!(send(binary.addr(), &["ann@example.com"], ORDER).starts_with("250"));
    let mut line = String::new();
    binary.stdout.read_line(&mut line).unwrap();
    let printed: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    assert_eq!(printed["From"], "shop@example.com");
    assert_eq!(printed["To"], serde_json::json!(["ann@example.com"]));
    assert_eq!(printed["Subject"], "Your order 42");
    assert_eq!(printed["MessageID"], "order42@example.com");
    assert_eq!(printed["Size"], ORDER.len());
    let files: Vec<_> = std::fs::read_dir(&eml_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read_to_string(&files[0]).unwrap(), ORDER);
}

/// Issue 31, defect 2: `curl -X DELETE -d garbage` (a form body naming no
/// `IDs`) deleted every message.
#[test]
fn a_delete_with_a_body_that_is_not_json_deletes_nothing() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], "Subject: keep\r\n\r\nx\r\n").starts_with("250"));
    for (content_type, body) in [
        ("application/x-www-form-urlencoded", &b"garbage"[..]),
        ("text/plain", b"garbage"),
        ("application/json", b"garbage"),
    ] {
        let response = request(http, "DELETE", "/api/v1/messages", content_type, body);
        assert_eq!(response.status, 400, "{content_type}: {}", response.text());
        assert!(response.json()["Error"].is_string());
        let marked = request(http, "PUT", "/api/v1/messages", content_type, body);
        assert_eq!(marked.status, 400, "{content_type}: {}", marked.text());
    }
    assert_eq!(get(http, "/api/v1/messages").json()["total"], 1);
    assert_eq!(get(http, "/api/v1/messages").json()["unread"], 1);
    // A form that names the IDs (the PyPI client's way) still works.
    let deleted = request(
        http,
        "DELETE",
        "/api/v1/messages",
        "application/x-www-form-urlencoded",
        b"ids=1",
    );
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    assert_eq!(get(http, "/api/v1/messages").json()["total"], 0);
}

const WITH_INLINE_IMAGE: &str = "From: Shop <shop@example.com>\r\n\
    To: ann@example.com\r\n\
    Subject: Logo\r\n\
    MIME-Version: 1.0\r\n\
    Content-Type: multipart/related; boundary=r\r\n\
    \r\n\
    --r\r\n\
    Content-Type: text/html\r\n\
    \r\n\
    <p>Our logo <img src=\"cid:logo@shop\" alt=logo></p><p>Second <b>line</b></p>\r\n\
    --r\r\n\
    Content-Type: image/png\r\n\
    Content-ID: <logo@shop>\r\n\
    Content-Transfer-Encoding: base64\r\n\
    \r\n\
    iVBORw0KGgo=\r\n\
    --r--\r\n";

/// Issue 31, defects 3, 4 and 5: `cid:` images in `/view/{ID}.html`, the
/// text of an HTML-only message, and no HTML view for a text-only one.
#[test]
fn the_html_view_links_inline_images_and_html_only_mail_has_text() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], WITH_INLINE_IMAGE).starts_with("250"));
    let message = get(http, "/api/v1/message/1").json();
    assert_eq!(message["Text"], "Our logo\nSecond line");
    assert_eq!(message["Inline"][0]["ContentID"], "logo@shop");
    let part_id = message["Inline"][0]["PartID"].as_str().unwrap().to_string();
    assert_eq!(get(http, "/view/1.txt").text(), "Our logo\nSecond line");

    let view = get(http, "/view/1.html");
    assert_eq!(view.status, 200);
    let part_url = format!("/api/v1/message/1/part/{part_id}");
    assert!(
        view.text()
            .contains(&format!("<img src=\"{part_url}\" alt=logo>")),
        "{}",
        view.text()
    );
    let csp = view.header("content-security-policy").unwrap();
    assert!(csp.contains("img-src 'self'"), "{csp}");
    let image = get(http, &part_url);
    assert_eq!(
        (image.status, image.header("content-type")),
        (200, Some("image/png"))
    );
    assert!(image.body.starts_with(b"\x89PNG"));

    assert!(send(
        binary.addr(),
        &["ann@example.com"],
        "Subject: plain\r\n\r\nJust text\r\n"
    )
    .starts_with("250"));
    let html = get(http, "/view/2.html");
    assert_eq!(html.status, 404, "{}", html.text());
    assert!(html.json()["Error"].is_string());
    assert_eq!(get(http, "/view/2.txt").text(), "Just text\r\n");
}

/// Issue 31, defect 6: `cypress-mailpit` asks for `//view/{ID}.html`; Go's
/// router under Mailpit redirects to the clean path.
#[test]
fn an_unclean_path_is_redirected_to_the_clean_one() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], WITH_INLINE_IMAGE).starts_with("250"));
    for (path, location) in [
        ("//view/1.html", "/view/1.html"),
        ("//view/latest.txt", "/view/latest.txt"),
        ("/api/v1//messages?limit=1", "/api/v1/messages?limit=1"),
        ("/api/v1/./message/../info", "/api/v1/info"),
    ] {
        let response = get(http, path);
        assert_eq!(response.status, 301, "{path}: {}", response.text());
        assert_eq!(response.header("location"), Some(location), "{path}");
        let followed = get(http, location);
        assert_eq!(followed.status, 200, "{location}: {}", followed.text());
    }
}

/// Issue 31, defect 7: `larger:`, `smaller:` and `has:inline`.
#[test]
fn search_by_size_and_inline_parts() {
    let (binary, http) = service(&[]);
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(3000));
    assert!(send(binary.addr(), &["ann@example.com"], &big).starts_with("250"));
    assert!(send(binary.addr(), &["ann@example.com"], "Subject: small\r\n\r\nx\r\n").starts_with("250"));
    assert!(send(binary.addr(), &["ann@example.com"], WITH_INLINE_IMAGE).starts_with("250"));
    let subjects = |query: &str| -> Vec<String> {
        let found = get(http, &format!("/api/v1/search?query={query}"));
        assert_eq!(found.status, 200, "{query}: {}", found.text());
        found.json()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Subject"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(subjects("larger:2k"), ["big"]);
    assert_eq!(subjects("smaller:100"), ["small"]);
    assert_eq!(subjects("-larger:2K%20-smaller:100"), ["Logo"]);
    assert_eq!(subjects("has:inline"), ["Logo"]);
    assert_eq!(subjects("!has:inline"), ["small", "big"]);
    assert_eq!(get(http, "/api/v1/search?query=larger:huge").status, 400);
}

/// Issue 31, defect 8: `X-Tags`, a message without `Message-ID`, and
/// `ReturnPath` from MAIL FROM.
#[test]
fn x_tags_generated_message_ids_and_the_return_path() {
    let (binary, http) = service(&[]);
    let data = "From: Other <other@example.com>\r\nTo: ann@example.com\r\n\
        X-Tags: newsletter, Billing ,newsletter\r\nSubject: tagged\r\n\r\nx\r\n";
    assert!(send(binary.addr(), &["ann@example.com"], data).starts_with("250"));
    let message = get(http, "/api/v1/message/1").json();
    assert_eq!(message["Tags"], serde_json::json!(["Billing", "newsletter"]));
    assert_eq!(
        get(http, "/api/v1/tags").json(),
        serde_json::json!(["Billing", "newsletter"])
    );
    assert_eq!(message["ReturnPath"], "shop@example.com", "MAIL FROM, not From:");
    let id = message["MessageID"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(
        get(http, "/api/v1/messages").json()["messages"][0]["MessageID"],
        id
    );
    let found = get(http, &format!("/api/v1/search?query=message-id:{id}")).json();
    assert_eq!(found["messages_count"], 1);
}

/// Issue 31, defect 9: a known route with a method it does not take.
#[test]
fn a_wrong_method_is_a_json_405() {
    let (_binary, http) = service(&[]);
    for (method, path) in [
        ("PATCH", "/api/v1/messages"),
        ("POST", "/api/v1/info"),
        ("DELETE", "/api/v1/chaos"),
    ] {
        let response = request(http, method, path, "application/json", b"{}");
        assert_eq!(response.status, 405, "{method} {path}");
        assert!(response.json()["Error"].is_string(), "{method} {path}");
    }
}

/// Issue 31, defect 11: the link faults of the command line over HTTP.
#[test]
fn link_fault_rules_over_http() {
    let (binary, http) = service(&[]);
    let added = send_json(
        http,
        "POST",
        "/api/v1/rules",
        r#"[{"throttle": "CONNECT=100000"}, {"cut": "RCPT TO:cut@example.com=3"},
            {"reset": "RCPT TO:reset@example.com"}, {"stop-reading": "VRFY"},
            {"silence": "EXPN", "times": 1}]"#,
    );
    assert_eq!(added.status, 201, "{}", added.text());
    // They come back in the form they were posted in.
    let rules = added.json()["rules"].clone();
    assert_eq!(rules[0]["throttle"], "CONNECT=100000", "{rules}");
    assert_eq!(rules[1]["cut"], "RCPT TO:cut@example.com=3", "{rules}");
    assert_eq!(rules[2]["reset"], "RCPT TO:reset@example.com", "{rules}");
    assert_eq!(rules[3]["stop-reading"], "VRFY", "{rules}");
    assert_eq!(
        (&rules[4]["silence"], &rules[4]["times"]),
        (&"EXPN".into(), &1.into()),
        "{rules}"
    );
    let mut client = Client::greeted(binary.addr());
    client.command("EHLO client.test");
    client.command("MAIL FROM:<shop@example.com>");
    client.send(b"RCPT TO:<cut@example.com>\r\n");
    assert_eq!(client.rest(), "250", "three bytes of the reply, then the end");
    let refused = send_json(http, "POST", "/api/v1/rules", r#"{"explode": "DATA"}"#);
    assert_eq!(refused.status, 400);
    assert!(refused.json()["Error"].as_str().unwrap().contains("stop-reading"));
}

#[test]
fn livez_and_readyz_answer_as_mailpit() {
    let (_binary, http) = service(&[]);
    for path in ["/livez", "/readyz"] {
        let response = get(http, path);
        assert_eq!((response.status, response.body.len()), (200, 0), "{path}");
    }
}

/// The reply codes of `count` MAIL FROMs, each followed by RSET.
fn mail_from_codes(smtp: SocketAddr, count: usize) -> Vec<u16> {
    let mut client = Client::greeted(smtp);
    client.command("EHLO client.test");
    (0..count)
        .map(|_| {
            let code = client.code("MAIL FROM:<shop@example.com>");
            client.command("RSET");
            code
        })
        .collect()
}

#[test]
fn mailpit_chaos_fails_the_same_commands_for_the_same_seed() {
    let (binary, http) = service(&[]);
    let off = get(http, "/api/v1/chaos").json();
    assert_eq!(
        off["Sender"],
        serde_json::json!({"ErrorCode": 451, "Probability": 0})
    );
    assert_eq!(off["Authentication"]["ErrorCode"], 535);
    assert!(off["Seed"].is_u64());

    let set = |seed: u64| {
        let body = format!(r#"{{"Sender": {{"ErrorCode": 421, "Probability": 50}}, "Seed": {seed}}}"#);
        let response = send_json(http, "PUT", "/api/v1/chaos", &body);
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    };
    let answer = set(7);
    assert_eq!(
        answer["Sender"],
        serde_json::json!({"ErrorCode": 421, "Probability": 50})
    );
    assert_eq!(
        answer["Recipient"],
        serde_json::json!({"ErrorCode": 451, "Probability": 0})
    );
    assert_eq!(answer["Seed"], 7);
    let first = mail_from_codes(binary.addr(), 40);
    assert!(first.contains(&421) && first.contains(&250), "{first:?}");
    assert!(first.iter().all(|code| [250, 421].contains(code)), "{first:?}");
    let rules = get(http, "/api/v1/rules").json();
    // A rule by chance has no text form: it is described in Rust's.
    let described = rules["rules"][0]["rule"].as_str().unwrap();
    assert!(described.contains("on::any_mail_from()"), "{described}");
    assert!(described.contains("50% of the time (seed 7)"), "{described}");

    set(7);
    assert_eq!(
        mail_from_codes(binary.addr(), 40),
        first,
        "the same seed, the same failures"
    );
    set(8);
    assert_ne!(
        mail_from_codes(binary.addr(), 40),
        first,
        "another seed, other failures"
    );

    let mut client = Client::greeted(binary.addr());
    client.command("EHLO client.test");
    set(7);
    assert_eq!(
        client.command("MAIL FROM:<shop@example.com>").trim_end(),
        if first[0] == 421 {
            "421 Chaos sender error"
        } else {
            "250 OK"
        }
    );
    drop(client);

    for bad in [
        r#"{"Sender": {"ErrorCode": 200, "Probability": 5}}"#,
        r#"{"Recipient": {"ErrorCode": 451, "Probability": 101}}"#,
        r#"{"Sender": 5}"#,
        "[1]",
    ] {
        let response = send_json(http, "PUT", "/api/v1/chaos", bad);
        assert_eq!(response.status, 400, "{bad}: {}", response.text());
    }
    let cleared = send_json(http, "PUT", "/api/v1/chaos", "{}").json();
    assert_eq!(cleared["Sender"]["Probability"], 0);
    assert_eq!(get(http, "/api/v1/rules").json()["rules"], serde_json::json!([]));
    assert!(mail_from_codes(binary.addr(), 10).iter().all(|code| *code == 250));
}

/// `--help` says first what the binary is for, then shows service mode
/// among its examples (a newcomer's first look).
#[test]
fn help_opens_with_the_purpose_and_examples_of_service_mode() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
        .arg("--help")
        .output()
        .expect("run smtp-fixture --help");
    let help = String::from_utf8_lossy(&output.stdout);
    let mut lines = help.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.contains("SMTP server") && first.contains("tests"),
        "{first:?}"
    );
    let before_usage: Vec<&str> = help.split("Usage:").next().unwrap().lines().collect();
    let examples = before_usage
        .iter()
        .filter(|line| line.trim_start().starts_with("smtp-fixture"))
        .count();
    assert!((2..=3).contains(&examples), "{help}");
    assert!(
        before_usage
            .iter()
            .any(|line| line.contains("smtp-fixture") && line.contains("--http")),
        "{help}"
    );
}
