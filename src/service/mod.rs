//! Service mode: the fixture's store over HTTP, for test suites that are
//! not written in Rust (feature `http`). Private: its public face is
//! [`Builder::http_api`](crate::Builder::http_api) and the command line's
//! `--http`.
//!
//! [`Service`] serves, from the store the SMTP server records into:
//!
//! - Mailpit's API v1, the routes a test needs, with Mailpit's JSON names
//!   and shapes, so Mailpit's client libraries (npm `mailpit-api`, PyPI
//!   `mailpit-api-client`, `cypress-mailpit`) work unchanged;
//! - Mailpit's chaos triggers (`/api/v1/chaos`), as seeded rules, and its
//!   health probes (`/livez`, `/readyz`);
//! - routes of our own: scripted SMTP replies (`/api/v1/rules`), a long
//!   poll (`/api/v1/wait`), links, snapshots, lint and transcripts of a
//!   message, the refused messages, and an event stream;
//! - a web page at `/`.
//!
//! The command line runs it with `smtp-fixture --http 127.0.0.1:8026`; a
//! Rust test gets one with
//! [`Builder::http_api`](crate::Builder::http_api). The routes are
//! listed in `docs/service.md`.

mod api;
mod authentication;
mod chaos;
mod clock;
mod fixture;
mod html_check;
mod inboxes;
mod mailpit;
mod mailpit_parts;
mod ours;
mod parse;
mod probes;
mod request;
mod rule_body;
mod search;
mod tags;
mod text;
mod thumb;
mod view;
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

use axum::routing::{get, post, put};
use axum::Router;
use tokio::sync::watch;

pub(crate) use crate::testing::Recorded;
pub(crate) use tags::TagSources;

use crate::handler::Handler;
use crate::testing::{Clock, InboxRouted, Inboxes, Script, Scripted};
use crate::testing::{DnsRecords, Store};

