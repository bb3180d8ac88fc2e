//! Mailpit's JSON shapes (its API v1 `swagger.json`: `MessageSummary`,
//! `Message`, `Attachment`, `Address`, ...), built from a stored message.
//! The field names are Mailpit's, capitals included; the values come from
//! `mail-parser`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::text::rfc3339;
use crate::testing::MessageMeta;
use crate::ReceivedMessage;

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
pub(crate) use super::mailpit_parts::{Address, Attachment, ListUnsubscribe};
pub(crate) use super::parse::Parsed;
use super::parse::Part;
use super::text::unfold;

impl Parsed {
    pub(crate) fn summary(&self, message: &ReceivedMessage, meta: &MessageMeta) -> MessageSummary {
        MessageSummary {
            id: meta.id.to_string(),
            message_id: self.message_id(meta),
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
        let message_id = self.message_id(meta);
        let (inline, attachments): (Vec<Part>, Vec<Part>) =
            self.parts.into_iter().partition(|part| part.inline);
        Message {
            id: meta.id.to_string(),
            message_id,
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

    use crate::service::test_message as message;

    #[test]
    fn header_keys_are_canonical_and_values_unfolded() {
        let m = message("message-id: <x@y>\r\nSubject: one\r\n two\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
        let headers = headers(&m);
        assert_eq!(headers["Message-Id"], ["<x@y>"]);
        assert_eq!(headers["Subject"], ["one two"]);
        assert_eq!(headers["X-A"], ["1", "2"]);
    }
}
