//! The input side of a connection: reads into the buffer, or straight into
//! a large message, until the watchdog's alarm.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use tokio::io::AsyncReadExt;

use super::{Connection, ReadEnd, IN_PLACE_READ, MAX_BUFFER};
use crate::protocol::{Session, Step};
use crate::server::stream::Stream;
use crate::server::watchdog::Registration;

impl Connection {
    /// Reads the next part of a large message straight into the message
    /// (the kernel's copy is the only one). `Some` when it completed the
    /// message: the step, and the bytes that followed the terminator.
    pub(super) async fn read_into_message(
        &mut self,
        session: &mut Session,
    ) -> Result<Option<(Step, Vec<u8>)>, ReadEnd> {
        let Some(buffer) = session.data_buffer(IN_PLACE_READ) else {
            return Ok(None);
        };
        let before = buffer.len();
        let (n, drained) = read_into(&mut self.stream, &mut self.watchdog, buffer).await?;
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
    pub(super) async fn read(&mut self) -> Result<(), ReadEnd> {
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
        let (_, drained) = read_into(&mut self.stream, &mut self.watchdog, &mut self.input).await?;
        self.socket_drained = drained;
        Ok(())
    }
}

/// Reads what the socket has into `buffer`'s spare capacity, unless the
/// watchdog's alarm comes first. Returns how many bytes came and whether the
/// socket was drained (they did not fill the room).
async fn read_into(
    stream: &mut Stream,
    watchdog: &mut Registration,
    buffer: &mut Vec<u8>,
) -> Result<(usize, bool), ReadEnd> {
    if let Some(alarm) = watchdog.alarm() {
        return Err(ReadEnd::Alarm(alarm));
    }
    let room = buffer.capacity() - buffer.len();
    let mut read = pin!(stream.read_buf(buffer));
    // Polled by hand rather than in a `select!`: two polls in a row, the
    // read first, so that bytes which came with the alarm are not lost.
    let read = poll_fn(|cx| match read.as_mut().poll(cx) {
        Poll::Ready(read) => Poll::Ready(Ok(read)),
        Poll::Pending => watchdog.poll_alarmed(cx).map(Err),
    })
    .await;
    match read {
        Ok(Ok(0) | Err(_)) => Err(ReadEnd::Closed),
        Ok(Ok(n)) => {
            watchdog.touch();
            Ok((n, n < room))
        }
        Err(alarm) => Err(ReadEnd::Alarm(alarm)),
    }
}
