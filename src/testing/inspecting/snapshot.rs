//! A stable text rendering of a received message, for snapshot tests.

use std::fmt::Write;

use mail_parser::{ContentType, Header, HeaderValue, MessagePart, MimeHeaders, PartType};

use super::message::{addresses_text, ReceivedMessage};

/// Headers whose values change with every send (or every machine), shown
/// as `[masked]`: the date, the generated IDs, the trace headers a relay or
/// client adds, and signatures over all of those.
pub const MASKED_HEADERS: &[&str] = &[
    "Date",
    "Message-ID",
    "Received",
    "Resent-Date",
    "Resent-Message-ID",
    "DKIM-Signature",
    "ARC-Seal",
    "ARC-Message-Signature",
    "ARC-Authentication-Results",
];

const MASK: &str = "[masked]";

impl ReceivedMessage {
    /// The message as stable, readable text for snapshot tests
    /// (`insta::assert_snapshot!(message.snapshot())`): the envelope, the
    /// headers, then every MIME part with its content type and decoded
    /// text; attachments as name, type, size and SHA-256. Line endings are
    /// `\n`.
    ///
    /// So that two runs of the same code give the same text, it masks what
    /// changes per send or per machine:
    /// - the values of the headers in [`MASKED_HEADERS`] (`Date`,
    ///   `Message-ID`, `Received`, DKIM and ARC signatures, ...);
    /// - MIME boundaries (`boundary="[masked]"`; the parts themselves are
    ///   shown by position instead);
    /// - the `SIZE=` the client declared in `MAIL FROM` (it counts the
    ///   masked headers too).
    ///
    /// What is yours to mask: values your own code makes up (a token in a
    /// link, a request ID header). Use
    /// [`snapshot_masking`](Self::snapshot_masking) for headers, and
    /// replace a token in the text, e.g.
    /// `message.snapshot().replace(&token, "[token]")`.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope {
    ///         mail_from: "app@example.com".into(),
    ///         rcpt_to: vec!["ann@example.com".into()],
    ///         mail_options: vec!["SIZE=412".into()],
    ///         ..Envelope::default()
    ///     },
    ///     "From: App <app@example.com>\r\n\
    ///      To: ann@example.com\r\n\
    ///      Subject: =?utf-8?q?Caf=C3=A9?=\r\n\
    ///      Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n\
    ///      Message-ID: <8d1f@host.example>\r\n\
    ///      Content-Type: multipart/mixed; boundary=\"xyz123\"\r\n\
    ///      \r\n\
    ///      --xyz123\r\n\
    ///      Content-Type: text/plain; charset=utf-8\r\n\
    ///      Content-Transfer-Encoding: quoted-printable\r\n\
    ///      \r\n\
    ///      Caf=C3=A9 at 10\r\n\
    ///      --xyz123\r\n\
    ///      Content-Type: application/pdf\r\n\
    ///      Content-Disposition: attachment; filename=\"menu.pdf\"\r\n\
    ///      Content-Transfer-Encoding: base64\r\n\
    ///      \r\n\
    ///      JVBERi0=\r\n\
    ///      --xyz123--\r\n",
    /// );
    /// assert_eq!(
    ///     message.snapshot(),
    ///     "MAIL FROM:<app@example.com> SIZE=[masked]\n\
    ///      RCPT TO:<ann@example.com>\n\
    ///      \n\
    ///      From: App <app@example.com>\n\
    ///      To: ann@example.com\n\
    ///      Subject: Café\n\
    ///      Date: [masked]\n\
    ///      Message-ID: [masked]\n\
    ///      Content-Type: multipart/mixed; boundary=\"[masked]\"\n\
    ///      \n\
    ///      --- 1 multipart/mixed\n\
    ///      --- 1.1 text/plain; charset=utf-8\n\
    ///      Café at 10\n\
    ///      --- 1.2 attachment \"menu.pdf\" application/pdf, 5 bytes, \
    ///      sha256 38523c087796e5d5dd1cf9bad1fb026781a838dd9dd2cf8af58b9f6502a46778\n"
    /// );
    /// ```
    pub fn snapshot(&self) -> String {
        self.snapshot_masking(&[])
    }

    /// [`snapshot`](Self::snapshot), also masking the values of the headers
    /// named in `headers` (any case), e.g. `&["X-Request-Id",
    /// "In-Reply-To"]`.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(Envelope::default(), "X-Request-Id: 4f1c\r\nSubject: Hi\r\n\r\nHello\r\n");
    /// let snapshot = message.snapshot_masking(&["x-request-id"]);
    /// assert!(snapshot.contains("X-Request-Id: [masked]\nSubject: Hi\n"));
    /// ```
    pub fn snapshot_masking(&self, headers: &[&str]) -> String {
        let mut out = String::new();
        self.render_envelope(&mut out);
        out.push('\n');
        let masked = |name: &str| {
            MASKED_HEADERS
                .iter()
                .chain(headers)
                .any(|masked| masked.eq_ignore_ascii_case(name))
        };
        match self.parsed() {
            Some(parsed) => render_message(&mut out, &parsed, "1", &masked),
            None => {
                out.push_str("(not a parsable message)\n");
                out.push_str(&self.text().replace("\r\n", "\n"));
            }
        }
        out
    }

