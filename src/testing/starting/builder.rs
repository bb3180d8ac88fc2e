//! [`Builder`]: a [`TestSmtpServer`]'s options, and starting it.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::fixture::{TestSmtpServer, TIMEOUT_ENV};
use super::runtime::runtime;
#[cfg(feature = "tls")]
use super::tls_choice::TlsChoice;
use crate::protocol::Config;
use crate::server::{ServerSettings, SmtpServer};
use crate::testing::inboxes::registry::Inboxes;
use crate::testing::inboxes::routing::InboxRouted;
#[allow(unused_imports)] // for the docs
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::auth_policy::AuthPolicy;
use crate::testing::recording::dns::DnsRecords;
use crate::testing::recording::recorder::Recorder;
use crate::testing::recording::store::Store;
use crate::testing::scripting::action::Action;
use crate::testing::scripting::clock::Clock;
use crate::testing::scripting::rules::{Script, Scripted};
use crate::testing::scripting::trigger::Trigger;

/// How long `wait_for_*` wait unless told otherwise.
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

impl TestSmtpServer {
    /// Starts a server with the default options on a free port of
    /// `127.0.0.1`. Not `async`: works in any test.
    #[track_caller]
    pub fn start() -> TestSmtpServer {
        Builder::default().start()
    }

    /// Options before starting.
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Options for a [`TestSmtpServer`], from [`TestSmtpServer::builder`].
///
/// ```
/// use std::time::Duration;
/// use smtp_fixture::TestSmtpServer;
///
/// let server = TestSmtpServer::builder()
///     .data_size_limit(1024)
///     .enable_smtputf8(true)
///     .hostname("mx.test")
///     .wait_timeout(Duration::from_secs(1))
///     .start();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .start()"]
pub struct Builder {
    pub(crate) config: Config,
    /// The server's own settings (connection and time limits).
    pub(crate) settings: ServerSettings,
    wait_timeout: Duration,
    ip: IpAddr,
    port: u16,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<TlsChoice>,
    pub(crate) auth: AuthPolicy,
    keep_artifacts: bool,
    /// TXT records for the DKIM, SPF and DMARC checks (`dns_txt`).
    dns_txt: Vec<(String, String)>,
    /// With the PROXY protocol: the time a connection has for its header.
    proxy_header_timeout: Option<Duration>,
    /// The clock of the rules: real, or manual with `manual_clock()`.
    pub(super) clock: Clock,
    /// Greylist every recipient for this long (`greylist()`).
    pub(super) greylist: Option<Duration>,
    /// Messages per connection before `421` (`max_messages_per_connection()`).
    pub(super) messages_per_connection: Option<usize>,
    /// Starts the HTTP API beside the server (set by `http_api()`).
    #[cfg(feature = "http")]
    pub(crate) http_api: Option<HttpStarter>,
}

/// Starts an HTTP API over a fixture's store and rules on a free port of
/// the address given; returns its address and its stop signal.
#[cfg(feature = "http")]
pub(crate) type HttpStarter = fn(
    IpAddr,
    SocketAddr,
    Arc<Store>,
    Arc<Script>,
    Arc<Inboxes>,
) -> io::Result<(SocketAddr, oneshot::Sender<()>)>;

/// The wait timeout unless a builder sets one: 5 s, or `SMTP_FIXTURE_TIMEOUT`.
pub(crate) fn default_wait_timeout() -> Duration {
    timeout_from_env().unwrap_or(DEFAULT_WAIT)
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            config: Config::default(),
            settings: ServerSettings {
                // Stop quickly when dropped: a test should not wait on a
                // session stuck in a scripted delay.
                shutdown_grace: Duration::from_millis(200),
                ..ServerSettings::default()
            },
            wait_timeout: default_wait_timeout(),
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            #[cfg(feature = "tls")]
            tls: None,
            auth: AuthPolicy::Off,
            keep_artifacts: true,
            dns_txt: Vec::new(),
            proxy_header_timeout: None,
            clock: Clock::real(),
            greylist: None,
            messages_per_connection: None,
            #[cfg(feature = "http")]
            http_api: None,
        }
    }
}

fn timeout_from_env() -> Option<Duration> {
    let value = std::env::var(TIMEOUT_ENV).ok()?;
    let seconds: f64 = value.trim().trim_end_matches('s').parse().ok()?;
    Duration::try_from_secs_f64(seconds).ok()
}

impl Builder {
    /// Largest message accepted (`552` beyond); `0`: no limit. Default
    /// 33554432, as in the reference.
    pub fn data_size_limit(mut self, bytes: usize) -> Builder {
        self.config.data_size_limit = bytes;
        self
    }

