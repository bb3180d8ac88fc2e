//! One connection: read, feed the session, act on its steps, write.
//!
//! Replies are gathered and written in one burst when the input buffer holds
//! no further complete command (or too much output is pending), so a
//! pipelined burst costs one write, and a lone command still gets its reply
//! at once.

use std::net::SocketAddr;
use std::sync::Arc;

#[cfg(feature = "tls")]
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

mod input;
mod output;

use super::line_log::LineLog;
use super::proxy_protocol;
use super::stream::Stream;
#[cfg(feature = "tls")]
use super::tls::{Handshake, TlsConfig};
use super::watchdog::{Alarm, Registration};
use super::{ServerSettings, SmtpServer};
use crate::handler::{Closing, Handler};
use crate::protocol::{replies, LinkFault, Message, Question, Reply, Session, State, Step};

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
    /// A scripted fault lost the last reply: the server acts as if it was
    /// written (a message is delivered), then the session ends.
    reply_lost: bool,
}
/// What to do after a step was carried out.
enum Flow {
    /// Carry out this step next.
    Step(Step),
    /// Feed the session the client's next input.
    Read,
    /// The session is over.
    End,
}

pub(super) async fn serve<H: Handler>(
    server: SmtpServer<H>,
    stream: TcpStream,
    id: u64,
    peer: SocketAddr,
    watchdog: Registration,
) {
    let Some((mut conn, mut session)) = open(&server, stream, id, peer, watchdog).await else {
        return;
    };
    let mut step = session.start();
    loop {
        step = match conn.carry_out(step, &server, &mut session).await {
            Flow::Step(step) => step,
            Flow::Read => match next_step(&mut conn, &mut session, &server.settings).await {
                Some(step) => step,
                None => break,
            },
            Flow::End => break,
        };
    }
}

/// Sets up a new connection: its PROXY header (when the server takes the
/// protocol), its session and log, and implicit TLS. `None` when the
/// connection ends before the greeting.
async fn open<H: Handler>(
    server: &SmtpServer<H>,
    mut stream: TcpStream,
    id: u64,
    peer: SocketAddr,
    mut watchdog: Registration,
) -> Option<(Connection, Closing<'_, Arc<H>>)> {
    let _ = stream.set_nodelay(true);
    let arrival = match server.settings.proxy_header_timeout {
        // Boxed like the TLS handshake: only servers behind a proxy wait
        // for a header, and its timer would enlarge every connection's
        // future.
        Some(limit) => Some(Box::pin(proxy_protocol::receive(&mut stream, peer, limit, &mut watchdog)).await),
        None => None,
    };
    let mut session = Session::new(
        server.config.clone(),
        id,
        arrival.as_ref().map_or(peer, |a| a.peer),
    );
    if let Some(proxy) = arrival.as_ref().and_then(|a| a.proxy) {
        session = session.behind_proxy(proxy);
    }
    #[cfg(feature = "tls")]
    if server.tls.as_ref().is_some_and(|tls| !tls.implicit) {
        session = session.offer_starttls();
    }
    // From here on the handler hears of the session's end, however this
    // task ends (a refused PROXY header, a failed handshake, cancelled at
    // shutdown).
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))] // only implicit TLS changes it here
    let mut session = Closing::new(&server.handler, session);
    let log = server.handler.session_log(session.info()).map(LineLog::new);
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
        reply_lost: false,
    };
    if let Some(arrival) = arrival {
        conn.note(&arrival.note);
        if arrival.refused {
            return None;
        }
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = server.tls.as_ref().filter(|tls| tls.implicit) {
        let limit = server.settings.tls_handshake_timeout;
        if !Box::pin(conn.start_tls(&tls.config, &mut session, limit)).await {
            return None;
        }
    }
    Some((conn, session))
}

/// Feeds buffered input to the session until it has a step, reading more
/// when needed. `None`: the session is over (the connection is gone).
async fn next_step(conn: &mut Connection, session: &mut Session, settings: &ServerSettings) -> Option<Step> {
    loop {
        if let Some(step) = conn.feed(session) {
            if conn.output.len() >= settings.max_pending_output && conn.flush().await.is_err() {
                return None;
            }
            return Some(step);
        }
        if conn.flush().await.is_err() {
            return None;
        }
        // More input is needed; while a message arrives, the reads adapt.
        let in_message = session.state() == State::Data;
        if in_message {
            conn.message_arriving(session);
        }
        if conn.reading_stopped {
            conn.note("scripted: reading stopped");
            conn.watchdog.alarmed().await;
            return None;
        }
        let in_place =
            in_message && conn.start == conn.input.len() && session.data_received() >= READ_IN_PLACE_AFTER;
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
                let reply = replies::timeout(&session.config().hostname);
                return Some(Step::Close(Some(reply)));
            }
            Err(ReadEnd::Alarm(Alarm::ShuttingDown)) => {
                let reply = replies::shutting_down(&session.config().hostname);
                return Some(Step::Close(Some(reply)));
            }
        }
    }
}

