//! What a test can see of attempts that left no message: a message refused
//! at its final reply, a recipient refused at `RCPT TO` (or, in LMTP, by
//! its own final reply).

use crate::testing::inspecting::message::ReceivedMessage;

/// A message the fixture refused at its final reply (kept so a test can see
/// the attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedMessage {
    /// The message as it would have been recorded.
    pub message: ReceivedMessage,
    /// The reply the client got instead of 250; `None` when the connection
    /// was cut or a scripted raw reply was sent instead.
    pub reply: Option<crate::Reply>,
}

/// A recipient refused at `RCPT TO` by a scripted rule or the handler: it
/// is in no envelope, so this is its only record besides the transcript.
///
/// ```
/// use smtp_fixture::{on, Reply, TestSmtpServer};
/// # use std::io::{BufRead, BufReader, Write};
/// # use std::net::TcpStream;
///
/// let server = TestSmtpServer::start();
/// server.respond(on::rcpt_to("gone@example.com"), Reply::new(550, "5.1.1 No such user"));
/// # let stream = TcpStream::connect(server.addr()).unwrap();
/// # let mut reader = BufReader::new(stream.try_clone().unwrap());
/// # let mut writer = stream;
/// # let mut line = String::new();
/// # writer.write_all(b"HELO me\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<gone@example.com>\r\nQUIT\r\n").unwrap();
/// # while reader.read_line(&mut line).unwrap() > 0 {}
/// // ... the application sends to gone@example.com ...
/// let refused = server.refused_recipients();
/// assert_eq!(refused[0].address, "gone@example.com");
/// assert_eq!(refused[0].reply.as_ref().map(|r| r.code()), Some(550));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefusedRecipient {
    /// The forward path as the client gave it, without angle brackets.
    pub address: String,
    /// The reply the client got; `None` when the connection was cut
    /// instead, or a raw reply was sent.
    pub reply: Option<crate::Reply>,
    /// The session it was refused in (see
    /// [`TestSmtpServer::transcripts`](crate::TestSmtpServer::transcripts)).
    pub session_id: u64,
    /// Refused by its own final reply after the message (LMTP, see
    /// [`on::delivery_to`](crate::on::delivery_to)), not at `RCPT TO`.
    pub after_data: bool,
}
