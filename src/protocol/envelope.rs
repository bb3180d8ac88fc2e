//! What a transaction and a session know: the envelope, the session facts,
//! and the message handed to `process_message`.

use std::net::SocketAddr;

use super::dsn::{MailDsn, RecipientDsn};

/// The envelope of one mail transaction.
///
/// ```
/// use smtp_fixture::Envelope;
/// let envelope = Envelope {
///     mail_from: "ann@example.com".into(),
///     rcpt_to: vec!["bob@example.com".into()],
///     ..Envelope::default()
/// };
/// assert_eq!(envelope.rcpt_to, ["bob@example.com"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse path without angle brackets, or `<>` for the null path
    /// (as the reference reports it).
    pub mail_from: String,
    /// The accepted forward paths, in order.
    pub rcpt_to: Vec<String>,
    /// The MAIL parameters, upper-cased: `["SIZE=20", "BODY=8BITMIME"]`.
    pub mail_options: Vec<String>,
    /// The parameters of every accepted RCPT, upper-cased, in order (the
    /// reference keeps only the last RCPT's).
    pub rcpt_options: Vec<String>,
    /// The DSN request of the MAIL command (`RET=`, `ENVID=`; RFC 3461).
    pub dsn: MailDsn,
    /// The DSN requests of the accepted recipients that made one
    /// (`NOTIFY=`, `ORCPT=`), in order; see [`Envelope::recipient_dsn`].
    pub rcpt_dsn: Vec<RecipientDsn>,
}

impl Envelope {
    /// The DSN request made with `RCPT TO:<address>`, if any.
    ///
    /// ```
    /// use smtp_fixture::{Notify, RecipientDsn};
    /// use smtp_fixture::Envelope;
    /// let dsn = RecipientDsn { recipient: "bob@example.com".into(), notify: Some(Notify::default()), orcpt: None };
    /// let envelope = Envelope { rcpt_to: vec!["bob@example.com".into()], rcpt_dsn: vec![dsn], ..Envelope::default() };
    /// assert!(envelope.recipient_dsn("bob@example.com").unwrap().notify.unwrap().never());
    /// assert_eq!(envelope.recipient_dsn("ann@example.com"), None);
    /// ```
    pub fn recipient_dsn(&self, address: &str) -> Option<&RecipientDsn> {
        self.rcpt_dsn.iter().find(|dsn| dsn.recipient == address)
    }

    /// Whether the transaction declared `SMTPUTF8`.
    pub fn smtputf8(&self) -> bool {
        self.mail_options.iter().any(|o| o == "SMTPUTF8")
    }

    /// Whether the transaction declared `BODY=8BITMIME`.
    pub fn eight_bit_mime(&self) -> bool {
        self.mail_options.iter().any(|o| o == "BODY=8BITMIME")
    }

    /// Whether the transaction declared `BODY=BINARYMIME` (RFC 3030: the
    /// message came in BDAT chunks and may hold any bytes).
    pub fn binary_mime(&self) -> bool {
        self.mail_options.iter().any(|o| o == "BODY=BINARYMIME")
    }

    /// Whether the transaction declared `REQUIRETLS` (RFC 8689): the
    /// client asks that every further hop be over TLS.
    pub fn requiretls(&self) -> bool {
        self.mail_options.iter().any(|o| o == "REQUIRETLS")
    }
}

/// Facts about one connection that outlive its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// A number unique to the session within its server.
    pub id: u64,
    /// The client's address: with the PROXY protocol on, the client the
    /// proxy's header named (the proxy itself for a `LOCAL` or `UNKNOWN`
    /// header).
    pub peer: SocketAddr,
    /// The proxy the connection came through, when the server takes the
    /// PROXY protocol: the connection's own peer.
    pub proxy: Option<SocketAddr>,
    /// The server's own name, sent in the greeting and EHLO reply (the
    /// reference's `fqdn`).
    pub hostname: String,
    /// The name the client gave in HELO/EHLO (the reference's
    /// `seen_greeting`), empty before.
    pub helo: String,
    /// Whether the client greeted with EHLO.
    pub extended: bool,
    /// The TLS parameters, once the session is encrypted.
    pub tls: Option<TlsInfo>,
    /// Who the client authenticated as, once it did.
    pub auth: Option<AuthInfo>,
}

/// How a session is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// The protocol version, e.g. `TLSv1_3`.
    pub version: String,
    /// The cipher suite, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The server name the client asked for (SNI), if any.
    pub sni: Option<String>,
}

/// A successful AUTH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthInfo {
    /// The mechanism, e.g. `PLAIN`.
    pub mechanism: String,
    /// The user name the client authenticated with.
    pub username: String,
}

/// A message the client finished sending, handed to
/// `Handler::process_message`.
///
/// `data` is the message exactly as sent: CRLF line endings, dot-stuffing
/// removed, the CRLF before the final dot kept (the reference joins lines
/// with LF and drops the last line ending; RFC 5321 keeps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The session the message arrived on.
    pub session: SessionInfo,
    /// Sender, recipients and their parameters.
    pub envelope: Envelope,
    /// The message bytes.
    pub data: Vec<u8>,
    /// Lines the client began with a single dot it did not double (RFC 5321,
    /// 4.5.2): each lost that dot. For the fixture's client lint.
    pub unstuffed_dot_lines: usize,
}
impl Message {
    /// The client's address (the reference's `peer`).
    pub fn peer(&self) -> SocketAddr {
        self.session.peer
    }

    /// The reverse path (the reference's `mailfrom`).
    pub fn mail_from(&self) -> &str {
        &self.envelope.mail_from
    }

    /// The recipients (the reference's `rcpttos`).
    pub fn rcpt_tos(&self) -> &[String] {
        &self.envelope.rcpt_to
    }

    /// The data as text, when it is UTF-8 (always, with `decode_data`).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
}
