//! One stored message parsed once with `mail-parser`: what every route
//! reads from it (addresses, subject, text and HTML, the parts Mailpit
//! lists, with Mailpit's part numbering).

use mail_parser::{Address as ParsedAddress, MessageParser, MessagePart, MimeHeaders, PartType};

use super::mailpit_parts::{Address, Attachment, Checksums, ListUnsubscribe};
use super::text::{html_to_lines, html_to_text, unfold};
use crate::testing::MessageMeta;
use crate::ReceivedMessage;

/// Characters of text a summary's `Snippet` shows (as Mailpit).
const SNIPPET_CHARS: usize = 200;

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
    pub(crate) return_path: String,
    pub(crate) list_unsubscribe: ListUnsubscribe,
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
                return_path: message.envelope.mail_from.clone(),
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
        // Mailpit (enmime) derives the text of an HTML-only message.
        let text = if text.is_empty() && !html.is_empty() {
            html_to_lines(&html)
        } else {
            text
        };
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
        // Mailpit sets Return-Path from MAIL FROM as it stores a message.
        let return_path = message.envelope.mail_from.clone();
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

    pub(crate) fn inline_count(&self) -> usize {
        self.parts.iter().filter(|part| part.inline).count()
    }

    /// The `Message-ID` without its brackets; for a message without one,
    /// the ID Mailpit would have added (it adds `<random@mailpit>` to the
    /// stored bytes; here the bytes stay as received and the ID is made
    /// from the store's number, so it is the same on every call).
    pub(crate) fn message_id(&self, meta: &MessageMeta) -> String {
        if self.message_id.is_empty() {
            generated_message_id(meta.id)
        } else {
            self.message_id.clone()
        }
    }
}

/// The `MessageID` of message `id` when it has no `Message-ID` header.
pub(crate) fn generated_message_id(id: u64) -> String {
    format!("{id}@smtp-fixture")
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::service::test_message as message;

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
}