    /// Announce SMTPUTF8 and accept UTF-8 addresses.
    pub fn enable_smtputf8(mut self, enable: bool) -> Builder {
        self.config.enable_smtputf8 = enable;
        self
    }

    /// Require message data to be UTF-8 text (8BITMIME is not announced).
    pub fn decode_data(mut self, decode: bool) -> Builder {
        self.config.decode_data = decode;
        self
    }

    /// The name in the greeting and EHLO reply. Default `localhost`.
    pub fn hostname(mut self, hostname: &str) -> Builder {
        self.config.hostname = hostname.to_string();
        self
    }

    /// Recipients per message before `452`. Default 1000.
    pub fn max_recipients(mut self, count: usize) -> Builder {
        self.config.max_recipients = count;
        self
    }

    /// Sessions at once before `421`. Default 1000.
    pub fn max_connections(mut self, count: usize) -> Builder {
        self.settings.max_connections = count;
        self
    }

    /// How long a client may stay silent before `421` (it comes between
    /// `timeout` and an eighth more after the client's last bytes). Default
    /// 5 minutes.
    pub fn idle_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.idle_timeout = timeout;
        self
    }

    /// How long a session may last in all before `421`, busy or not.
    /// Default: no limit.
    pub fn session_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.session_timeout = Some(timeout);
        self
    }

    /// Announce exactly the reference's EHLO extensions: no PIPELINING,
    /// DSN, CHUNKING or REQUIRETLS (see [`Config::with_reference_extensions`]).
    pub fn reference_extensions(mut self) -> Builder {
        self.config = self.config.with_reference_extensions();
        self
    }

    /// Announce DSN and accept its parameters (default `true`).
    pub fn dsn(mut self, on: bool) -> Builder {
        self.config.dsn = on;
        self
    }

    /// Announce CHUNKING and BINARYMIME and accept `BDAT` (RFC 3030;
    /// default `true`).
    pub fn chunking(mut self, on: bool) -> Builder {
        self.config.chunking = on;
        self
    }

    /// Announce REQUIRETLS inside TLS and accept it on MAIL (RFC 8689;
    /// default `true`).
    pub fn requiretls(mut self, on: bool) -> Builder {
        self.config.requiretls = on;
        self
    }

    /// Speak LMTP (RFC 2033) instead of SMTP: `LHLO` greets (`HELO` and
    /// `EHLO` get `500`), and each recipient gets its own final reply after
    /// the message, so [`on::delivery_to`](crate::on::delivery_to) can fail
    /// one mailbox of several (the guide's LMTP section shows a session).
    /// Also turns on ENHANCEDSTATUSCODES and PIPELINING, which LMTP
    /// requires (see [`Config::lmtp`]).
    ///
    /// ```
    /// use smtp_fixture::{on, Reply, TestSmtpServer};
    /// let server = TestSmtpServer::builder().lmtp().start();
    /// server.respond(on::delivery_to("b@example.com"), Reply::new(452, "4.2.2 Mailbox full"));
    /// ```
    pub fn lmtp(mut self) -> Builder {
        self.config.lmtp = true;
        self
    }

    /// All other engine options at once.
    pub fn config(mut self, config: Config) -> Builder {
        self.config = config;
        self
    }

    /// How long `wait_for_*` wait before failing. Default 5 s, or the
    /// `SMTP_FIXTURE_TIMEOUT` environment variable (seconds).
    pub fn wait_timeout(mut self, timeout: Duration) -> Builder {
        self.wait_timeout = timeout;
        self
    }

    /// Listen on this port instead of a free one (e.g. to restart a server
    /// on the port a client is configured with).
    pub fn port(mut self, port: u16) -> Builder {
        self.port = port;
        self
    }

    /// Listen on this loopback address instead of `127.0.0.1` (e.g. `::1`).
    pub fn ip(mut self, ip: IpAddr) -> Builder {
        self.ip = ip;
        self
    }

    /// Take HAProxy's PROXY protocol (v1 and v2): each connection must
    /// start with a PROXY header (within 5 s); the recorded
    /// [`peer`](ReceivedMessage::peer) is the client it names, and
    /// [`proxy`](ReceivedMessage::proxy) the proxy (see
    /// [`SmtpServer::with_proxy_protocol`]).
    pub fn proxy_protocol(self) -> Builder {
        let timeout = self
            .proxy_header_timeout
            .unwrap_or(crate::server::PROXY_HEADER_TIMEOUT);
        self.proxy_header_timeout(timeout)
    }

    /// Take the PROXY protocol, with `timeout` for the header.
    pub fn proxy_header_timeout(mut self, timeout: Duration) -> Builder {
        self.proxy_header_timeout = Some(timeout);
        self
    }

    /// Whether a failing test keeps the messages and transcripts in a
    /// temporary directory (default `true`). Tests that fail on purpose
    /// (`#[should_panic]`) turn it off, so a suite leaves nothing behind.
    pub fn keep_artifacts(mut self, keep: bool) -> Builder {
        self.keep_artifacts = keep;
        self
    }

    /// Registers a DNS TXT record for the DKIM, SPF and DMARC checks of
    /// the messages this server receives ([`ReceivedMessage::dkim`],
    /// [`ReceivedMessage::authentication`]): a DKIM key at
    /// `selector._domainkey.domain` (`v=DKIM1; k=rsa; p=...`), an SPF policy at
    /// the domain (`v=spf1 ip4:127.0.0.1 -all`), a DMARC policy at
    /// `_dmarc.domain` (`v=DMARC1; p=reject`). Several values may share a
    /// name. These records are all the checks see: nothing is asked of real
    /// DNS, and a name without a record does not exist.
    ///
    /// ```
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::builder()
    ///     .dns_txt("example.com", "v=spf1 ip4:127.0.0.1 -all")
    ///     .dns_txt("_dmarc.example.com", "v=DMARC1; p=reject")
    ///     .start();
    /// # drop(server);
    /// ```
    ///
    /// [`ReceivedMessage::dkim`]: crate::ReceivedMessage::dkim
    /// [`ReceivedMessage::authentication`]: crate::ReceivedMessage::authentication
    #[cfg(feature = "dkim")]
    pub fn dns_txt(mut self, name: &str, value: &str) -> Builder {
        self.dns_txt
            .push((DnsRecords::normalized(name), value.to_string()));
        self
    }

    /// Starts the server; the port listens when this returns.
    ///
    /// # Panics
    ///
    /// When the port cannot be bound or the options do not go together;
    /// [`Builder::try_start`] returns the error instead.
    #[track_caller]
    pub fn start(self) -> TestSmtpServer {
        let addr = SocketAddr::new(self.ip, self.port);
        self.try_start()
            .unwrap_or_else(|error| panic!("smtp-fixture: cannot start a test server on {addr}: {error}"))
    }

    /// Starts the server, or says why it could not.
    pub fn try_start(self) -> io::Result<TestSmtpServer> {
        let store = Arc::new(Store::default().with_dns(DnsRecords::new(self.dns_txt)));
        let inboxes = Arc::new(Inboxes::new(store.clone(), usize::MAX).with_clock(self.clock.clone()));
        let script = Arc::new(Script::reporting_to(inboxes.clone()).with_clock(self.clock.clone()));
        if let Some(count) = self.messages_per_connection {
            script.add(Trigger::mail_from(None), Action::per_connection(count));
        }
        if let Some(delay) = self.greylist {
            script.add(Trigger::rcpt_to(None), Action::greylist(delay));
        }
        let handler = Scripted {
            inner: InboxRouted {
                inner: Recorder::new(store.clone(), self.auth),
                inboxes: inboxes.clone(),
            },
            script: script.clone(),
        };
        let mut server = SmtpServer::new(self.config, handler)
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?
            .with_settings(self.settings);
        if let Some(timeout) = self.proxy_header_timeout {
            server = server.with_proxy_protocol(timeout);
        }
        #[cfg(feature = "tls")]
        let mut certificate = None;
        #[cfg(feature = "tls")]
        if let Some(choice) = &self.tls {
            let tls = choice.certificate()?;
            certificate = Some((tls.certificate_pem().to_string(), tls.certificate_der().to_vec()));
            server = if choice.implicit {
                server.with_implicit_tls(tls)
            } else {
                server.with_starttls(tls)
            };
        }
        // Bound here, in the caller's thread: the port accepts connections
        // (into the backlog) before this function returns.
        let listener = std::net::TcpListener::bind(SocketAddr::new(self.ip, self.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stop_requested) = oneshot::channel::<()>();
        let (stopped_tx, stopped) = mpsc::channel();
        runtime().spawn(async move {
            if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
                let shutdown = async {
                    let _ = stop_requested.await;
                };
                let _ = server.run(listener, shutdown).await;
            }
            let _ = stopped_tx.send(());
        });
        #[cfg(feature = "http")]
        let http = match self.http_api {
            Some(start) => Some(start(
                self.ip,
                addr,
                store.clone(),
                script.clone(),
                inboxes.clone(),
            )?),
            None => None,
        };
        Ok(TestSmtpServer {
            #[cfg(feature = "http")]
            http,
            addr,
            store,
            script,
            inboxes,
            wait_timeout: self.wait_timeout,
            stop: Some(stop),
            stopped: Mutex::new(stopped),
            keep_artifacts: self.keep_artifacts,
            #[cfg(feature = "tls")]
            certificate,
        })
    }
}
