//! Mailpit's JSON shapes (its API v1 `swagger.json`: `MessageSummary`,
//! `Message`, `Attachment`, `Address`, ...), built from a stored message.
//! The field names are Mailpit's, capitals included; the values come from
//! `mail-parser`.

use std::collections::BTreeMap;

use mail_parser::{Address as ParsedAddress, MessageParser, MessagePart, MimeHeaders, PartType};
use serde::Serialize;

use super::text::{html_to_text, rfc3339};
use crate::testing::message::ReceivedMessage;
use crate::testing::store::MessageMeta;

/// Characters of text a summary's `Snippet` shows (as Mailpit).
const SNIPPET_CHARS: usize = 200;

/// `{"Name": ..., "Address": ...}`, Go's `mail.Address`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Address {
    pub(crate) name: String,
    pub(crate) address: String,
}

/// One entry of `GET /api/v1/messages` and `/search`.
#[derive(Debug, Serialize)]
pub(crate) struct MessageSummary {
    #[serde(rename = "ID")]
    pub(crate) id: String,
    #[serde(rename = "MessageID")]
    pub(crate) message_id: String,
    #[serde(rename = "Read")]
    pub(crate) read: bool,
    #[serde(rename = "From")]
    pub(crate) from: Option<Address>,
    #[serde(rename = "To")]
    pub(crate) to: Vec<Address>,
    #[serde(rename = "Cc")]
    pub(crate) cc: Vec<Address>,
    #[serde(rename = "Bcc")]
    pub(crate) bcc: Vec<Address>,
    #[serde(rename = "ReplyTo")]
    pub(crate) reply_to: Vec<Address>,
    #[serde(rename = "Subject")]
    pub(crate) subject: String,
    #[serde(rename = "Created")]
    pub(crate) created: String,
    #[serde(rename = "Username")]
    pub(crate) username: String,
    #[serde(rename = "Tags")]
    pub(crate) tags: Vec<String>,
    #[serde(rename = "Size")]
    pub(crate) size: usize,
    #[serde(rename = "Attachments")]
    pub(crate) attachments: usize,
    #[serde(rename = "Snippet")]
    pub(crate) snippet: String,
}

/// `Checksums` of an attachment.
#[derive(Debug, Serialize)]
pub(crate) struct Checksums {
    #[serde(rename = "MD5")]
    md5: String,
    #[serde(rename = "SHA1")]
    sha1: String,
    #[serde(rename = "SHA256")]
    sha256: String,
}

/// An attachment or inline part.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Attachment {
    #[serde(rename = "PartID")]
    pub(crate) part_id: String,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    #[serde(rename = "ContentID")]
    pub(crate) content_id: String,
    pub(crate) size: usize,
    checksums: Checksums,
}

/// `ListUnsubscribe` of a message.
#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListUnsubscribe {
    header: String,
    links: Vec<String>,
    errors: String,
    header_post: String,
}

/// `GET /api/v1/message/{ID}`. `Read` is not in Mailpit's current schema;
/// older Mailpit versions sent it and the PyPI client still reads it.
#[derive(Debug, Serialize)]
pub(crate) struct Message {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "MessageID")]
    message_id: String,
    #[serde(rename = "Read")]
    read: bool,
    #[serde(rename = "From")]
    from: Option<Address>,
    #[serde(rename = "To")]
    to: Vec<Address>,
    #[serde(rename = "Cc")]
    cc: Vec<Address>,
    #[serde(rename = "Bcc")]
    bcc: Vec<Address>,
    #[serde(rename = "ReplyTo")]
    reply_to: Vec<Address>,
    #[serde(rename = "ReturnPath")]
    return_path: String,
    #[serde(rename = "Subject")]
    subject: String,
    #[serde(rename = "ListUnsubscribe")]
    list_unsubscribe: ListUnsubscribe,
    #[serde(rename = "Date")]
    date: String,
    #[serde(rename = "Tags")]
    tags: Vec<String>,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Text")]
    text: String,
    #[serde(rename = "HTML")]
    html: String,
    #[serde(rename = "Size")]
    size: usize,
    #[serde(rename = "Inline")]
    inline: Vec<Attachment>,
    #[serde(rename = "Attachments")]
    attachments: Vec<Attachment>,
}

