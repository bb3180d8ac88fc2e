//! [`RemoteServer`]: the fixture's calls against `smtp-fixture --http` in
//! another process, and its [`RemoteInbox`] and [`RemoteRule`].

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::panic::Location;
use std::time::Duration;

use super::client::Remote;
use super::rule::{add_rule, expect, RemoteRule};
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::reporting::report;
use crate::testing::scripting::action::Action;
use crate::testing::scripting::trigger::Trigger;
use crate::testing::starting::builder::default_wait_timeout;
use crate::testing::waiting::recipients::addressed_to;

/// The environment variable [`RemoteServer::connect_from_env`] reads: the
/// service's base URL, e.g. `http://127.0.0.1:8026`.
pub const URL_ENV: &str = "SMTP_FIXTURE_URL";

/// A service-mode `smtp-fixture --http ...` in another process (a nextest
/// setup script's, a docker-compose service), with the fixture's calls:
/// a test written against [`TestSmtpServer`](crate::TestSmtpServer) runs
/// against it by changing the line that makes the server. Feature
/// `remote`.
///
/// The reads and waits go over the service's HTTP API (the waits on its
/// long poll, `/api/v1/wait`); rules are sent in the text form the command
/// line and `POST /api/v1/rules` take, so a rule with a closure (a
/// predicate, `on::message_matching`) cannot be sent and panics. Each
/// message read is fetched whole: made for a test's few messages, not for
/// thousands.
///
/// ```no_run
/// use smtp_fixture::{on, RemoteServer, Reply};
///
/// let server = RemoteServer::connect_from_env(); // SMTP_FIXTURE_URL=http://127.0.0.1:8026
/// let inbox = server.inbox();
/// inbox.respond(on::rcpt_to(&inbox.address("gone")), Reply::new(550, "5.1.1 No such user")).times(1);
/// // ... the application sends to inbox.address("ann") via server.host():server.port() ...
/// let message = inbox.wait_for_first_message();
/// assert_eq!(message.subject().as_deref(), Some("Welcome"));
/// ```
pub struct RemoteServer {
    remote: Remote,
    smtp: SocketAddr,
}

impl RemoteServer {
    /// Connects to the service at `url` (`http://host:port`) and asks it
    /// where its SMTP side listens.
    ///
    /// # Panics
    ///
    /// When the service does not answer, naming the URL.
    #[track_caller]
    pub fn connect(url: &str) -> RemoteServer {
        RemoteServer::try_connect(url)
            .unwrap_or_else(|error| panic!("smtp-fixture: cannot connect to {url}: {error}"))
    }

    /// [`connect`](Self::connect) to the URL in `SMTP_FIXTURE_URL`.
    ///
    /// # Panics
    ///
    /// When the variable is not set, or as `connect`.
    #[track_caller]
    pub fn connect_from_env() -> RemoteServer {
        match std::env::var(URL_ENV) {
            Ok(url) => RemoteServer::connect(&url),
            Err(error) => panic!(
                "smtp-fixture: {URL_ENV}: {error}: start `smtp-fixture --http 127.0.0.1:8026 127.0.0.1:2525` \
                 and set {URL_ENV}=http://127.0.0.1:8026"
            ),
        }
    }

    /// [`connect`](Self::connect), or why not.
    pub fn try_connect(url: &str) -> Result<RemoteServer, String> {
        let remote = Remote::new(url, default_wait_timeout());
        let info = remote.ok("GET", "/api/v1/info", None)?;
        let reported: SocketAddr = info["SMTPAddress"]
            .as_str()
            .and_then(|addr| addr.parse().ok())
            .ok_or_else(|| format!("{url}/api/v1/info names no SMTPAddress: is it smtp-fixture --http?"))?;
        Ok(RemoteServer {
            smtp: reachable(reported, &remote.base),
            remote,
        })
    }

    /// Waits last `timeout` before failing (default: `SMTP_FIXTURE_TIMEOUT`,
    /// else 5 s), for this server and the inboxes it makes after.
    pub fn with_wait_timeout(mut self, timeout: Duration) -> RemoteServer {
        self.remote = Remote::new(&self.remote.base, timeout);
        self
    }

    /// The SMTP address, as the service reports it (a service listening
    /// on all addresses is reached at the host of its URL).
    pub fn addr(&self) -> SocketAddr {
        self.smtp
    }

    /// The SMTP host as text, e.g. `127.0.0.1`.
    pub fn host(&self) -> String {
        self.smtp.ip().to_string()
    }

