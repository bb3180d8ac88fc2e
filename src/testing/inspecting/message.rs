//! A recorded message and its parsed views.

use std::net::SocketAddr;
use std::time::SystemTime;

use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

use crate::protocol::{AuthInfo, Envelope, Message, TlsInfo};
use crate::testing::recording::dns::DnsRecords;
use crate::testing::recording::message_data::MessageData;
use crate::testing::recording::transcript::{SharedTranscript, Transcript};

/// A message the fixture accepted: its envelope, its exact bytes, and where
/// it came from. Cheap views parse the bytes on demand (with `mail-parser`).
///
/// ```
/// use smtp_fixture::{Envelope, ReceivedMessage};
/// let message = ReceivedMessage::new(
///     Envelope { mail_from: "a@example.com".into(), rcpt_to: vec!["b@example.com".into()], ..Envelope::default() },
///     b"Subject: =?utf-8?q?Caf=C3=A9?=\r\nTo: b@example.com\r\n\r\nHello\r\n".to_vec(),
/// );
/// assert_eq!(message.subject().as_deref(), Some("Café"));
/// assert_eq!(message.to(), ["b@example.com"]);
/// assert_eq!(message.text_body().as_deref(), Some("Hello\r\n"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Sender, recipients and their ESMTP parameters.
    pub envelope: Envelope,
    /// The message exactly as sent: CRLF line endings, dots unstuffed.
    /// Derefs to `[u8]` and compares with byte strings; clones share it
    /// (see [`MessageData`]).
    pub data: MessageData,
    /// The client's address (with the PROXY protocol, the client the proxy
    /// named).
    pub peer: SocketAddr,
    /// The proxy the session came through (PROXY protocol), if any.
    pub proxy: Option<SocketAddr>,
    /// The name the client gave in HELO/EHLO.
    pub helo: String,
    /// The session the message arrived on (see [`TestSmtpServer::transcripts`](crate::TestSmtpServer::transcripts)).
    pub session_id: u64,
    /// When the final reply was written.
    pub received_at: SystemTime,
    /// The TLS parameters, if the session was encrypted.
    pub tls: Option<TlsInfo>,
    /// Who the client authenticated as, if it did.
    pub auth: Option<AuthInfo>,
    /// Lines the client began with a dot it did not double (see
    /// [`lint`](Self::lint)).
    pub unstuffed_dot_lines: usize,
    /// The session's transcript, for failure reports.
    pub(crate) transcript: SharedTranscript,
    /// A message with the same identity and recipients was stored before.
    pub(crate) duplicate: bool,
    /// The DNS records of the fixture that received it (feature `dkim`).
    pub(crate) dns: DnsRecords,
}

/// An attachment of a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name, if the message gave one.
    pub filename: Option<String>,
    /// `type/subtype`, e.g. `application/pdf`.
    pub content_type: String,
    /// The decoded bytes.
    pub data: Vec<u8>,
}

impl From<Message> for ReceivedMessage {
    fn from(message: Message) -> ReceivedMessage {
        ReceivedMessage::recorded(message, SharedTranscript::default())
    }
}

impl ReceivedMessage {
    pub(crate) fn recorded(message: Message, transcript: SharedTranscript) -> ReceivedMessage {
        ReceivedMessage {
            envelope: message.envelope,
            data: MessageData::from(message.data),
            peer: message.session.peer,
            proxy: message.session.proxy,
            helo: message.session.helo,
            session_id: message.session.id,
            received_at: SystemTime::now(),
            tls: message.session.tls,
            auth: message.session.auth,
            unstuffed_dot_lines: message.unstuffed_dot_lines,
            transcript,
            duplicate: false,
            dns: DnsRecords::default(),
        }
    }

    /// The transcript of the session this message arrived on, as it is now
    /// (`None` for a message not received by a fixture).
    pub fn transcript(&self) -> Option<Transcript> {
        self.transcript.is_known().then(|| self.transcript.snapshot())
    }

    /// A message with `envelope` and `data` (a `Vec<u8>`, `String`, byte
    /// string or [`MessageData`]), as if received from `127.0.0.1:0` (for
    /// tests of code that inspects messages).
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(Envelope::default(), b"Subject: hi\r\n\r\n");
    /// assert_eq!(message.data, b"Subject: hi\r\n\r\n");
    /// let message = ReceivedMessage::new(Envelope::default(), String::from("Subject: hi\r\n\r\n"));
    /// assert_eq!(message.subject().as_deref(), Some("hi"));
    /// ```
    pub fn new(envelope: Envelope, data: impl Into<MessageData>) -> ReceivedMessage {
        ReceivedMessage {
            envelope,
            data: data.into(),
            peer: SocketAddr::from(([127, 0, 0, 1], 0)),
            proxy: None,
            helo: String::new(),
            session_id: 0,
            received_at: SystemTime::now(),
            tls: None,
            auth: None,
            unstuffed_dot_lines: 0,
            transcript: SharedTranscript::default(),
            duplicate: false,
            dns: DnsRecords::default(),
        }
    }