impl Connection {
    /// Carries out one step of the session.
    async fn carry_out<H: Handler>(
        &mut self,
        step: Step,
        server: &SmtpServer<H>,
        session: &mut Session,
    ) -> Flow {
        let handler = &*server.handler;
        match step {
            Step::Ask => self.ask(handler, session).await,
            Step::Reply(reply) => {
                self.queue(&reply);
                Flow::Read
            }
            Step::Raw(bytes) => {
                self.output.extend_from_slice(&bytes);
                Flow::Read
            }
            Step::Continue => Flow::Read,
            Step::Accepted(reply, message) => {
                let lost = "connection lost before the final reply was written; message not delivered";
                self.deliver(handler, &[reply], Some(message), lost).await
            }
            Step::PerRecipient(replies, message) => {
                let lost = "connection lost before the final replies were written; message not delivered";
                self.deliver(handler, &replies, message, lost).await
            }
            // Boxed, as the handshake's state is large and rare: kept in
            // place, it would make every step's future that large, and
            // futures are moved by value.
            Step::StartTls(reply) => Box::pin(self.upgrade(server, session, &reply)).await,
            Step::Fault(LinkFault::Reset, _) => {
                self.note("scripted: connection reset");
                self.reset();
                Flow::End
            }
            Step::Fault(LinkFault::Silence, _) => {
                self.note("scripted: silence until the session ends");
                self.watchdog.alarmed().await;
                Flow::End
            }
            Step::Fault(fault, step) => {
                self.fault = Some(fault);
                Flow::Step(*step)
            }
            Step::Close(reply) => {
                self.close(reply).await;
                Flow::End
            }
        }
    }

    /// Asks the handler the session's pending question.
    async fn ask<H: Handler>(&mut self, handler: &H, session: &mut Session) -> Flow {
        let Some(question) = session.question() else {
            return Flow::Read;
        };
        // process_message may take long (a relay): let the client see the
        // replies before it.
        if matches!(question, Question::Message(_)) && self.flush().await.is_err() {
            return Flow::End;
        }
        let decision = handler.decide(session, question).await;
        Flow::Step(session.resolve(decision))
    }

    /// Writes the final replies to a message (one, or in LMTP one per
    /// recipient); once they reached the client, the message (if any
    /// recipient took it) is delivered. `lost` is the log's note when they
    /// could not be written.
    async fn deliver<H: Handler>(
        &mut self,
        handler: &H,
        replies: &[Reply],
        message: Option<Box<Message>>,
        lost: &str,
    ) -> Flow {
        for reply in replies {
            self.queue(reply);
        }
        let Some(message) = message else {
            return Flow::Read;
        };
        if self.flush().await.is_err() && !self.reply_lost {
            self.note(lost);
            return Flow::End;
        }
        handler.message_accepted(*message);
        if self.reply_lost {
            return Flow::End;
        }
        Flow::Read
    }

    /// STARTTLS: the `220`, then the handshake.
    async fn upgrade<H: Handler>(
        &mut self,
        server: &SmtpServer<H>,
        session: &mut Session,
        reply: &Reply,
    ) -> Flow {
        self.queue(reply);
        if self.flush().await.is_err() {
            return Flow::End;
        }
        // Bytes sent before the handshake must not count as commands after
        // it (RFC 3207, 4.2: STARTTLS injection).
        self.start = self.input.len();
        // Only a session that was offered STARTTLS asks for it, and only a
        // server with a certificate offers it.
        #[cfg(not(feature = "tls"))]
        let _ = (server, session);
        #[cfg(feature = "tls")]
        if let Some(tls) = &server.tls {
            let limit = server.settings.tls_handshake_timeout;
            if self.start_tls(&tls.config, session, limit).await {
                return Flow::Read;
            }
        }
        Flow::End
    }

    /// Writes the last reply, if any, and says goodbye.
    async fn close(&mut self, reply: Option<Reply>) {
        if let Some(reply) = reply {
            self.queue(&reply);
        }
        let _ = self.flush().await;
        // TLS says goodbye with close_notify; plain TCP's FIN comes with the
        // close itself, one system call fewer per connection.
        #[cfg(feature = "tls")]
        if matches!(self.stream, Stream::Tls(_)) {
            let _ = self.stream.shutdown().await;
        }
        self.note("server closed the connection");
    }

    /// Feeds the buffered input to the session, and logs what it used.
    fn feed(&mut self, session: &mut Session) -> Option<Step> {
        let in_data = session.state() == State::Data;
        let progress = session.receive(&self.input[self.start..]);
        if let Some(log) = &mut self.log {
            log.received(&self.input[self.start..self.start + progress.used], in_data);
            if in_data && session.state() != State::Data {
                log.end_line();
            }
        }
        self.start += progress.used;
        progress.step
    }

    /// A message is arriving and all its input so far was used: a larger
    /// receive buffer when the socket delivers faster than it is read, an
    /// immediate ACK when the client has nothing else in flight.
    fn message_arriving(&mut self, session: &Session) {
        if !self.socket_drained {
            self.bulk_transfer();
        }
        if session.data_received() > 0 && self.socket_drained {
            // More of the message is to come, nothing will be sent back
            // until it has, and the client has nothing else in flight
            // (perhaps held back by Nagle until this data is acknowledged):
            // ACK now. While reads fill the buffer, the kernel's own ACKs
            // keep it going.
            self.ack_now();
        }
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
}