/// Serves a fixture's store and rules on a free port of `ip`, on the
/// fixture's runtime, until the returned sender is used or dropped. The
/// port listens when this returns.
pub(crate) fn serve_for_fixture(
    ip: std::net::IpAddr,
    smtp: std::net::SocketAddr,
    store: Arc<Store>,
    script: Arc<Script>,
    inboxes: Arc<Inboxes>,
) -> io::Result<(std::net::SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = std::net::TcpListener::bind((ip, 0))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let (stop, stop_requested) = tokio::sync::oneshot::channel::<()>();
    let service = Service::over(store, script, inboxes, TagSources::default());
    service.smtp_listens_on(smtp);
    crate::testing::runtime().spawn(async move {
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
#[cfg_attr(not(feature = "cli"), allow(dead_code))] // the command line's default
pub(crate) const DEFAULT_MAX_MESSAGES: usize = 5_000;

/// What every route reads: the store, the rules, and the shutdown signal.
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) script: Arc<Script>,
    /// The inboxes made over HTTP (`/api/v1/inboxes`), each with its rules.
    pub(crate) inboxes: Arc<Inboxes>,
    /// Where the SMTP side listens, once bound (`/api/v1/info`'s
    /// `SMTPAddress`).
    pub(crate) smtp: std::sync::OnceLock<std::net::SocketAddr>,
    pub(crate) started: Instant,
    /// Mailpit's chaos triggers, carried out as rules of `script`.
    pub(crate) chaos: chaos::Chaos,
    /// Long polls (`/api/v1/wait`) that found too few messages and are
    /// waiting for more (`/api/v1/info`'s `Waiting`, ours).
    pub(crate) waiting: std::sync::atomic::AtomicUsize,
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
pub(crate) struct Service {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("messages", &self.shared.store.lock().messages.len())
            .finish()
    }
}

#[cfg_attr(not(feature = "cli"), allow(dead_code))] // the command line's way in
impl Service {
    /// A service with an empty store that keeps at most `max_messages`
    /// messages (the oldest are dropped first; at least 1), tagging them
    /// from `tags`; its rules' clock is manual (moved by `POST
    /// /api/v1/clock`) or real.
    pub(crate) fn new(
        max_messages: usize,
        tags: TagSources,
        manual_clock: bool,
        dns_txt: DnsRecords,
    ) -> Service {
        let clock = if manual_clock {
            Clock::manual()
        } else {
            Clock::real()
        };
        let store = Arc::new(Store::bounded(max_messages).with_dns(dns_txt));
        let inboxes = Arc::new(Inboxes::new(store.clone(), max_messages).with_clock(clock.clone()));
        let script = Arc::new(Script::reporting_to(inboxes.clone()).with_clock(clock));
        Service::over(store, script, inboxes, tags)
    }

    /// A service over a fixture's store, rules and inboxes; the messages
    /// stored from now on are tagged from `tags`.
    pub(crate) fn over(
        store: Arc<Store>,
        script: Arc<Script>,
        inboxes: Arc<Inboxes>,
        tags: TagSources,
    ) -> Service {
        store.tag_with(tags.tagger());
        Service {
            shared: Arc::new(Shared {
                store,
                script,
                inboxes,
                smtp: std::sync::OnceLock::new(),
                started: Instant::now(),
                chaos: chaos::Chaos::new(),
                waiting: std::sync::atomic::AtomicUsize::new(0),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The scripted replies: rules added here (or over HTTP) apply to the
    /// SMTP server running [`handler`](Self::handler).
    pub(crate) fn script(&self) -> Arc<Script> {
        self.shared.script.clone()
    }

    /// Tells the service where its SMTP side listens (for `/api/v1/info`).
    pub(crate) fn smtp_listens_on(&self, addr: std::net::SocketAddr) {
        let _ = self.shared.smtp.set(addr);
    }

    /// The SMTP handler for this service: the rules first, then `inner`
    /// (e.g. [`Sink`](crate::handlers::Sink) or a printing handler), and
    /// every accepted message and session transcript recorded into the
    /// store.
    pub(crate) fn handler<H: Handler>(&self, inner: H) -> Scripted<InboxRouted<Recorded<H>>> {
        Scripted {
            inner: InboxRouted {
                inner: Recorded {
                    store: self.shared.store.clone(),
                    inner,
                },
                inboxes: self.shared.inboxes.clone(),
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
            .route("/api/v1/message/{id}/part/{part}/thumb", get(thumb::thumbnail))
            .route("/api/v1/message/{id}/html-check", get(html_check::html_check))
            .route("/api/v1/message/{id}/links", get(ours::links))
            .route("/api/v1/message/{id}/envelope", get(ours::envelope))
            .route("/api/v1/message/{id}/snapshot", get(ours::snapshot))
            .route("/api/v1/message/{id}/lint", get(ours::lint))
            .route(
                "/api/v1/message/{id}/authentication",
                get(authentication::authentication),
            )
            .route("/api/v1/message/{id}/transcript", get(ours::transcript))
            .route("/api/v1/search", get(api::search).delete(api::delete_search))
            .route("/api/v1/tags", get(api::tags).put(api::set_tags))
            .route("/api/v1/tags/{tag}", put(api::rename_tag).delete(api::delete_tag))
            .route(
                "/api/v1/rules",
                get(ours::rules).post(ours::add_rules).delete(ours::delete_rules),
            )
            .route(
                "/api/v1/rules/{id}",
                get(ours::rule).patch(ours::patch_rule).delete(ours::delete_rule),
            )
            .route("/api/v1/wait", get(ours::wait))
            .route("/api/v1/inboxes", post(inboxes::create))
            .route("/api/v1/inboxes/{id}", get(inboxes::show).delete(inboxes::delete))
            .route("/api/v1/rejected", get(ours::rejected))
            .route("/api/v1/events", get(ours::events))
            .route("/api/v1/chaos", get(chaos::get_chaos).put(chaos::set_chaos))
            .route("/api/v1/clock", get(clock::show).post(clock::advance))
            .route("/livez", get(probes::live))
            .route("/readyz", get(probes::ready))
            .route("/view/{file}", get(view::view))
            .route("/", get(web::index))
            .route("/ui/{file}", get(web::asset))
            .fallback(probes::not_found)
            .method_not_allowed_fallback(probes::method_not_allowed)
            .with_state(self.shared.clone())
    }

    /// Serves HTTP on `listener` until `shutdown` completes; then open
    /// event streams and long polls end, and the call returns once every
    /// connection is closed.
    pub(crate) async fn serve(
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

/// A message from a@example.com to b@ and hidden@example.com (one not in
/// its headers) with `data`, for the service's unit tests.
#[cfg(test)]
pub(crate) fn test_message(data: &str) -> crate::ReceivedMessage {
    crate::ReceivedMessage::new(
        crate::Envelope {
            mail_from: "a@example.com".into(),
            rcpt_to: vec!["b@example.com".into(), "hidden@example.com".into()],
            ..crate::Envelope::default()
        },
        data.to_string(),
    )
}
