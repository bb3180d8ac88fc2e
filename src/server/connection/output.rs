//! The output side of a connection: replies gathered, then written in one
//! burst, or as a scripted link fault says (throttled, cut, reset).

use std::io;

use tokio::io::AsyncWriteExt;

use super::Connection;
use crate::protocol::{LinkFault, Reply};

impl Connection {
    pub(super) fn queue(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    pub(super) async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let result = match self.fault.take() {
            None => self.write_output().await,
            // Boxed: its timer would enlarge every flush's future.
            Some(LinkFault::Throttle { bytes_per_second }) => {
                Box::pin(self.write_output_slowly(bytes_per_second)).await
            }
            Some(LinkFault::CutAfter { bytes }) => {
                self.output.truncate(bytes);
                let _ = self.write_output().await;
                self.note("scripted: reply cut, connection closed");
                Err(io::Error::other("the reply was cut (scripted)"))
            }
            Some(LinkFault::ReplyLost { bytes }) => {
                self.output.truncate(bytes);
                let _ = self.write_output().await;
                self.note("scripted: reply lost, connection closed (the server counts it as sent)");
                self.reply_lost = true;
                Err(io::Error::other("the reply was lost (scripted)"))
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
        let written = self.stream.write_now(&self.output)?;
        self.stream.write_all(&self.output[written..]).await
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
    pub(super) fn reset(&mut self) {
        if let Some(tcp) = self.stream.tcp() {
            let _ = socket2::SockRef::from(tcp).set_linger(Some(std::time::Duration::ZERO));
        }
    }
}
