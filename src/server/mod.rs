//! The network side: an accept loop with a connection cap, one task per
//! connection, and a shutdown that lets replies in flight reach clients.
//!
//! The caller binds; the server only serves. That keeps port choice (and
//! port 0) in the caller's hands and makes the port listen before the server
//! task even starts.

mod connection;
mod line_log;
mod proxy_protocol;
mod settings;
mod stream;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
pub(crate) mod tls_faults;
#[cfg(feature = "tls")]
mod tls_provider;
mod watchdog;

#[cfg(feature = "tls")]
pub use tls::{TlsConfig, TlsError};
#[cfg(feature = "tls")]
pub use tls_faults::TlsFaults;
#[cfg(feature = "tls")]
#[allow(unused_imports)] // the crate's own short path; the public one is at the root
pub(crate) use tls_faults::TlsVersion;
#[cfg(feature = "tls-generate")]
pub use tls_faults::Validity;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::handler::Handler;
use crate::protocol::{replies, Config, ConfigError};
pub(crate) use settings::ServerSettings;
use watchdog::Watchdog;

/// An SMTP server: a [`Config`] and a [`Handler`] (the reference's
/// `SMTPServer`).
///
/// ```
/// use smtp_fixture::handlers::Sink;
/// use smtp_fixture::protocol::Config;
/// use smtp_fixture::server::SmtpServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let server = SmtpServer::new(Config::default(), Sink).expect("valid config");
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let task = tokio::spawn(server.run(listener, async { stopped.await.ok(); }));
///
/// // ... point a client at `addr` ...
/// # let _ = addr;
/// stop.send(()).ok();
/// task.await.expect("server task")?;
/// # Ok(())
/// # }
/// ```
pub struct SmtpServer<H> {
    config: Arc<Config>,
    handler: Arc<H>,
    next_session: Arc<AtomicU64>,
    settings: ServerSettings,
    #[cfg(feature = "tls")]
    tls: Option<Tls>,
}

/// How long a connection may take to send its PROXY header by default
/// (the spec asks for at least 3 seconds, to cover a TCP retransmit).
pub const PROXY_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How a server uses its certificate.
#[cfg(feature = "tls")]
#[derive(Clone)]
pub(crate) struct Tls {
    pub(crate) config: TlsConfig,
    /// TLS from the first byte (SMTPS, RFC 8314) instead of STARTTLS.
    pub(crate) implicit: bool,
}

impl<H> Clone for SmtpServer<H> {
    fn clone(&self) -> Self {
        SmtpServer {
            config: self.config.clone(),
            handler: self.handler.clone(),
            next_session: self.next_session.clone(),
            settings: self.settings.clone(),
            #[cfg(feature = "tls")]
            tls: self.tls.clone(),
        }
    }
}

impl<H: Handler> SmtpServer<H> {
    /// A server with `config` and `handler`; refuses options that do not go
    /// together (see [`Config::validate`]).
    pub fn new(config: Config, handler: H) -> Result<SmtpServer<H>, ConfigError> {
        config.validate()?;
        Ok(SmtpServer {
            config: Arc::new(config),
            handler: Arc::new(handler),
            next_session: Arc::new(AtomicU64::new(1)),
            settings: ServerSettings::default(),
            #[cfg(feature = "tls")]
            tls: None,
        })
    }