/// A MIME part that Mailpit lists as an attachment or inline part, with
/// its bytes.
pub(crate) struct Part {
    pub(crate) summary: Attachment,
    pub(crate) inline: bool,
    pub(crate) content: Vec<u8>,
}

/// Everything the routes read from one message, parsed once.
pub(crate) struct Parsed {
    pub(crate) message_id: String,
    pub(crate) from: Option<Address>,
    pub(crate) to: Vec<Address>,
    pub(crate) cc: Vec<Address>,
    pub(crate) bcc: Vec<Address>,
    pub(crate) reply_to: Vec<Address>,
    pub(crate) subject: String,
    pub(crate) date: Option<String>,
    pub(crate) text: String,
    pub(crate) html: String,
    pub(crate) parts: Vec<Part>,
    return_path: String,
    list_unsubscribe: ListUnsubscribe,
}

fn addresses(list: Option<&ParsedAddress<'_>>) -> Vec<Address> {
    list.map(|list| {
        list.iter()
            .map(|addr| Address {
                name: addr.name().unwrap_or_default().to_string(),
                address: addr.address().unwrap_or_default().to_string(),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// `type/subtype` of a part (`application/octet-stream` if it has none).
fn content_type(part: &MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn checksums(data: &[u8]) -> Checksums {
    Checksums {
        md5: hex(&md5::compute(data).0),
        sha1: hex(&hmac_sha1_compact::Hash::hash(data)),
        sha256: hex(&hmac_sha256::Hash::hash(data)),
    }
}

/// The part ids of every MIME part, as Mailpit's MIME library numbers
/// them: the children of the top part are `1`, `2`, ..., their children
/// `1.1`, `1.2`, ...; a message of one part is `0`.
fn part_ids(message: &mail_parser::Message<'_>) -> Vec<String> {
    let mut ids = vec![String::new(); message.parts.len()];
    let mut stack: Vec<(usize, String)> = vec![(0, String::new())];
    // Each part is visited once: a part is the child of one parent only.
    let mut seen = vec![false; message.parts.len()];
    while let Some((index, id)) = stack.pop() {
        if index >= ids.len() || std::mem::replace(&mut seen[index], true) {
            continue;
        }
        if let PartType::Multipart(children) = &message.parts[index].body {
            for (position, child) in children.iter().enumerate() {
                let child_id = if id.is_empty() {
                    (position + 1).to_string()
                } else {
                    format!("{id}.{}", position + 1)
                };
                stack.push((*child as usize, child_id));
            }
        }
        ids[index] = if id.is_empty() { "0".to_string() } else { id };
    }
    ids
}

impl Parsed {
    /// Parses `message` (an unparsable one gives empty fields).
    pub(crate) fn of(message: &ReceivedMessage) -> Parsed {
        let Some(parsed) = MessageParser::default().parse(&message.data) else {
            return Parsed {
                message_id: String::new(),
                from: None,
                to: Vec::new(),
                cc: Vec::new(),
                bcc: bcc_of(message, &[], &[], &[]),
                reply_to: Vec::new(),
                subject: String::new(),
                date: None,
                text: String::new(),
                html: String::new(),
                parts: Vec::new(),
                return_path: String::new(),
                list_unsubscribe: ListUnsubscribe::default(),
            };
        };
        let from = addresses(parsed.from()).into_iter().next();
        let to = addresses(parsed.to());
        let cc = addresses(parsed.cc());
        let bcc_header = addresses(parsed.bcc());
        let bcc = bcc_of(message, &to, &cc, &bcc_header);
        let text = parsed
            .text_part(0)
            .filter(|part| !part.is_text_html())
            .and_then(|part| part.text_contents())
            .unwrap_or_default()
            .to_string();
        let html = parsed
            .html_part(0)
            .filter(|part| part.is_text_html())
            .and_then(|part| part.text_contents())
            .unwrap_or_default()
            .to_string();
        let ids = part_ids(&parsed);
        let mut parts = Vec::new();
        for index in parsed.attachments.iter().map(|&i| i as usize) {
            let Some(part) = parsed.parts.get(index) else {
                continue;
            };
            let disposition = part.content_disposition();
            let attachment = disposition.is_some_and(|d| d.is_attachment());
            let file_name = part.attachment_name().unwrap_or_default().to_string();
            let content_id = part
                .content_id()
                .unwrap_or_default()
                .trim_matches(['<', '>'])
                .to_string();
            if file_name.is_empty() && content_id.is_empty() {
                // Mailpit lists only parts with a name or a Content-ID.
                continue;
            }
            let content = part.contents().to_vec();
            parts.push(Part {
                summary: Attachment {
                    part_id: ids.get(index).cloned().unwrap_or_default(),
                    file_name: if file_name.is_empty() {
                        content_id.clone()
                    } else {
                        file_name
                    },
                    content_type: content_type(part),
                    content_id,
                    size: content.len(),
                    checksums: checksums(&content),
                },
                inline: !attachment,
                content,
            });
        }
        let header_text = |name: &str| parsed.header_raw(name).map(unfold).unwrap_or_default();
        let return_path = header_text("Return-Path").trim_matches(['<', '>']).to_string();
        let return_path = if return_path.is_empty() {
            from.as_ref().map(|f| f.address.clone()).unwrap_or_default()
        } else {
            return_path
        };
        let unsubscribe = header_text("List-Unsubscribe");
        let list_unsubscribe = ListUnsubscribe {
            links: unsubscribe
                .split(',')
                .filter_map(|link| {
                    let link = link.trim();
                    (link.starts_with('<') && link.ends_with('>'))
                        .then(|| link[1..link.len() - 1].to_string())
                })
                .collect(),
            header: unsubscribe,
            errors: String::new(),
            header_post: header_text("List-Unsubscribe-Post"),
        };
        Parsed {
            message_id: parsed.message_id().unwrap_or_default().to_string(),
            from,
            to,
            cc,
            bcc,
            reply_to: addresses(parsed.reply_to()),
            subject: parsed.subject().unwrap_or_default().to_string(),
            date: parsed.date().map(|date| date.to_rfc3339()),
            text,
            html,
            parts,
            return_path,
            list_unsubscribe,
        }
    }

    /// Mailpit's snippet: the HTML part's text if there is one, else the
    /// text part, whitespace collapsed, cut at 200 characters.
    pub(crate) fn snippet(&self) -> String {
        let source = if self.html.trim().is_empty() {
            self.text.replace('\u{FEFF}', " ")
        } else {
            html_to_text(&self.html)
        };
        let collapsed = source.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.chars().count() <= SNIPPET_CHARS {
            collapsed
        } else {
            let cut: String = collapsed.chars().take(SNIPPET_CHARS).collect();
            format!("{cut}...")
        }
    }

    pub(crate) fn attachment_count(&self) -> usize {
        self.parts.iter().filter(|part| !part.inline).count()
    }

    pub(crate) fn summary(&self, message: &ReceivedMessage, meta: &MessageMeta) -> MessageSummary {
        MessageSummary {
            id: meta.id.to_string(),
            message_id: self.message_id.clone(),
            read: meta.read,
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            reply_to: self.reply_to.clone(),
            subject: self.subject.clone(),
            created: rfc3339(message.received_at),
            username: username(message),
            tags: meta.tags.clone(),
            size: message.data.len(),
            attachments: self.attachment_count(),
            snippet: self.snippet(),
        }
    }

    pub(crate) fn message(self, message: &ReceivedMessage, meta: &MessageMeta) -> Message {
        let (inline, attachments): (Vec<Part>, Vec<Part>) =
            self.parts.into_iter().partition(|part| part.inline);
        Message {
            id: meta.id.to_string(),
            message_id: self.message_id,
            read: meta.read,
            from: self.from,
            to: self.to,
            cc: self.cc,
            bcc: self.bcc,
            reply_to: self.reply_to,
            return_path: self.return_path,
            subject: self.subject,
            list_unsubscribe: self.list_unsubscribe,
            date: self.date.unwrap_or_else(|| rfc3339(message.received_at)),
            tags: meta.tags.clone(),
            username: username(message),
            text: self.text,
            html: self.html,
            size: message.data.len(),
            inline: inline.into_iter().map(|part| part.summary).collect(),
            attachments: attachments.into_iter().map(|part| part.summary).collect(),
        }
    }
}

fn username(message: &ReceivedMessage) -> String {
    message
        .auth
        .as_ref()
        .map(|auth| auth.username.clone())
        .unwrap_or_default()
}

/// The `Bcc` header's addresses, plus the envelope recipients that no
/// `To`, `Cc` or `Bcc` header names (the blind copies, as Mailpit records
/// them from the SMTP envelope).
fn bcc_of(message: &ReceivedMessage, to: &[Address], cc: &[Address], bcc: &[Address]) -> Vec<Address> {
    let mut all = bcc.to_vec();
    for rcpt in &message.envelope.rcpt_to {
        let named = to
            .iter()
            .chain(cc)
            .chain(bcc)
            .any(|a| a.address.eq_ignore_ascii_case(rcpt));
        if !named {
            all.push(Address {
                name: String::new(),
                address: rcpt.clone(),
            });
        }
    }
    all
}

/// A raw header value unfolded: line breaks and the whitespace after them
/// become one space, ends trimmed (as Go's `net/textproto` reads them).
fn unfold(value: &str) -> String {
    value
        .split("\r\n")
        .flat_map(|line| line.split('\n'))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Go's canonical header key: `message-id` -> `Message-Id`.
fn canonical_key(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let out = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            out
        })
        .collect()
}

/// `GET /api/v1/message/{ID}/headers`: every header as canonical key ->
/// values in order, keys sorted.
pub(crate) fn headers(message: &ReceivedMessage) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in message.headers() {
        map.entry(canonical_key(&name)).or_default().push(unfold(&value));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Envelope;

    fn message(data: &str) -> ReceivedMessage {
        ReceivedMessage::new(
            Envelope {
                mail_from: "a@example.com".into(),
                rcpt_to: vec!["b@example.com".into(), "hidden@example.com".into()],
                ..Envelope::default()
            },
            data.to_string(),
        )
    }

    #[test]
    fn part_ids_follow_the_mime_tree() {
        let m = message(
            "Content-Type: multipart/mixed; boundary=o\r\nTo: b@example.com\r\n\r\n--o\r\n\
             Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\nhi\r\n\
             --i\r\nContent-Type: text/html\r\n\r\n<p>hi <b>there</b></p>\r\n--i--\r\n--o\r\n\
             Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nPDF\r\n--o--\r\n",
        );
        let parsed = Parsed::of(&m);
        assert_eq!(parsed.parts.len(), 1);
        assert_eq!(parsed.parts[0].summary.part_id, "2");
        assert_eq!(parsed.parts[0].summary.file_name, "a.pdf");
        assert!(!parsed.parts[0].inline);
        assert_eq!(parsed.snippet(), "hi there");
        assert_eq!(
            parsed.bcc,
            [Address {
                name: String::new(),
                address: "hidden@example.com".into()
            }]
        );
    }

    #[test]
    fn header_keys_are_canonical_and_values_unfolded() {
        let m = message("message-id: <x@y>\r\nSubject: one\r\n two\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
        let headers = headers(&m);
        assert_eq!(headers["Message-Id"], ["<x@y>"]);
        assert_eq!(headers["Subject"], ["one two"]);
        assert_eq!(headers["X-A"], ["1", "2"]);
    }
}
