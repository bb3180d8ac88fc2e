//! `ReceivedMessage::links` and `link_containing` against messages lettre
//! built and sent (alternatives, forced quoted-printable and base64, an
//! attachment) and against MIME written by hand and sent over a raw socket.

mod support;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Message, SmtpTransport, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::LinkSource;
use smtp_fixture::{ReceivedMessage, TestSmtpServer};

fn mailbox(text: &str) -> Mailbox {
    text.parse().expect("a valid mailbox")
}

/// Sends `body` from the app to ann@example.com with lettre and returns
/// what the server received.
fn send(body: MultiPart) -> ReceivedMessage {
    let email = Message::builder()
        .from(mailbox("App <app@example.com>"))
        .to(mailbox("ann@example.com"))
        .subject("Confirm your address")
        .multipart(body)
        .expect("a valid message");
    send_email(email)
}

fn send_email(email: Message) -> ReceivedMessage {
    let server = TestSmtpServer::start();
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
        .send(&email)
        .expect("the test server accepts the message");
    server.wait_for_message_to("ann@example.com")
}

fn part(content_type: ContentType, encoding: ContentTransferEncoding, body: &str) -> SinglePart {
    SinglePart::builder()
        .header(content_type)
        .header(encoding)
        .body(body.to_string())
}

fn urls(message: &ReceivedMessage) -> Vec<(LinkSource, String)> {
    message
        .links()
        .into_iter()
        .map(|link| (link.source, link.url))
        .collect()
}

#[test]
fn html_and_text_alternatives_give_each_part_its_links_in_order() {
    let message = send(MultiPart::alternative_plain_html(
        "Hi Ann,\n\nConfirm: https://app.test/confirm?token=t-1.\nHelp: http://help.app.test/faq\n"
            .to_string(),
        "<p>Hi Ann,</p><p><a href=\"https://app.test/confirm?token=t-1\">Confirm  your\n address</a></p>\
         <p><a href='https://help.app.test/faq'><img src=\"cid:help\" alt=\"Help\"></a></p>"
            .to_string(),
    ));

    assert_eq!(
        urls(&message),
        [
            (LinkSource::Text, "https://app.test/confirm?token=t-1".to_string()),
            (LinkSource::Text, "http://help.app.test/faq".to_string()),
            (LinkSource::Html, "https://app.test/confirm?token=t-1".to_string()),
            (LinkSource::Html, "https://help.app.test/faq".to_string()),
        ]
    );
    let texts: Vec<Option<String>> = message.links().into_iter().map(|link| link.text).collect();
    assert_eq!(
        texts,
        [
            None,
            None,
            Some("Confirm your address".to_string()),
            Some("Help".to_string())
        ]
    );
    let confirm = message.link_containing("/confirm");
    assert_eq!(confirm.query("token").as_deref(), Some("t-1"));
    assert_eq!(confirm.path(), "/confirm");
    assert_eq!(confirm.host(), Some("app.test"));
}

/// A URL longer than a quoted-printable line, with `=` in its query (which
/// QP must escape as `=3D`): the raw message has it broken and escaped, the
/// link has it whole.
#[test]
fn quoted_printable_soft_breaks_do_not_cut_a_url() {
    let token = "x".repeat(120);
    let url = format!("https://app.test/reset?token={token}&next=%2Fhome");
    let message = send(
        MultiPart::alternative()
            .singlepart(part(
                ContentType::TEXT_PLAIN,
                ContentTransferEncoding::QuotedPrintable,
                &format!("Reset your password: {url}\n"),
            ))
            .singlepart(part(
                ContentType::TEXT_HTML,
                ContentTransferEncoding::QuotedPrintable,
                &format!("<a href=\"{}\">Reset</a>", url.replace('&', "&amp;")),
            )),
    );

    let raw = message.text();
    assert!(raw.contains("quoted-printable"), "lettre used QP:\n{raw}");
    assert!(
        !raw.contains(&url),
        "the URL is broken over lines in the raw message:\n{raw}"
    );
    assert!(
        raw.contains("=\r\n"),
        "the raw message has soft line breaks:\n{raw}"
    );
    assert_eq!(
        urls(&message),
        [(LinkSource::Text, url.clone()), (LinkSource::Html, url.clone())]
    );
    let link = message.link_containing("/reset");
    assert_eq!(link.query("token"), Some(token));
    assert_eq!(link.query("next").as_deref(), Some("/home"));
}