    /// Offers STARTTLS (RFC 3207) with `tls`'s certificate.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_starttls(mut self, tls: TlsConfig) -> SmtpServer<H> {
        self.tls = Some(Tls {
            config: tls,
            implicit: false,
        });
        self
    }

    /// Speaks TLS from the first byte (implicit TLS, "SMTPS", RFC 8314).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_implicit_tls(mut self, tls: TlsConfig) -> SmtpServer<H> {
        self.tls = Some(Tls {
            config: tls,
            implicit: true,
        });
        self
    }

    /// Takes HAProxy's PROXY protocol (versions 1 and 2): every connection
    /// must start with a PROXY header, sent within `header_timeout` (e.g.
    /// [`PROXY_HEADER_TIMEOUT`]), before implicit TLS and before the
    /// greeting. The session's [`peer`](crate::protocol::SessionInfo::peer) is then
    /// the client the header names, and
    /// [`proxy`](crate::protocol::SessionInfo::proxy) the proxy's address. A
    /// connection whose header is malformed or late is closed without a
    /// reply. Only for a port that proxies alone can reach: any client can
    /// claim any address with a header of its own.
    ///
    /// ```
    /// use smtp_fixture::server::PROXY_HEADER_TIMEOUT;
    /// use smtp_fixture::handlers::Sink;
    /// use smtp_fixture::protocol::Config;
    /// use smtp_fixture::server::SmtpServer;
    ///
    /// let server = SmtpServer::new(Config::default(), Sink)
    ///     .expect("valid config")
    ///     .with_proxy_protocol(PROXY_HEADER_TIMEOUT);
    /// assert_eq!(server.proxy_header_timeout(), Some(PROXY_HEADER_TIMEOUT));
    /// ```
    pub fn with_proxy_protocol(mut self, header_timeout: Duration) -> SmtpServer<H> {
        self.settings.proxy_header_timeout = Some(header_timeout);
        self
    }

    /// With the PROXY protocol on, how long a connection has for its header.
    pub fn proxy_header_timeout(&self) -> Option<Duration> {
        self.settings.proxy_header_timeout
    }

    /// Serves at most `count` sessions at once; more get `421` at once.
    /// `0`: no limit. Default 1000.
    pub fn with_max_connections(mut self, count: usize) -> SmtpServer<H> {
        self.settings.max_connections = count;
        self
    }

    /// Waits at most `limit` for a client's next bytes before `421`
    /// (reads are dated to an eighth of `limit`, so the `421` comes between
    /// `limit` and an eighth more after the last read). Default 5 minutes.
    pub fn with_idle_timeout(mut self, limit: Duration) -> SmtpServer<H> {
        self.settings.idle_timeout = limit;
        self
    }

    /// Ends a session with `421` once it has lasted `limit` in all, busy
    /// or not. Default: no limit.
    pub fn with_session_timeout(mut self, limit: Duration) -> SmtpServer<H> {
        self.settings.session_timeout = Some(limit);
        self
    }

    /// Holds back at most `bytes` of replies to pipelined commands before
    /// writing them, even though more input is waiting. Default 64 KiB.
    pub fn with_max_pending_output(mut self, bytes: usize) -> SmtpServer<H> {
        self.settings.max_pending_output = bytes;
        self
    }

    /// Closes a connection whose TLS handshake (STARTTLS or implicit TLS)
    /// has not finished after `limit`: a client that stalls mid-handshake
    /// would otherwise hold its session until the idle timeout. Default
    /// 10 seconds.
    pub fn with_tls_handshake_timeout(mut self, limit: Duration) -> SmtpServer<H> {
        self.settings.tls_handshake_timeout = limit;
        self
    }

    /// When stopping, waits up to `grace` for sessions busy in a hook
    /// before cutting them off (idle sessions get `421` at once). Default
    /// 2 seconds.
    pub fn with_shutdown_grace(mut self, grace: Duration) -> SmtpServer<H> {
        self.settings.shutdown_grace = grace;
        self
    }

    /// All the server's own settings at once (the fixture's builder keeps
    /// them until it builds the server). The PROXY protocol setting stays
    /// as it is.
    pub(crate) fn with_settings(mut self, settings: ServerSettings) -> SmtpServer<H> {
        let proxy_header_timeout = self.settings.proxy_header_timeout;
        self.settings = ServerSettings {
            proxy_header_timeout,
            ..settings
        };
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The handler.
    pub fn handler(&self) -> &Arc<H> {
        &self.handler
    }

    /// Binds `addr` and serves until `shutdown` completes.
    pub async fn bind_and_run(self, addr: SocketAddr, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.run(listener, shutdown).await
    }

    /// Serves `listener` until `shutdown` completes. Then the listener is
    /// closed, idle sessions get `421` and close, and sessions busy in a hook
    /// get a short grace period.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let watchdog = Watchdog::new(self.settings.idle_timeout, self.settings.session_timeout);
        // Polled with the accept loop: no task of its own to outlive the server.
        let timing = watchdog.clone().run();
        tokio::pin!(timing);
        let permits = Arc::new(Semaphore::new(match self.settings.max_connections {
            0 => Semaphore::MAX_PERMITS,
            cap => cap,
        }));
        // Should the caller drop this future, its sessions end with it.
        let _sessions = AbortOnDrop(&watchdog);
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                () = &mut shutdown => break,
                () = &mut timing => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) if is_per_connection(&error) => continue,
                    Err(_) => {
                        // Out of file descriptors or similar: wait for
                        // sessions to end instead of spinning.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                },
            };
            let id = self.next_session.fetch_add(1, Ordering::Relaxed);
            // Every task is registered with the watchdog, which counts them
            // and can cut them off: cheaper per connection than a
            // `JoinSet`, which locks its lists on spawn, on the task's end
            // and on every reap.
            let watched = watchdog.register();
            let slot = watched.slot();
            let task = match permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    let server = self.clone();
                    // Boxed: the session's future is a few KiB, and tokio
                    // copies a task's future (and its finished stage) by
                    // value several times per connection; a box is copied
                    // as one pointer.
                    let session = Box::pin(connection::serve(server, stream, id, peer, watched));
                    tokio::spawn(async move {
                        session.await;
                        drop(permit);
                    })
                }
                Err(_) => {
                    let hostname = self.config.hostname.clone();
                    tokio::spawn(refuse_connection(stream, hostname, watched))
                }
            };
            watchdog.attach(slot, task.abort_handle());
        }
        drop(listener);
        watchdog.stop();
        let drained = tokio::time::timeout(self.settings.shutdown_grace, watchdog.all_ended());
        if drained.await.is_err() {
            watchdog.abort_all();
            watchdog.all_ended().await;
        }
        Ok(())
    }
}

/// Accept errors that concern only the connection being accepted.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted
    )
}

/// Cuts off the sessions' tasks when dropped.
struct AbortOnDrop<'a>(&'a Watchdog);

impl Drop for AbortOnDrop<'_> {
    fn drop(&mut self) {
        self.0.abort_all();
    }
}

/// `watched` counts the refusal among the server's tasks until it is done.
async fn refuse_connection(mut stream: TcpStream, hostname: String, watched: watchdog::Registration) {
    let reply = replies::too_many_connections(&hostname).to_wire();
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(&reply)).await;
    let _ = stream.shutdown().await;
    drop(watched);
}
