//! One connection: read, feed the session, act on its steps, write.
//!
//! Replies are gathered and written in one burst when the input buffer holds
//! no further complete command (or too much output is pending), so a
//! pipelined burst costs one write, and a lone command still gets its reply
//! at once.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::line_log::LineLog;
use super::proxy_protocol;
use super::stream::Stream;
#[cfg(feature = "tls")]
use super::tls::{Handshake, TlsConfig};
use super::watchdog::{Alarm, Registration};
use super::SmtpServer;
use crate::handler::{Closing, Handler};
use crate::protocol::{replies, LinkFault, Question, Reply, Session, State, Step};

const INITIAL_BUFFER: usize = 4 * 1024;
const MAX_BUFFER: usize = 256 * 1024;
/// Once this much of a message has arrived, the rest is read straight into
/// the message instead of through the input buffer.
const READ_IN_PLACE_AFTER: u64 = 64 * 1024;
/// The room offered to each such read.
const IN_PLACE_READ: usize = 1024 * 1024;
/// The kernel receive buffer asked for once a large message is arriving.
const BULK_RECEIVE_BUFFER: usize = 4 << 20;

/// Why reading stopped.
enum ReadEnd {
    Closed,
    Alarm(Alarm),
}

struct Connection {
    stream: Stream,
    /// Received bytes; those before `start` were used. Read into spare
    /// capacity, so a new connection's buffer is never zeroed.
    input: Vec<u8>,
    start: usize,
    output: Vec<u8>,
    log: Option<LineLog>,
    /// With a log: the bytes of a read made straight into the message, as
    /// they came (decoding in place overwrites them).
    raw_read: Vec<u8>,
    /// Idle and session time limits, and the server's stop signal.
    watchdog: Registration,
    /// The last read took less than the buffer had room for.
    socket_drained: bool,
    /// The kernel's receive buffer was enlarged for a large message.
    receive_buffer_raised: bool,
    /// A scripted fault for the next write (throttled, cut, then no reads).
    fault: Option<LinkFault>,
    /// A scripted fault stopped reading: the session only waits to end.
    reading_stopped: bool,
}
pub(super) async fn serve<H: Handler>(
    server: SmtpServer<H>,
    mut stream: TcpStream,
    id: u64,
    peer: SocketAddr,
    watchdog: Registration,
) {
    let _ = stream.set_nodelay(true);
    let config = server.config.clone();
    let handler = &*server.handler;
    let arrival = match server.proxy_header_timeout {
        Some(limit) => Some(proxy_protocol::receive(&mut stream, peer, limit, &watchdog).await),
        None => None,
    };
    let mut session = Session::new(config.clone(), id, arrival.as_ref().map_or(peer, |a| a.peer));
    if let Some(proxy) = arrival.as_ref().and_then(|a| a.proxy) {
        session = session.behind_proxy(proxy);
    }
    // From here on the handler hears of the session's end, however this
    // task ends (cancelled at shutdown too).
    let mut session = Closing::new(handler, session);
    let log = handler.session_log(session.info()).map(LineLog::new);
    let mut conn = Connection {
        stream: Stream::Plain(stream),
        input: Vec::with_capacity(INITIAL_BUFFER),
        start: 0,
        output: Vec::with_capacity(512),
        log,
        raw_read: Vec::new(),
        watchdog,
        socket_drained: true,
        receive_buffer_raised: false,
        fault: None,
        reading_stopped: false,
    };
    if let Some(arrival) = arrival {
        conn.note(&arrival.note);
        if arrival.refused {
            return;
        }
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = server.tls.as_ref().filter(|tls| tls.implicit) {
        if !conn
            .start_tls(&tls.config, &mut session, config.tls_handshake_timeout)
            .await
        {
            return;
        }
    }
    let mut step = session.start();
    loop {
        // What the step asks for; `None`: wait for the client's next input.
        let next = match step {
            Step::Ask(question) => {
                // process_message may take long (a relay): let the client
                // see the replies before it.
                if matches!(question, Question::Message(_)) && conn.flush().await.is_err() {
                    break;
                }
                let decision = handler.decide(&session, &question).await;
                Some(session.resolve(question, decision))
            }
            Step::Reply(reply) => {
                conn.queue(&reply);
                None
            }
            Step::Raw(bytes) => {
                conn.output.extend_from_slice(&bytes);
                None
            }
            Step::Continue => None,
            Step::Accepted(reply, message) => {
                conn.queue(&reply);
                if conn.flush().await.is_err() {
                    conn.note("connection lost before the final reply was written; message not delivered");
                    break;
                }
                handler.message_accepted(*message);
                None
            }
            Step::PerRecipient(replies, message) => {
                // LMTP: one reply per recipient, written together; the
                // message is delivered once they all reached the client.
                for reply in &replies {
                    conn.queue(reply);
                }
                if let Some(message) = message {
                    if conn.flush().await.is_err() {
                        conn.note(
                            "connection lost before the final replies were written; message not delivered",
                        );
                        break;
                    }
                    handler.message_accepted(*message);
                }
                None
            }
            Step::StartTls(reply) => {
                conn.queue(&reply);
                if conn.flush().await.is_err() {
                    break;
                }
                // Bytes sent before the handshake must not count as
                // commands after it (RFC 3207, 4.2: STARTTLS injection).
                conn.start = conn.input.len();
                // Without feature `tls` no server offers STARTTLS; a
                // hand-made Config that claims it gets the connection closed.
                #[cfg(not(feature = "tls"))]
                break;
                #[cfg(feature = "tls")]
                {
                    let Some(tls) = &server.tls else { break };
                    if !conn
                        .start_tls(&tls.config, &mut session, config.tls_handshake_timeout)
                        .await
                    {
                        break;
                    }
                    None
                }
            }
            Step::Fault(LinkFault::Reset, _) => {
                conn.note("scripted: connection reset");
                conn.reset();
                break;
            }
            Step::Fault(LinkFault::Silence, _) => {
                conn.note("scripted: silence until the session ends");
                conn.watchdog.alarmed().await;
                break;
            }
            Step::Fault(fault, step) => {
                conn.fault = Some(fault);
                Some(*step)
            }
            Step::Close(reply) => {
                if let Some(reply) = reply {
                    conn.queue(&reply);
                }
                let _ = conn.flush().await;
                // TLS says goodbye with close_notify; plain TCP's FIN comes with
                // the close itself, one system call fewer per connection.
                #[cfg(feature = "tls")]
                if matches!(conn.stream, Stream::Tls(_)) {
                    let _ = conn.stream.shutdown().await;
                }
                conn.note("server closed the connection");
                break;
            }
        };
        step = match next {
            Some(step) => step,
            None => match next_step(&mut conn, &mut session, &config).await {
                Some(step) => step,
                None => break,
            },
        };
    }
}

/// Feeds buffered input to the session until it has a step, reading more
/// when needed. `None`: the session is over (the connection is gone).
async fn next_step(conn: &mut Connection, session: &mut Session, config: &crate::Config) -> Option<Step> {
    loop {
        let in_data = session.state() == State::Data;
        let progress = session.receive(&conn.input[conn.start..]);
        if let Some(log) = &mut conn.log {
            log.received(&conn.input[conn.start..conn.start + progress.used], in_data);
            if in_data && session.state() != State::Data {
                log.end_line();
            }
        }
        conn.start += progress.used;
        if let Some(step) = progress.step {
            if conn.output.len() >= config.max_pending_output && conn.flush().await.is_err() {
                return None;
            }
            return Some(step);
        }
        if conn.flush().await.is_err() {
            return None;
        }
        if session.state() == State::Data && !conn.socket_drained {
            conn.bulk_transfer();
        }
        if session.state() == State::Data && session.data_received() > 0 && conn.socket_drained {
            // More of the message is to come, nothing will be sent back until
            // it has, and the client has nothing else in flight (perhaps held
            // back by Nagle until this data is acknowledged): ACK now. While
            // reads fill the buffer, the kernel's own ACKs keep it going.
            conn.ack_now();
        }
        if conn.reading_stopped {
            conn.note("scripted: reading stopped");
            conn.watchdog.alarmed().await;
            return None;
        }
        let in_place = session.state() == State::Data
            && conn.start == conn.input.len()
            && session.data_received() >= READ_IN_PLACE_AFTER;
        let read = if in_place {
            match conn.read_into_message(session).await {
                Ok(Some((step, rest))) => {
                    conn.input.clear();
                    conn.input.extend_from_slice(&rest);
                    conn.start = 0;
                    return Some(step);
                }
                Ok(None) => Ok(()),
                Err(end) => Err(end),
            }
        } else {
            conn.read().await
        };
        match read {
            Ok(()) => {}
            Err(ReadEnd::Closed) => {
                conn.note("client closed the connection");
                return None;
            }
            Err(ReadEnd::Alarm(Alarm::TimedOut)) => {
                let reply = replies::timeout(&config.hostname);
                return Some(Step::Close(Some(reply)));
            }
            Err(ReadEnd::Alarm(Alarm::ShuttingDown)) => {
                let reply = replies::shutting_down(&config.hostname);
                return Some(Step::Close(Some(reply)));
            }
        }
    }
}

impl Connection {
    fn queue(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// Acknowledges received data at once instead of after the kernel's
    /// delayed-ACK timer. During DATA the server sends nothing back, so a
    /// client with Nagle's algorithm on (lettre writes the body and the
    /// final dot separately) would otherwise wait ~40 ms per message.
    fn ack_now(&self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(tcp) = self.stream.tcp() {
            let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
        }
    }

    /// A message is arriving faster than the buffer takes it: a larger
    /// kernel receive buffer lets the client send more per read (10 MiB
    /// messages went from ~750 to ~1 250 MB/s). Done once, and only then, so
    /// small sessions pay no extra system call.
    fn bulk_transfer(&mut self) {
        if self.receive_buffer_raised {
            return;
        }
        self.receive_buffer_raised = true;
        if let Some(tcp) = self.stream.tcp() {
            let _ = socket2::SockRef::from(tcp).set_recv_buffer_size(BULK_RECEIVE_BUFFER);
        }
    }

    /// Runs the server side of a TLS handshake; on success the session
    /// learns the parameters. Returns whether the session can go on.
    #[cfg(feature = "tls")]
    async fn start_tls(
        &mut self,
        tls: &TlsConfig,
        session: &mut Session,
        limit: std::time::Duration,
    ) -> bool {
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Upgrading) else {
            self.note("TLS requested on a stream that is not plain TCP");
            return false;
        };
        match tokio::time::timeout(limit, tls.accept(tcp)).await {
            Ok(Ok(Handshake::Done(stream, info))) => {
                self.stream = stream;
                let sni = info
                    .sni
                    .as_deref()
                    .map(|name| format!(", SNI {name}"))
                    .unwrap_or_default();
                self.note(&format!("TLS started: {} {}{sni}", info.version, info.cipher));
                session.tls_started(info);
                true
            }
            Ok(Ok(Handshake::Aborted(note))) => {
                self.note(&note);
                false
            }
            Ok(Err(error)) => {
                self.note(&format!("TLS handshake failed: {error}"));
                false
            }
            Err(_) => {
                self.note("TLS handshake timed out");
                false
            }
        }
    }

    fn note(&mut self, text: &str) {
        if let Some(log) = &mut self.log {
            log.note(text);
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let result = match self.fault.take() {
            None => self.write_output().await,
            Some(LinkFault::Throttle { bytes_per_second }) => {
                self.write_output_slowly(bytes_per_second).await
            }
            Some(LinkFault::CutAfter { bytes }) => {
                self.output.truncate(bytes);
                let _ = self.write_output().await;
                self.note("scripted: reply cut, connection closed");
                Err(io::Error::other("the reply was cut (scripted)"))
            }
            Some(LinkFault::StopReading) => {
                self.reading_stopped = true;
                self.write_output().await
            }
            Some(LinkFault::Reset | LinkFault::Silence) => Ok(()),
        };
        self.output.clear();
        result
    }

    async fn write_output(&mut self) -> io::Result<()> {
        if let Some(log) = &mut self.log {
            log.sent(&self.output);
        }
        self.stream.write_all(&self.output).await
    }

    /// Writes the pending output at `bytes_per_second`, in a tenth of a
    /// second's worth at a time (a byte at a time below 10 a second).
    async fn write_output_slowly(&mut self, bytes_per_second: u32) -> io::Result<()> {
        if let Some(log) = &mut self.log {
            log.sent(&self.output);
        }
        let rate = u64::from(bytes_per_second.max(1));
        let (piece, pause) = if rate >= 10 {
            (
                usize::try_from(rate / 10).unwrap_or(usize::MAX),
                std::time::Duration::from_millis(100),
            )
        } else {
            (1, std::time::Duration::from_millis(1000 / rate))
        };
        for chunk in self.output.chunks(piece) {
            self.stream.write_all(chunk).await?;
            self.stream.flush().await?;
            tokio::time::sleep(pause).await;
        }
        Ok(())
    }

    /// Closes with a TCP reset: a zero linger time makes the close abort.
    fn reset(&mut self) {
        if let Some(tcp) = self.stream.tcp() {
            let _ = socket2::SockRef::from(tcp).set_linger(Some(std::time::Duration::ZERO));
        }
    }

    /// Reads the next part of a large message straight into the message
    /// (the kernel's copy is the only one). `Some` when it completed the
    /// message: the step, and the bytes that followed the terminator.
    async fn read_into_message(&mut self, session: &mut Session) -> Result<Option<(Step, Vec<u8>)>, ReadEnd> {
        let Some(buffer) = session.data_buffer(IN_PLACE_READ) else {
            return Ok(None);
        };
        let before = buffer.len();
        let (n, drained) = read_into(&mut self.stream, &self.watchdog, buffer).await?;
        self.socket_drained = drained;
        let Some(log) = &mut self.log else {
            return Ok(session.data_appended());
        };
        self.raw_read.clear();
        self.raw_read.extend_from_slice(&buffer[before..before + n]);
        let done = session.data_appended();
        // What came after the terminator is logged as commands, when used.
        let rest = done.as_ref().map_or(0, |(_, rest)| rest.len());
        log.received(&self.raw_read[..n - rest], true);
        if done.is_some() {
            log.end_line();
            // Large messages are rare in a session: do not hold on to a
            // read's worth of memory until the next one.
            self.raw_read = Vec::new();
        }
        Ok(done)
    }

    /// Reads more bytes into the buffer, after moving unread bytes to its
    /// front (and growing it while reads fill it, up to a cap).
    async fn read(&mut self) -> Result<(), ReadEnd> {
        if self.start == self.input.len() {
            self.input.clear();
        } else if self.start > 0 {
            self.input.drain(..self.start);
        }
        self.start = 0;
        let capacity = self.input.capacity();
        if self.input.len() == capacity && capacity < MAX_BUFFER {
            self.input.reserve_exact(capacity);
        }
        let (_, drained) = read_into(&mut self.stream, &self.watchdog, &mut self.input).await?;
        self.socket_drained = drained;
        Ok(())
    }
}

/// Reads what the socket has into `buffer`'s spare capacity, unless the
/// watchdog's alarm comes first. Returns how many bytes came and whether the
/// socket was drained (they did not fill the room).
async fn read_into(
    stream: &mut Stream,
    watchdog: &Registration,
    buffer: &mut Vec<u8>,
) -> Result<(usize, bool), ReadEnd> {
    if let Some(alarm) = watchdog.alarm() {
        return Err(ReadEnd::Alarm(alarm));
    }
    let room = buffer.capacity() - buffer.len();
    let read = tokio::select! {
        biased;
        read = stream.read_buf(buffer) => read,
        alarm = watchdog.alarmed() => return Err(ReadEnd::Alarm(alarm)),
    };
    match read {
        Ok(0) | Err(_) => Err(ReadEnd::Closed),
        Ok(n) => {
            watchdog.touch();
            Ok((n, n < room))
        }
    }
}