#[test]
fn base64_bodies_are_decoded_before_links_are_read() {
    let message = send(
        MultiPart::alternative()
            .singlepart(part(
                ContentType::TEXT_PLAIN,
                ContentTransferEncoding::Base64,
                "Verify at https://app.test/verify?code=42\n",
            ))
            .singlepart(part(
                ContentType::TEXT_HTML,
                ContentTransferEncoding::Base64,
                "<a href=\"https://app.test/verify?code=42\">Verify</a>",
            )),
    );

    assert!(
        !message.text().contains("app.test"),
        "the raw message has the URL only in base64:\n{}",
        message.text()
    );
    assert_eq!(
        urls(&message),
        [
            (LinkSource::Text, "https://app.test/verify?code=42".to_string()),
            (LinkSource::Html, "https://app.test/verify?code=42".to_string()),
        ]
    );
}

#[test]
fn links_in_attachments_are_not_links_of_the_message() {
    let message = send(
        MultiPart::mixed()
            .multipart(MultiPart::alternative_plain_html(
                "Your invoice: https://app.test/invoices/7\n".to_string(),
                "<a href=\"https://app.test/invoices/7\">Invoice</a>".to_string(),
            ))
            .singlepart(Attachment::new("notes.txt".to_string()).body(
                String::from("see https://elsewhere.test/\n"),
                ContentType::TEXT_PLAIN,
            ))
            .singlepart(Attachment::new("invoice.pdf".to_string()).body(
                b"%PDF-1.4 https://pdf.test/".to_vec(),
                ContentType::parse("application/pdf").expect("a content type"),
            )),
    );

    assert_eq!(message.attachments().len(), 2);
    assert_eq!(
        urls(&message),
        [
            (LinkSource::Text, "https://app.test/invoices/7".to_string()),
            (LinkSource::Html, "https://app.test/invoices/7".to_string()),
        ]
    );
}

#[test]
fn character_references_in_hrefs_and_texts_are_decoded() {
    let message = send(MultiPart::alternative().singlepart(SinglePart::html(
        "<a href=\"https://app.test/c?a=1&amp;b=2&#38;c=&#x33;&amp;d=caf%C3%A9\">Caf&eacute; &amp; more</a>\
         <a href=\"https://app.test/q?name=Ann+Lee&amp;x=%26\">q</a>"
            .to_string(),
    )));

    let links = message.links();
    assert_eq!(links[0].url, "https://app.test/c?a=1&b=2&c=3&d=caf%C3%A9");
    assert_eq!(links[0].text.as_deref(), Some("Café & more"));
    assert_eq!(
        ["a", "b", "c", "d"].map(|name| links[0].query(name)),
        [
            Some("1".to_string()),
            Some("2".to_string()),
            Some("3".to_string()),
            Some("café".to_string())
        ]
    );
    assert_eq!(links[1].query("name").as_deref(), Some("Ann Lee"));
    assert_eq!(links[1].query("x").as_deref(), Some("&"));
}

#[test]
fn relative_links_are_left_as_written() {
    let message = send(
        MultiPart::alternative().singlepart(SinglePart::html(
            "<a href=\"/confirm?token=t%2B1#done\">a</a>\
         <a href=\"confirm/again?x=1\">b</a>\
         <a href=\"//cdn.app.test/logo.png?v=2\">c</a>\
         <a href=\"#top\">d</a>\
         <a href=\"mailto:help@app.test?subject=Hi\">e</a>\
         <a name=\"no-href\">f</a><a href=\"\">g</a>"
                .to_string(),
        )),
    );

    let links = message.links();
    let written: Vec<&str> = links.iter().map(|link| link.url.as_str()).collect();
    assert_eq!(
        written,
        [
            "/confirm?token=t%2B1#done",
            "confirm/again?x=1",
            "//cdn.app.test/logo.png?v=2",
            "#top",
            "mailto:help@app.test?subject=Hi"
        ]
    );
    let relative: Vec<bool> = links.iter().map(|link| link.is_relative()).collect();
    assert_eq!(relative, [true, true, true, true, false]);
    assert_eq!(links[0].path(), "/confirm");
    assert_eq!(links[0].query("token").as_deref(), Some("t+1"));
    assert_eq!(links[0].host(), None);
    assert_eq!(links[1].path(), "confirm/again");
    assert_eq!(links[1].query("x").as_deref(), Some("1"));
    assert_eq!(links[2].path(), "/logo.png");
    assert_eq!(links[2].host(), Some("cdn.app.test"));
    assert_eq!(links[3].path(), "");
    assert_eq!(links[4].path(), "help@app.test");
    assert_eq!(links[4].query("subject").as_deref(), Some("Hi"));
}

