//! The reference's `DebuggingServer`: prints every message.

use std::io::{self, Write};
use std::sync::Mutex;

use crate::handler::Handler;
use crate::protocol::{Message, Reply};

const BEGIN: &str = "---------- MESSAGE FOLLOWS ----------";
const END: &str = "------------ END MESSAGE ------------";

/// Prints each message between `---------- MESSAGE FOLLOWS ----------` and
/// `------------ END MESSAGE ------------`, with the MAIL/RCPT options when
/// there are any and an `X-Peer: <client ip>` header after the headers, and
/// flushes after every message.
///
/// Unlike the reference, which prints `b'...'` byte reprs unless
/// `decode_data` is set, lines are printed as text (invalid UTF-8 shown as
/// U+FFFD), so the output reads the same either way.
///
/// ```
/// use smtp_fixture::handlers::DebuggingServer;
/// use smtp_fixture::{Envelope, Message, SessionInfo};
///
/// let message = Message {
///     session: SessionInfo {
///         id: 1,
///         peer: "127.0.0.1:40000".parse().unwrap(),
///         proxy: None,
///         hostname: "localhost".into(),
///         helo: "client".into(),
///         extended: true,
///         tls: None,
///         auth: None,
///     },
///     envelope: Envelope { mail_from: "a@example".into(), rcpt_to: vec!["b@example".into()], ..Envelope::default() },
///     data: b"From: test\r\n\r\nhello\r\n".to_vec(),
///     unstuffed_dot_lines: 0,
/// };
/// let mut out = Vec::new();
/// DebuggingServer::print_message(&mut out, &message).unwrap();
/// assert_eq!(
///     String::from_utf8(out).unwrap(),
///     "---------- MESSAGE FOLLOWS ----------\nFrom: test\nX-Peer: 127.0.0.1\n\nhello\n------------ END MESSAGE ------------\n"
/// );
/// ```
pub struct DebuggingServer<W = io::Stdout> {
    out: Mutex<W>,
}

impl DebuggingServer<io::Stdout> {
    /// Prints to standard output.
    pub fn stdout() -> DebuggingServer<io::Stdout> {
        DebuggingServer::new(io::stdout())
    }

    /// Writes `message` the way the server prints it.
    pub fn print_message(out: &mut impl Write, message: &Message) -> io::Result<()> {
        let mut text = String::with_capacity(message.data.len() + 128);
        text.push_str(BEGIN);
        text.push('\n');
        let envelope = &message.envelope;
        if !envelope.mail_options.is_empty() {
            text.push_str(&format!(
                "mail options: {}\n",
                python_list(&envelope.mail_options)
            ));
        }
        if !envelope.rcpt_options.is_empty() {
            text.push_str(&format!(
                "rcpt options: {}\n\n",
                python_list(&envelope.rcpt_options)
            ));
        }
        let peer_header = format!("X-Peer: {}", message.peer().ip());
        let body = String::from_utf8_lossy(&message.data);
        let mut in_headers = true;
        for line in body.lines() {
            if in_headers && line.is_empty() {
                text.push_str(&peer_header);
                text.push('\n');
                in_headers = false;
            }
            text.push_str(line);
            text.push('\n');
        }
        // Like the reference: a message with no empty line after its
        // headers (`send_raw(b"test")`) is printed without X-Peer.
        text.push_str(END);
        text.push('\n');
        out.write_all(text.as_bytes())?;
        out.flush()
    }
}

impl Default for DebuggingServer<io::Stdout> {
    fn default() -> Self {
        DebuggingServer::stdout()
    }
}

impl<W: Write + Send + 'static> DebuggingServer<W> {
    /// Prints to `out`.
    pub fn new(out: W) -> DebuggingServer<W> {
        DebuggingServer { out: Mutex::new(out) }
    }

    /// Gives the writer back (e.g. a `Vec<u8>` in a test).
    pub fn into_inner(self) -> W {
        self.out
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `['A', 'B']`, as Python prints a list of strings.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("'{item}'")).collect();
    format!("[{}]", quoted.join(", "))
}

impl<W: Write + Send + 'static> Handler for DebuggingServer<W> {
    async fn process_message(&self, message: &Message) -> Option<Reply> {
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // A closed stdout must not refuse mail: printing is best effort.
        let _ = DebuggingServer::print_message(&mut *out, message);
        None
    }
}
