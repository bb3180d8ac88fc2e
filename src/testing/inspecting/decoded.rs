//! A received message as a failure report shows it: header values decoded
//! (RFC 2047 words as text), each text part decoded from its transfer
//! encoding (a quoted-printable token whole, `=` not `=3D`), attachments
//! named; the raw bytes only when asked for, with `SMTP_FIXTURE_REPORT=raw`.

use mail_parser::{MessagePart, MimeHeaders, PartType};

use super::message::{header_text, ReceivedMessage};

/// The environment variable that makes failure reports show a message's
/// raw bytes instead of its decoded text: `SMTP_FIXTURE_REPORT=raw`.
const REPORT_ENV: &str = "SMTP_FIXTURE_REPORT";

impl ReceivedMessage {
    /// The message for a failure report, with the heading to show it
    /// under: decoded, or raw when `SMTP_FIXTURE_REPORT=raw`.
    pub(crate) fn as_reported(&self) -> (&'static str, String) {
        if std::env::var(REPORT_ENV).is_ok_and(|value| value.eq_ignore_ascii_case("raw")) {
            return ("message, raw", self.text());
        }
        match self.decoded() {
            Some(text) => ("message, decoded (SMTP_FIXTURE_REPORT=raw shows the bytes)", text),
            None => ("message, raw (not parsable as a message)", self.text()),
        }
    }

    /// The headers decoded, then each body part decoded under its type.
    fn decoded(&self) -> Option<String> {
        let parsed = self.parsed()?;
        let mut text = String::new();
        for header in parsed.headers() {
            let raw = || {
                let bytes = self
                    .data
                    .get(header.offset_start as usize..header.offset_end as usize);
                String::from_utf8_lossy(bytes.unwrap_or_default())
                    .trim()
                    .to_string()
            };
            let value = header_text(header.value()).unwrap_or_else(raw);
            text.push_str(&format!("{}: {value}\n", header.name()));
        }
        for (index, part) in parsed.parts.iter().enumerate() {
            let attachment = parsed.attachments.contains(&(index as u32));
            match (&part.body, attachment) {
                (PartType::Multipart(_), _) => {}
                (PartType::Text(body) | PartType::Html(body), false) => {
                    text.push_str(&format!("\n[{} part]\n{body}", content_type(part)));
                    if !body.ends_with('\n') {
                        text.push('\n');
                    }
                }
                _ => {
                    let name = part
                        .attachment_name()
                        .map(|name| format!(" {name:?}"))
                        .unwrap_or_default();
                    let kind = if attachment { "attachment" } else { "part" };
                    let size = part.contents().len();
                    text.push_str(&format!(
                        "\n[{kind}{name}: {}, {size} bytes]\n",
                        content_type(part)
                    ));
                }
            }
        }
        Some(text)
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type().map_or_else(
        || "text/plain".to_string(),
        |ct| match ct.subtype() {
            Some(subtype) => format!("{}/{subtype}", ct.ctype()),
            None => ct.ctype().to_string(),
        },
    )
}

#[cfg(test)]
mod tests {
    use crate::{Envelope, ReceivedMessage};

    #[test]
    fn a_quoted_printable_body_and_encoded_words_are_shown_decoded() {
        let message = ReceivedMessage::new(
            Envelope::default(),
            "Subject: =?utf-8?q?Caf=C3=A9_menu?=\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Transfer-Encoding: quoted-printable\r\n\r\n\
             Your link: https://app.test/confirm?token=3Dabcdefghijklmnopqrstuvwxyz0123456789abcdef=\r\n\
             ghijklmnop\r\n",
        );
        let (heading, shown) = message.as_reported();
        assert!(heading.starts_with("message, decoded"), "{heading}");
        assert!(shown.contains("Subject: Café menu"), "{shown}");
        assert!(
            shown.contains(
                "https://app.test/confirm?token=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop"
            ),
            "{shown}"
        );
        assert!(!shown.contains("=3D"), "{shown}");
    }

    #[test]
    fn attachments_are_named_not_dumped() {
        let message = ReceivedMessage::new(
            Envelope::default(),
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n",
        );
        let (_, shown) = message.as_reported();
        assert!(shown.contains("[text/plain part]\nhi"), "{shown}");
        assert!(
            shown.contains("[attachment \"a.pdf\": application/pdf, 5 bytes]"),
            "{shown}"
        );
        assert!(!shown.contains("JVBERi0="), "{shown}");
    }
}