#[test]
fn a_url_repeated_in_a_part_is_listed_once_per_part() {
    let message = send(MultiPart::alternative_plain_html(
        "https://app.test/a https://app.test/b https://app.test/a, again: https://app.test/a.\n".to_string(),
        "<a href=\"https://app.test/a\">first</a> <a href=\"https://app.test/b\">b</a> \
         <a href=\"https://app.test/a\">second</a>"
            .to_string(),
    ));

    let links = message.links();
    assert_eq!(
        urls(&message),
        [
            (LinkSource::Text, "https://app.test/a".to_string()),
            (LinkSource::Text, "https://app.test/b".to_string()),
            (LinkSource::Html, "https://app.test/a".to_string()),
            (LinkSource::Html, "https://app.test/b".to_string()),
        ]
    );
    assert_eq!(links[2].text.as_deref(), Some("first"), "the first place is kept");
}

#[test]
fn style_and_script_contents_are_not_taken_for_links() {
    let message = send(
        MultiPart::alternative().singlepart(SinglePart::html(
            "<html><head><title>a <a href=\"https://title.test/\">x</a></title>\
         <style>a[href^=\"x\"] { color: red } /* <a href=\"https://style.test/\"> */</style></head>\
         <body><script>document.write('<a href=\"https://script.test/\">s</a>')</script>\
         <!-- <a href=\"https://comment.test/\">c</a> -->\
         <a href=\"https://app.test/real\">real</a></body></html>"
                .to_string(),
        )),
    );

    assert_eq!(
        urls(&message),
        [(LinkSource::Html, "https://app.test/real".to_string())]
    );
}

#[test]
fn link_containing_reports_every_link_it_found() {
    let message = send(MultiPart::alternative_plain_html(
        "Unsubscribe: https://app.test/unsubscribe\n".to_string(),
        "<a href=\"https://app.test/welcome\">Welcome</a>".to_string(),
    ));

    let panic = std::panic::catch_unwind(|| message.link_containing("/reset-password"))
        .expect_err("no link contains /reset-password");
    let text = panic.downcast_ref::<String>().expect("a formatted panic message");
    assert!(text.contains("no link contains \"/reset-password\""), "{text}");
    assert!(text.contains(&message.summary()), "{text}");
    assert!(text.contains("Links found (2):"), "{text}");
    assert!(text.contains("1. https://app.test/unsubscribe\n"), "{text}");
    assert!(text.contains("2. https://app.test/welcome [Welcome]"), "{text}");
}

#[test]
fn a_message_without_parts_to_read_has_no_links() {
    let email = Message::builder()
        .from(mailbox("app@example.com"))
        .to(mailbox("ann@example.com"))
        .subject("Nothing to click")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from(
            "No links here, only http:// and a www.example.com.\n",
        ))
        .expect("a valid message");
    assert!(send_email(email).links().is_empty());
}

/// MIME as a hand-written mailer (or another language's library) might
/// send it: quoted-printable with a soft break inside an `href` and `=3D`
/// escapes, a Latin-1 text part, and a link in a forwarded message that is
/// not the message's own.
#[test]
fn hand_written_mime_over_a_raw_socket() {
    let server = TestSmtpServer::start();
    let mut client = support::Client::greeted(server.addr());
    let body = "From: app@example.com\r\n\
        To: ann@example.com\r\n\
        Subject: Reset\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
        \r\n\
        --outer\r\n\
        Content-Type: multipart/alternative; boundary=inner\r\n\
        \r\n\
        --inner\r\n\
        Content-Type: text/plain; charset=iso-8859-1\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        \r\n\
        Gr=FC=DFe! Reset (<https://app.test/reset?t=3Dabc&u=3D7>) now.\r\n\
        --inner\r\n\
        Content-Type: text/html; charset=utf-8\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        \r\n\
        <p>Gr=C3=BC=C3=9Fe!</p><a href=3D\"https://app.test/re=\r\n\
        set?t=3Dabc&amp;u=3D7\">Passwort zur=C3=BCcksetzen</a>\r\n\
        --inner--\r\n\
        --outer\r\n\
        Content-Type: message/rfc822\r\n\
        \r\n\
        Subject: an older mail\r\n\
        Content-Type: text/html\r\n\
        \r\n\
        <a href=\"https://old.test/\">old</a>\r\n\
        --outer--\r\n\
        .\r\n";
    let reply = client.send_message("app@example.com", "ann@example.com", body.as_bytes());
    assert!(reply.starts_with("250"), "{reply}");

    let message = server.wait_for_message_to("ann@example.com");
    let links = message.links();
    assert_eq!(
        urls(&message),
        [
            (LinkSource::Text, "https://app.test/reset?t=abc&u=7".to_string()),
            (LinkSource::Html, "https://app.test/reset?t=abc&u=7".to_string()),
        ]
    );
    assert_eq!(links[1].text.as_deref(), Some("Passwort zurücksetzen"));
    assert_eq!(links[1].query("u").as_deref(), Some("7"));
}
