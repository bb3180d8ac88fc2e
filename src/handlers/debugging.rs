//! The reference's `DebuggingServer`: prints every message.

use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::x_peer::{has_header_end, with_x_peer};
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
/// Safe to use from async code on any runtime: one thread of its own owns
/// the writer, and a hook only formats the message and waits (without
/// blocking its runtime thread) until that thread has written and flushed
/// it. So a slow or stuck writer, a full pipe nobody reads, holds up the
/// sessions whose messages wait to be printed, never the runtime, and the
/// message is printed before the client gets its final reply, as in the
/// reference. The thread ends when the server is dropped.
///
/// ```
/// use smtp_fixture::handlers::DebuggingServer;
/// use smtp_fixture::Envelope;
/// use smtp_fixture::protocol::{Message, SessionInfo};
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
    /// To the writer thread: a formatted message, and who waits for it.
    jobs: mpsc::Sender<Job>,
    /// The writer thread, which gives the writer back when it ends.
    writer: JoinHandle<W>,
}

/// Bytes to write, and where to say they were.
type Job = (Vec<u8>, oneshot::Sender<()>);

impl DebuggingServer<io::Stdout> {
    /// Prints to standard output.
    pub fn stdout() -> DebuggingServer<io::Stdout> {
        DebuggingServer::new(io::stdout())
    }

    /// Writes `message` the way the server prints it.
    pub fn print_message(out: &mut impl Write, message: &Message) -> io::Result<()> {
        out.write_all(&format_message(message))?;
        out.flush()
    }
}

impl Default for DebuggingServer<io::Stdout> {
    fn default() -> Self {
        DebuggingServer::stdout()
    }
}

impl<W: Write + Send + 'static> DebuggingServer<W> {
    /// Prints to `out`, from a thread of its own.
    ///
    /// # Panics
    ///
    /// When the system cannot start a thread (as [`std::thread::spawn`]).
    pub fn new(out: W) -> DebuggingServer<W> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let writer = std::thread::Builder::new()
            .name("debugging-server".to_string())
            .spawn(move || {
                let mut out = out;
                for (text, printed) in inbox {
                    // A closed stdout must not refuse mail: printing is
                    // best effort.
                    let _ = out.write_all(&text).and_then(|()| out.flush());
                    let _ = printed.send(());
                }
                out
            })
            .expect("start the debugging server's writer thread");
        DebuggingServer { jobs, writer }
    }

    /// Gives the writer back (e.g. a `Vec<u8>` in a test), once everything
    /// handed to it was written.
    pub fn into_inner(self) -> W {
        let DebuggingServer { jobs, writer } = self;
        drop(jobs);
        writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// The text printed for `message`: the envelope's options, and the data
/// with `X-Peer` after the headers, one line per line.
fn format_message(message: &Message) -> Vec<u8> {
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
    // Like the reference: a message with no empty line after its headers
    // (`send_raw(b"test")`) is printed without X-Peer.
    let data = if has_header_end(&message.data) {
        with_x_peer(&message.data, message.peer().ip())
    } else {
        message.data.clone()
    };
    for line in String::from_utf8_lossy(&data).lines() {
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(END);
    text.push('\n');
    text.into_bytes()
}

/// `['A', 'B']`, as Python prints a list of strings.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("'{item}'")).collect();
    format!("[{}]", quoted.join(", "))
}

impl<W: Write + Send + 'static> Handler for DebuggingServer<W> {
    async fn process_message(&self, message: &Message) -> Option<Reply> {
        let (printed, done) = oneshot::channel();
        // Sending never blocks; the writer thread lives as long as `self`.
        if self.jobs.send((format_message(message), printed)).is_ok() {
            let _ = done.await;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Envelope, SessionInfo};

    fn message(data: &[u8]) -> Message {
        Message {
            session: SessionInfo {
                id: 1,
                peer: "192.0.2.9:40000".parse().unwrap(),
                proxy: None,
                hostname: "localhost".into(),
                helo: "client".into(),
                extended: true,
                tls: None,
                auth: None,
            },
            envelope: Envelope {
                mail_from: "a@example".into(),
                rcpt_to: vec!["b@example".into()],
                mail_options: vec!["BODY=8BITMIME".into()],
                ..Envelope::default()
            },
            data: data.to_vec(),
            unstuffed_dot_lines: 0,
        }
    }

    #[test]
    fn messages_are_printed_whole_and_in_order() {
        let server = DebuggingServer::new(Vec::new());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            assert_eq!(
                server.process_message(&message(b"A: 1\r\n\r\none\r\n")).await,
                None
            );
            assert_eq!(server.process_message(&message(b"test")).await, None);
        });
        let out = String::from_utf8(server.into_inner()).unwrap();
        assert_eq!(
            out,
            format!(
                "{BEGIN}\nmail options: ['BODY=8BITMIME']\nA: 1\nX-Peer: 192.0.2.9\n\none\n{END}\n\
                 {BEGIN}\nmail options: ['BODY=8BITMIME']\ntest\n{END}\n"
            )
        );
    }

    /// Writes only once let through (or after a while, whatever happens).
    struct Gated {
        gate: mpsc::Receiver<()>,
        out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.gate.recv_timeout(std::time::Duration::from_secs(5));
            self.out.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_writer_does_not_block_a_current_thread_runtime() {
        let (open, gate) = mpsc::channel();
        let out = std::sync::Arc::default();
        let server = std::sync::Arc::new(DebuggingServer::new(Gated {
            gate,
            out: std::sync::Arc::clone(&out),
        }));
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let printing = tokio::spawn({
                let server = std::sync::Arc::clone(&server);
                async move { server.process_message(&message(b"A: 1\r\n\r\nx\r\n")).await }
            });
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            tokio::spawn(async {}).await.unwrap();
            assert!(
                out.lock().unwrap().is_empty(),
                "other tasks ran while the writer was stuck"
            );
            assert!(!printing.is_finished(), "the hook waits for the print");
            open.send(()).unwrap();
            assert_eq!(printing.await.unwrap(), None);
            assert!(
                !out.lock().unwrap().is_empty(),
                "printed before the hook returned"
            );
        });
    }
}