    /// The SMTP port.
    pub fn port(&self) -> u16 {
        self.smtp.port()
    }

    /// The service's base URL.
    pub fn url(&self) -> &str {
        &self.remote.base
    }

    /// Deletes every stored message.
    pub fn clear(&self) {
        expect(self.remote.ok("DELETE", "/api/v1/messages", None));
    }

    /// Removes every rule of the service (not those of its inboxes).
    pub fn clear_rules(&self) {
        expect(self.remote.ok("DELETE", "/api/v1/rules", None));
    }

    /// Moves the service's rule clock forward (`POST /api/v1/clock`), as
    /// [`TestSmtpServer::advance`](crate::TestSmtpServer::advance): with
    /// `--manual-clock` the service's greylisting delays and rate-limit
    /// windows move only so.
    pub fn advance(&self, by: Duration) {
        let body = serde_json::json!({ "advance": format!("{}ms", by.as_millis()) });
        expect(self.remote.ok("POST", "/api/v1/clock", Some(&body)));
    }

    /// A new inbox on the service (`POST /api/v1/inboxes`), deleted with
    /// its messages and rules when dropped: see [`Inbox`](crate::Inbox).
    pub fn inbox(&self) -> RemoteInbox {
        let made = expect(self.remote.ok("POST", "/api/v1/inboxes", None));
        let id = made["ID"].as_str().unwrap_or_default().to_string();
        let domain = made["Domain"].as_str().unwrap_or_default().to_string();
        RemoteInbox {
            remote: self.remote.scoped(&id),
            id,
            domain,
        }
    }
}

