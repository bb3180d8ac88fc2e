//! Service mode: the fixture's store over HTTP, for test suites that are
//! not written in Rust (feature `http`).
//!
//! [`Service`] serves, from the store the SMTP server records into:
//!
//! - Mailpit's API v1, the routes a test needs, with Mailpit's JSON names
//!   and shapes, so Mailpit's client libraries (npm `mailpit-api`, PyPI
//!   `mailpit-api-client`, `cypress-mailpit`) work unchanged;
//! - routes of our own: scripted SMTP replies (`/api/v1/rules`), a long
//!   poll (`/api/v1/wait`), links, snapshots, lint and transcripts of a
//!   message, the refused messages, and an event stream;
//! - a web page at `/`.
//!
//! The command line runs it with `smtp-fixture --http 127.0.0.1:8026`; a
//! Rust test gets one with
//! [`Builder::http_api`](crate::testing::Builder::http_api). The routes are
//! listed in `docs/service.md`.
//!
//! ```
//! use smtp_fixture::service::Service;
//! use smtp_fixture::handlers::Sink;
//! use smtp_fixture::{Config, SmtpServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let service = Service::new(5_000);
//! let smtp = SmtpServer::new(Config::default(), service.handler(Sink)).unwrap();
//! let smtp_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let stop = async {};
//! tokio::spawn(async move { smtp.run(smtp_listener, std::future::pending::<()>()).await });
//! service.serve(http_listener, stop).await?; // until `stop` completes
//! # Ok(())
//! # }
//! ```

mod api;
mod fixture;
mod mailpit;
mod ours;
mod request;
mod search;
mod text;
mod web;

/// The search parser, gathered for [`crate::fuzzing`] only.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    pub use super::search::{search_day, search_matches};
}

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use axum::routing::{get, put};
use axum::Router;
use tokio::sync::watch;

pub use crate::testing::recorder::Recorded;

use crate::handler::Handler;
use crate::testing::rules::{Script, Scripted};
use crate::testing::store::Store;

/// Serves a fixture's store and rules on a free port of `ip`, on the
/// fixture's runtime, until the returned sender is used or dropped. The
/// port listens when this returns.
pub(crate) fn serve_for_fixture(
    ip: std::net::IpAddr,
    store: Arc<Store>,
    script: Arc<Script>,
) -> io::Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind((ip, 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
    let service = Service::over(store, script);
    crate::testing::runtime::runtime().spawn(async move {
        if let Ok(listener) = tokio::net::TcpListener::from_std(listener) {
            let shutdown = async {
                let _ = stop_requested.await;
            };
            let _ = service.serve(listener, shutdown).await;
        }
    });
    Ok((addr, stop))
}

/// Messages a service keeps unless told otherwise; beyond it the oldest go.
pub const DEFAULT_MAX_MESSAGES: usize = 5_000;

/// What every route reads: the store, the rules, and the shutdown signal.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) script: Arc<Script>,
    pub(crate) started: Instant,
    /// Becomes `true` when the service stops, ending event streams and
    /// long polls so that the shutdown does not wait for them.
    pub(crate) closing: watch::Sender<bool>,
}

impl Shared {
    /// Completes when the service stops.
    pub(crate) async fn closed(&self) {
        let mut closing = self.closing.subscribe();
        let _ = closing.wait_for(|closing| *closing).await;
    }
}

/// The HTTP side of service mode: Mailpit's API, our routes and the web
/// page, over a store that an SMTP server records into (see the
/// [module docs](self)).
#[derive(Clone)]
pub struct Service {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("messages", &self.shared.store.lock().messages.len())
            .finish()
    }
}

impl Service {
    /// A service with an empty store that keeps at most `max_messages`
    /// messages (the oldest are dropped first; at least 1).
    pub fn new(max_messages: usize) -> Service {
        let store = Arc::new(Store::bounded(max_messages));
        let script = Arc::new(Script::reporting_to(store.clone()));
        Service::over(store, script)
    }

    /// A service over a fixture's store and rules.
    pub(crate) fn over(store: Arc<Store>, script: Arc<Script>) -> Service {
        Service {
            shared: Arc::new(Shared {
                store,
                script,
                started: Instant::now(),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The scripted replies: rules added here (or over HTTP) apply to the
    /// SMTP server running [`handler`](Self::handler).
    pub fn script(&self) -> Arc<Script> {
        self.shared.script.clone()
    }

    /// The SMTP handler for this service: the rules first, then `inner`
    /// (e.g. [`Sink`](crate::handlers::Sink) or a printing handler), and
    /// every accepted message and session transcript recorded into the
    /// store.
    pub fn handler<H: Handler>(&self, inner: H) -> Scripted<Recorded<H>> {
        Scripted {
            inner: Recorded {
                store: self.shared.store.clone(),
                inner,
            },
            script: self.shared.script.clone(),
        }
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/api/v1/info", get(api::info))
            .route("/api/v1/webui", get(api::webui))
            .route(
                "/api/v1/messages",
                get(api::list).put(api::set_read).delete(api::delete_messages),
            )
            .route("/api/v1/message/{id}", get(api::message))
            .route("/api/v1/message/{id}/headers", get(api::message_headers))
            .route("/api/v1/message/{id}/raw", get(api::raw))
            .route("/api/v1/message/{id}/part/{part}", get(api::part))
            .route("/api/v1/message/{id}/links", get(ours::links))
            .route("/api/v1/message/{id}/snapshot", get(ours::snapshot))
            .route("/api/v1/message/{id}/lint", get(ours::lint))
            .route("/api/v1/message/{id}/transcript", get(ours::transcript))
            .route("/api/v1/search", get(api::search).delete(api::delete_search))
            .route("/api/v1/tags", get(api::tags).put(api::set_tags))
            .route("/api/v1/tags/{tag}", put(api::rename_tag).delete(api::delete_tag))
            .route(
                "/api/v1/rules",
                get(ours::rules).post(ours::add_rules).delete(ours::delete_rules),
            )
            .route("/api/v1/wait", get(ours::wait))
            .route("/api/v1/rejected", get(ours::rejected))
            .route("/api/v1/events", get(ours::events))
            .route("/view/{file}", get(api::view))
            .route("/", get(web::index))
            .route("/ui/{file}", get(web::asset))
            .fallback(api::not_found)
            .with_state(self.shared.clone())
    }

    /// Serves HTTP on `listener` until `shutdown` completes; then open
    /// event streams and long polls end, and the call returns once every
    /// connection is closed.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let shared = self.shared.clone();
        let stop = async move {
            shutdown.await;
            shared.closing.send_replace(true);
        };
        axum::serve(listener, self.router())
            .with_graceful_shutdown(stop)
            .await
    }
}