    fn render_envelope(&self, out: &mut String) {
        let options = |options: &[String]| -> String {
            options
                .iter()
                .map(|option| match option.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("SIZE") => format!(" {name}={MASK}"),
                    _ => format!(" {option}"),
                })
                .collect()
        };
        let _ = writeln!(
            out,
            "MAIL FROM:<{}>{}",
            self.envelope
                .mail_from
                .trim_start_matches('<')
                .trim_end_matches('>'),
            options(&self.envelope.mail_options)
        );
        if !self.envelope.dsn.is_empty() {
            let _ = writeln!(out, "DSN: {}", self.envelope.dsn);
        }
        for recipient in &self.envelope.rcpt_to {
            let _ = match self.envelope.recipient_dsn(recipient) {
                Some(dsn) => writeln!(out, "RCPT TO:<{recipient}> DSN: {dsn}"),
                None => writeln!(out, "RCPT TO:<{recipient}>"),
            };
        }
        if !self.envelope.rcpt_options.is_empty() {
            let _ = writeln!(out, "RCPT options:{}", options(&self.envelope.rcpt_options));
        }
    }
}

fn render_message(
    out: &mut String,
    message: &mail_parser::Message<'_>,
    path: &str,
    masked: &dyn Fn(&str) -> bool,
) {
    let raw = message.raw_message();
    for header in message.headers() {
        let value = if masked(header.name()) {
            MASK.to_string()
        } else {
            header_text(raw, header)
        };
        let _ = writeln!(out, "{}: {value}", header.name());
    }
    out.push('\n');
    render_part(out, message, 0, path, masked);
}

fn render_part(
    out: &mut String,
    message: &mail_parser::Message<'_>,
    index: u32,
    path: &str,
    masked: &dyn Fn(&str) -> bool,
) {
    let Some(part) = message.part(index) else {
        return;
    };
    let content_type = part
        .content_type()
        .map(|ct| content_type_text(ct, Shown::Part))
        .unwrap_or_else(|| "text/plain".to_string());
    let is_attachment = message.attachments.contains(&index);
    match &part.body {
        PartType::Multipart(children) => {
            let _ = writeln!(out, "--- {path} {content_type}");
            for (number, child) in children.iter().enumerate() {
                render_part(out, message, *child, &format!("{path}.{}", number + 1), masked);
            }
        }
        PartType::Message(inner) => {
            let _ = writeln!(out, "--- {path} {content_type}");
            render_message(out, inner, &format!("{path}.1"), masked);
        }
        PartType::Text(text) | PartType::Html(text) if !is_attachment => {
            let _ = writeln!(out, "--- {path} {content_type}");
            let text = text.replace("\r\n", "\n");
            out.push_str(&text);
            if !text.ends_with('\n') {
                out.push('\n');
            }
        }
        _ => render_attachment(out, part, path),
    }
}

fn render_attachment(out: &mut String, part: &MessagePart<'_>, path: &str) {
    let disposition = match part.content_disposition() {
        Some(disposition) if disposition.is_inline() => "inline",
        _ => "attachment",
    };
    let name = part
        .attachment_name()
        .map(|name| format!(" {name:?}"))
        .unwrap_or_default();
    let content_type = part
        .content_type()
        .map(|ct| content_type_text(ct, Shown::Attachment))
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let data = part.contents();
    let hash: String = hmac_sha256::Hash::hash(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let _ = writeln!(
        out,
        "--- {path} {disposition}{name} {content_type}, {} bytes, sha256 {hash}",
        data.len()
    );
}

/// Where a content type is shown, which decides what of it is left out.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// In the headers: the boundary shown as `[masked]`.
    Header,
    /// On a part's line: no boundary (the parts are numbered instead).
    Part,
    /// On an attachment's line: no boundary, no name (shown already).
    Attachment,
}

/// `type/subtype; name=value ...`.
fn content_type_text(ct: &ContentType<'_>, shown: Shown) -> String {
    let mut text = match ct.subtype() {
        Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
        None => ct.ctype().to_string(),
    };
    for attribute in ct.attributes().unwrap_or_default() {
        let name = attribute.name.as_ref();
        let value = if name.eq_ignore_ascii_case("boundary") {
            if shown != Shown::Header {
                continue;
            }
            format!("\"{MASK}\"")
        } else if shown == Shown::Attachment && name.eq_ignore_ascii_case("name") {
            continue;
        } else {
            quoted_if_needed(&attribute.value)
        };
        let _ = write!(text, "; {name}={value}");
    }
    text
}

/// A header's value: decoded where mail-parser decodes it (text, addresses,
/// content types), otherwise the raw value unfolded.
fn header_text(raw: &[u8], header: &Header<'_>) -> String {
    match &header.value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::Address(address) => addresses_text(address),
        HeaderValue::ContentType(ct) => content_type_text(ct, Shown::Header),
        _ => {
            let range = header.offset_start() as usize..header.offset_end() as usize;
            let value = raw.get(range).unwrap_or_default();
            let value = String::from_utf8_lossy(value);
            value
                .split(['\r', '\n'])
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("")
                .trim()
                .to_string()
        }
    }
}

/// A parameter value, in quotes when it is not an RFC 2045 token.
fn quoted_if_needed(value: &str) -> String {
    let token = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_graphic() && !"()<>@,;:\\\"/[]?=".contains(c));
    if token {
        value.to_string()
    } else {
        format!("{value:?}")
    }
}