    /// Whether this is a second (or later) arrival of a message stored
    /// before: the same `Message-ID` (or, without one, the same bytes) to
    /// the same recipients, as a sender sends it again when it believes a
    /// delivery failed (see [`Action::lose_reply`](crate::Action::lose_reply)).
    /// Only a fixture's store sets it; [`clear`](crate::TestSmtpServer::clear)
    /// forgets what arrived before.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(Envelope::default(), b"Subject: hi\r\n\r\n".to_vec());
    /// assert!(!message.is_duplicate());
    /// ```
    pub fn is_duplicate(&self) -> bool {
        self.duplicate
    }

    pub(super) fn parsed(&self) -> Option<mail_parser::Message<'_>> {
        MessageParser::default().parse(&self.data)
    }

    /// The data as text (invalid UTF-8 shown as U+FFFD).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The decoded `Subject` (RFC 2047 encoded words decoded).
    pub fn subject(&self) -> Option<String> {
        self.parsed()?.subject().map(str::to_string)
    }

    /// The first header called `name` (any case), decoded and unfolded;
    /// address lists are shown as `Name <address>, ...`.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = self.parsed()?;
        let value = parsed.header(name)?;
        header_text(value).or_else(|| Some(parsed.header_raw(name)?.trim().to_string()))
    }

    /// Every header as `(name, raw value)`, in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.parsed()
            .map(|parsed| {
                parsed
                    .headers_raw()
                    .map(|(name, value)| (name.to_string(), value.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn addresses(&self, pick: impl Fn(&mail_parser::Message<'_>) -> Vec<String>) -> Vec<String> {
        self.parsed().map(|parsed| pick(&parsed)).unwrap_or_default()
    }

    /// The address in `From` (the first, if several).
    pub fn from(&self) -> Option<String> {
        self.addresses(|m| list(m.from())).into_iter().next()
    }

    /// The addresses in `To`.
    pub fn to(&self) -> Vec<String> {
        self.addresses(|m| list(m.to()))
    }

    /// The addresses in `Cc`.
    pub fn cc(&self) -> Vec<String> {
        self.addresses(|m| list(m.cc()))
    }

    /// The addresses in `Reply-To`.
    pub fn reply_to(&self) -> Vec<String> {
        self.addresses(|m| list(m.reply_to()))
    }

    /// Envelope recipients that no `To` or `Cc` header names: the blind
    /// copies (a `Bcc` header, if the client left one in, does not count).
    pub fn bcc(&self) -> Vec<String> {
        let visible: Vec<String> = self
            .to()
            .into_iter()
            .chain(self.cc())
            .map(|a| a.to_lowercase())
            .collect();
        self.envelope
            .rcpt_to
            .iter()
            .filter(|rcpt| !visible.contains(&rcpt.to_lowercase()))
            .cloned()
            .collect()
    }

    /// The `Date` header in RFC 3339 form.
    pub fn date(&self) -> Option<String> {
        self.parsed()?.date().map(|date| date.to_rfc3339())
    }

    /// The `Message-ID`, without angle brackets.
    pub fn message_id(&self) -> Option<String> {
        self.parsed()?.message_id().map(str::to_string)
    }

    /// The first plain-text body, transfer-decoded and converted to UTF-8.
    pub fn text_body(&self) -> Option<String> {
        let parsed = self.parsed()?;
        let part = parsed.text_part(0)?;
        // mail-parser offers an HTML part as text when there is no text
        // part; a test asking for text must not get HTML.
        if part.is_text_html() {
            return None;
        }
        part.text_contents().map(str::to_string)
    }

    /// The first HTML body, transfer-decoded and converted to UTF-8.
    pub fn html_body(&self) -> Option<String> {
        let parsed = self.parsed()?;
        let part = parsed.html_part(0)?;
        if !part.is_text_html() {
            return None;
        }
        part.text_contents().map(str::to_string)
    }

    /// The attachments, decoded.
    pub fn attachments(&self) -> Vec<Attachment> {
        let Some(parsed) = self.parsed() else {
            return Vec::new();
        };
        parsed
            .attachments()
            .map(|part| Attachment {
                filename: part.attachment_name().map(str::to_string),
                content_type: part
                    .content_type()
                    .map(|ct| match ct.subtype() {
                        Some(sub) => format!("{}/{}", ct.ctype(), sub),
                        None => ct.ctype().to_string(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".to_string()),
                data: part.contents().to_vec(),
            })
            .collect()
    }

    /// One line for failure reports: `from -> [to, ...] "subject" (N
    /// bytes, session S)`, and `, a duplicate` for a second arrival.
    pub fn summary(&self) -> String {
        let subject = self.subject().map(|s| format!(" {s:?}")).unwrap_or_default();
        format!(
            "{} -> [{}]{subject} ({} bytes, session {}{})",
            self.envelope.mail_from,
            self.envelope.rcpt_to.join(", "),
            self.data.len(),
            self.session_id,
            if self.duplicate { ", a duplicate" } else { "" }
        )
    }
}

/// A header's value as text, encoded words decoded; `None` for the kinds
/// best shown as written (content types, received lines).
pub(super) fn header_text(value: &HeaderValue<'_>) -> Option<String> {
    Some(match value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        HeaderValue::Address(address) => addresses_text(address),
        HeaderValue::DateTime(date) => date.to_rfc822(),
        _ => return None,
    })
}

/// An address header as `Name <address>, ...`, encoded words decoded.
pub(super) fn addresses_text(address: &mail_parser::Address<'_>) -> String {
    address
        .iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn list(address: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
