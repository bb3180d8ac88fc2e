//! The PROXY protocol header at the start of a connection, before implicit
//! TLS and the greeting: read with a time limit, and exactly to its end, so
//! that whatever follows it (pipelined SMTP, a TLS ClientHello) stays in
//! the socket for the session.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::watchdog::{Alarm, Registration};
use crate::protocol::proxy_header::{Parsed, ProxiedAddresses, ProxyHeader, V2_MAX_LENGTH};

/// Who a connection is from, once its PROXY header is read (or not).
pub(super) struct Arrival {
    /// The session's peer: the client the header named, else the TCP peer.
    pub(super) peer: SocketAddr,
    /// The TCP peer, when it sent a valid header.
    pub(super) proxy: Option<SocketAddr>,
    /// What the transcript says about the header.
    pub(super) note: String,
    /// No valid header in time: the connection closes without a word (the
    /// spec: the receiver must not start before a valid header).
    pub(super) refused: bool,
}

/// Why no header was read.
enum Failure {
    Malformed(String),
    Closed,
    TimedOut,
    Alarm(Alarm),
}

/// Reads the header from `stream` (whose TCP peer is `peer`) within
/// `limit`, or until the watchdog's alarm (the server stopping).
pub(super) async fn receive(
    stream: &mut TcpStream,
    peer: SocketAddr,
    limit: Duration,
    watchdog: &mut Registration,
) -> Arrival {
    let read = tokio::select! {
        biased;
        read = tokio::time::timeout(limit, read_header(stream)) => read.unwrap_or(Err(Failure::TimedOut)),
        alarm = watchdog.alarmed() => Err(Failure::Alarm(alarm)),
    };
    let header = match read {
        Ok(header) => header,
        Err(failure) => {
            let why = match failure {
                Failure::Malformed(why) => format!("malformed PROXY header ({why})"),
                Failure::Closed => "the connection closed before a PROXY header".to_string(),
                Failure::TimedOut => format!("no PROXY header within {limit:?}"),
                Failure::Alarm(Alarm::TimedOut) => "idle timeout before a PROXY header".to_string(),
                Failure::Alarm(Alarm::ShuttingDown) => "server stopping before a PROXY header".to_string(),
            };
            return Arrival {
                peer,
                proxy: None,
                note: format!("{why}: connection closed without a reply"),
                refused: true,
            };
        }
    };
    watchdog.touch();
    let version = header.version;
    let (client, note) = match header.addresses {
        ProxiedAddresses::Tcp { source, destination } => (
            source,
            format!("PROXY v{version}: client {source} (to {destination}) via proxy {peer}"),
        ),
        ProxiedAddresses::Local => (
            peer,
            format!("PROXY v{version} LOCAL: the proxy's own connection, from {peer}"),
        ),
        ProxiedAddresses::Unknown => (
            peer,
            format!("PROXY v{version} UNKNOWN: no client address; the proxy's, {peer}, is used"),
        ),
    };
    Arrival {
        peer: client,
        proxy: Some(peer),
        note,
        refused: false,
    }
}

/// Peeks at what has arrived, and takes from the socket only bytes known
/// to be the header's: those of a valid start, then the rest of the header
/// once it is complete.
async fn read_header(stream: &mut TcpStream) -> Result<ProxyHeader, Failure> {
    let mut taken = Vec::new();
    let mut peeked = vec![0; V2_MAX_LENGTH];
    loop {
        // The parser refuses a header longer than the buffer, so it is
        // never full here; an empty room would read as a close.
        let room = V2_MAX_LENGTH.saturating_sub(taken.len());
        let n = stream
            .peek(&mut peeked[..room])
            .await
            .map_err(|_| Failure::Closed)?;
        if n == 0 {
            return Err(Failure::Closed);
        }
        let start = taken.len();
        taken.extend_from_slice(&peeked[..n]);
        match ProxyHeader::parse(&taken) {
            Parsed::Incomplete => consume(stream, n).await?,
            Parsed::Complete(header) => {
                consume(stream, header.length - start).await?;
                return Ok(header);
            }
            Parsed::Malformed(error) => {
                // Taken, so that the close is a FIN rather than a reset
                // for unread bytes (unless more are on their way).
                let _ = consume(stream, n).await;
                return Err(Failure::Malformed(error.to_string()));
            }
        }
    }
}

/// Reads and drops `n` bytes that were peeked.
async fn consume(stream: &mut TcpStream, n: usize) -> Result<(), Failure> {
    let mut sink = vec![0; n];
    stream
        .read_exact(&mut sink)
        .await
        .map(drop)
        .map_err(|_| Failure::Closed)
}