/// A service's SMTP address as a client elsewhere reaches it.
fn reachable(reported: SocketAddr, base: &str) -> SocketAddr {
    if !reported.ip().is_unspecified() {
        return reported;
    }
    let host = base
        .split_once("://")
        .map_or(base, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    let ip = host
        .parse::<IpAddr>()
        .ok()
        .or_else(|| (host, 0).to_socket_addrs().ok()?.next().map(|a| a.ip()));
    ip.map_or(reported, |ip| SocketAddr::new(ip, reported.port()))
}

/// One test's inbox on a [`RemoteServer`], as [`Inbox`](crate::Inbox) is
/// on a [`TestSmtpServer`](crate::TestSmtpServer). Dropping it deletes it,
/// its messages and its rules on the service.
pub struct RemoteInbox {
    remote: Remote,
    id: String,
    domain: String,
}

impl RemoteInbox {
    /// An address of this inbox: `name@ID.inbox.test`.
    pub fn address(&self, name: &str) -> String {
        format!("{name}@{}", self.domain)
    }

    /// The inbox's ID on the service (the search term is `inbox:ID`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The domain of its addresses.
    pub fn domain(&self) -> &str {
        &self.domain
    }
}

impl Drop for RemoteInbox {
    fn drop(&mut self) {
        // Best effort: the service may be gone already at the end of a run.
        let _ = self
            .remote
            .call("DELETE", &format!("/api/v1/inboxes/{}", self.id), None);
    }
}

/// The fixture's reading, waiting and scripting calls, written once for a
/// remote server and a remote inbox.
macro_rules! remote_calls {
    ($remote:ident) => {
        impl $remote {
            /// How long waits last before failing (`SMTP_FIXTURE_TIMEOUT`, else 5 s).
            pub fn wait_timeout(&self) -> Duration {
                self.remote.wait_timeout
            }

            /// The messages stored, oldest first (an inbox's: to its
            /// addresses, each with only its recipients in `rcpt_to`).
            #[track_caller]
            pub fn messages(&self) -> Vec<ReceivedMessage> {
                expect(self.remote.messages())
            }

            /// Scripts a reply, as [`TestSmtpServer::respond`](crate::TestSmtpServer::respond)
            /// (an inbox's: for its recipients only).
            #[track_caller]
            pub fn respond(&self, trigger: Trigger, action: impl Into<Action>) -> RemoteRule {
                add_rule(&self.remote, &trigger, action.into())
            }

            /// Blocks until at least `count` messages are stored; returns them all.
            #[track_caller]
            pub fn wait_for_messages(&self, count: usize) -> Vec<ReceivedMessage> {
                let found = self
                    .remote
                    .wait_until(|m| (m.len() >= count).then(|| m.to_vec()));
                found.unwrap_or_else(|waited| {
                    panic!(
                        "{}",
                        waited.report(&count_problem(count, self.remote.wait_timeout))
                    )
                })
            }

            /// [`wait_for_messages`](Self::wait_for_messages) for async tests.
            #[track_caller]
            pub fn wait_for_messages_async(
                &self,
                count: usize,
            ) -> impl Future<Output = Vec<ReceivedMessage>> + '_ {
                let caller = Location::caller();
                async move {
                    let found = self
                        .remote
                        .wait_until_async(|m| (m.len() >= count).then(|| m.to_vec()))
                        .await;
                    found.unwrap_or_else(|waited| {
                        report::panic_at(
                            caller,
                            waited.report(&count_problem(count, self.remote.wait_timeout)),
                        )
                    })
                }
            }

            /// Blocks until a message is stored; returns the first.
            #[track_caller]
            pub fn wait_for_first_message(&self) -> ReceivedMessage {
                self.wait_for_messages(1).swap_remove(0)
            }

            /// [`wait_for_first_message`](Self::wait_for_first_message) for async tests.
            #[track_caller]
            pub fn wait_for_first_message_async(&self) -> impl Future<Output = ReceivedMessage> + '_ {
                let waiting = self.wait_for_messages_async(1);
                async move { waiting.await.swap_remove(0) }
            }

            /// Blocks until a message for which `matches` holds is stored; returns it.
            #[track_caller]
            pub fn wait_for_message(&self, matches: impl Fn(&ReceivedMessage) -> bool) -> ReceivedMessage {
                let found = self
                    .remote
                    .wait_until(|m| m.iter().find(|m| matches(m)).cloned());
                found.unwrap_or_else(|waited| panic!("{}", waited.report("no message matched the predicate")))
            }

            /// [`wait_for_message`](Self::wait_for_message) for async tests.
            #[track_caller]
            pub fn wait_for_message_async<'a>(
                &'a self,
                matches: impl Fn(&ReceivedMessage) -> bool + 'a,
            ) -> impl Future<Output = ReceivedMessage> + 'a {
                let caller = Location::caller();
                async move {
                    let found = self
                        .remote
                        .wait_until_async(|m| m.iter().find(|m| matches(m)).cloned())
                        .await;
                    found.unwrap_or_else(|waited| {
                        report::panic_at(caller, waited.report("no message matched the predicate"))
                    })
                }
            }

            /// Blocks until a message to `address` (an envelope recipient) is stored.
            #[track_caller]
            pub fn wait_for_message_to(&self, address: &str) -> ReceivedMessage {
                let found = self
                    .remote
                    .wait_until(|m| m.iter().find(|m| addressed_to(m, address)).cloned());
                found
                    .unwrap_or_else(|waited| panic!("{}", waited.report(&format!("no message to {address}"))))
            }

            /// [`wait_for_message_to`](Self::wait_for_message_to) for async tests.
            #[track_caller]
            pub fn wait_for_message_to_async<'a>(
                &'a self,
                address: &'a str,
            ) -> impl Future<Output = ReceivedMessage> + 'a {
                let caller = Location::caller();
                async move {
                    let found = self
                        .remote
                        .wait_until_async(|m| m.iter().find(|m| addressed_to(m, address)).cloned())
                        .await;
                    found.unwrap_or_else(|waited| {
                        report::panic_at(caller, waited.report(&format!("no message to {address}")))
                    })
                }
            }

            /// Checks that exactly `count` messages are stored, waiting up to
            /// the wait timeout for them to arrive.
            #[track_caller]
            pub fn assert_message_count(&self, count: usize) {
                let messages = self
                    .remote
                    .wait_until(|m| (m.len() >= count).then(|| m.to_vec()));
                let messages = messages.unwrap_or_else(|waited| {
                    panic!(
                        "{}",
                        waited.report(&count_problem(count, self.remote.wait_timeout))
                    )
                });
                if messages.len() != count {
                    panic!(
                        "smtp-fixture: expected {count} messages, got {}",
                        messages.len()
                    );
                }
            }
        }
    };
}

remote_calls!(RemoteServer);
remote_calls!(RemoteInbox);

fn count_problem(count: usize, timeout: Duration) -> String {
    format!("expected at least {count} message(s) within {timeout:?}")
}

impl fmt::Debug for RemoteServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteServer")
            .field("url", &self.remote.base)
            .field("smtp", &self.smtp)
            .finish()
    }
}

impl fmt::Debug for RemoteInbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteInbox")
            .field("domain", &self.domain)
            .finish()
    }
}
