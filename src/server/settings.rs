//! What only the network side needs: connection limits, time limits and
//! output batching. A sans-I/O [`Session`](crate::protocol::Session) never
//! sees them, so they are not part of [`Config`](crate::protocol::Config); they are
//! set with the `with_*` methods of [`SmtpServer`](super::SmtpServer).

use std::time::Duration;

/// The server's own settings, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServerSettings {
    /// Sessions served at once; more get `421` at once. `0`: no limit.
    pub(crate) max_connections: usize,
    /// Longest wait for the next bytes from a client before `421`.
    pub(crate) idle_timeout: Duration,
    /// Longest a session may last in all before `421`; `None`: no limit.
    pub(crate) session_timeout: Option<Duration>,
    /// Reply bytes held back for pipelined commands before they are written
    /// even though more input is waiting.
    pub(crate) max_pending_output: usize,
    /// Longest a TLS handshake may take (STARTTLS or implicit TLS) before
    /// the connection is closed: a client that stalls mid-handshake would
    /// otherwise hold its session until the idle timeout.
    pub(crate) tls_handshake_timeout: Duration,
    /// How long a stopping server waits for sessions busy in a hook before
    /// cutting them off (idle sessions get `421` at once).
    pub(crate) shutdown_grace: Duration,
    /// With the PROXY protocol: how long a connection may take to send its
    /// header.
    pub(crate) proxy_header_timeout: Option<Duration>,
}

impl Default for ServerSettings {
    fn default() -> ServerSettings {
        ServerSettings {
            max_connections: 1000,
            idle_timeout: Duration::from_secs(300),
            session_timeout: None,
            max_pending_output: 64 * 1024,
            tls_handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(2),
            proxy_header_timeout: None,
        }
    }
}
