//! The HTTP side of [`RemoteServer`](crate::RemoteServer): the service's
//! routes called with ureq, and the waits built on its long poll
//! (`/api/v1/wait`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::protocol::Envelope;
use crate::testing::inspecting::message::ReceivedMessage;

/// Messages one listing asks for: the service keeps 5 000 unless told.
const LISTED: usize = 100_000;

/// A connection to one service, scoped to an inbox or not.
#[derive(Clone)]
pub(crate) struct Remote {
    agent: ureq::Agent,
    /// `http://127.0.0.1:8026`, no trailing slash.
    pub(crate) base: String,
    /// The inbox ID the reads are scoped to (`inbox:ID`).
    pub(crate) inbox: Option<String>,
    pub(crate) wait_timeout: Duration,
}

impl Remote {
    pub(crate) fn new(base: &str, wait_timeout: Duration) -> Remote {
        let agent = ureq::Agent::config_builder()
            // A 4xx is an answer to read (408: the wait timed out).
            .http_status_as_error(false)
            // The longest call is a long poll of at most the wait timeout.
            .timeout_global(Some(wait_timeout + Duration::from_secs(30)))
            .build()
            .into();
        Remote {
            agent,
            base: base.trim_end_matches('/').to_string(),
            inbox: None,
            wait_timeout,
        }
    }

    /// The same service, scoped to inbox `id`.
    pub(crate) fn scoped(&self, id: &str) -> Remote {
        Remote {
            inbox: Some(id.to_string()),
            ..self.clone()
        }
    }

    /// Calls `method path` with an optional JSON body; the status and the
    /// JSON answered (`null` when it is not JSON).
    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let answer = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            ("POST", None) => self.agent.post(&url).send_empty(),
            ("POST", Some(body)) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            ("PATCH", Some(body)) => self
                .agent
                .patch(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
            _ => unreachable!("{method} {path}"),
        };
        let mut answer = answer.map_err(|error| format!("{method} {url}: {error}"))?;
        let status = answer.status().as_u16();
        let text = answer
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
            .map_err(|error| format!("{method} {url}: {error}"))?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// [`call`](Self::call) that wants a 2xx.
    pub(crate) fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        match self.call(method, path, body)? {
            (200..=299, json) => Ok(json),
            (status, json) => Err(format!("{method} {}{path}: {status} {json}", self.base)),
        }
    }

    fn bytes(&self, path: &str) -> Result<Vec<u8>, String> {
        let url = format!("{}{path}", self.base);
        let mut answer = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))?;
        if answer.status().as_u16() != 200 {
            return Err(format!("GET {url}: {}", answer.status()));
        }
        answer
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| format!("GET {url}: {e}"))
    }

    /// `&query=inbox:ID` for a scoped connection.
    fn scope(&self) -> String {
        self.inbox
            .as_ref()
            .map(|id| format!("&query=inbox%3A{id}"))
            .unwrap_or_default()
    }

    /// The messages stored (an inbox's: to its addresses, each with only
    /// its recipients), oldest first.
    pub(crate) fn messages(&self) -> Result<Vec<ReceivedMessage>, String> {
        let list = self.ok(
            "GET",
            &format!("/api/v1/messages?limit={LISTED}{}", self.scope()),
            None,
        )?;
        let ids: Vec<String> = list["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["ID"].as_str().map(str::to_string))
            .collect();
        // Newest first in the listing; a test reads them in order accepted.
        ids.iter().rev().map(|id| self.message(id)).collect()
    }

    fn message(&self, id: &str) -> Result<ReceivedMessage, String> {
        let data = self.bytes(&format!("/api/v1/message/{id}/raw"))?;
        let envelope = self.ok("GET", &format!("/api/v1/message/{id}/envelope"), None)?;
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        let mut rcpt_to: Vec<String> = envelope["To"]
            .as_array()
            .into_iter()
            .flatten()
            .map(text)
            .collect();
        if let Some(inbox) = &self.inbox {
            rcpt_to.retain(|r| {
                crate::testing::inboxes::registry::inbox_id(r)
                    .is_some_and(|id| id.eq_ignore_ascii_case(inbox))
            });
        }
        let mut message = ReceivedMessage::new(
            Envelope {
                mail_from: text(&envelope["From"]),
                rcpt_to,
                ..Envelope::default()
            },
            data,
        );
        message.helo = text(&envelope["Helo"]);
        if let Ok(peer) = text(&envelope["Peer"]).parse::<SocketAddr>() {
            message.peer = peer;
        }
        Ok(message)
    }

    /// The service's long poll: whether `count` messages (in scope) are
    /// stored within `timeout`.
    fn long_poll(&self, count: usize, timeout: Duration) -> Result<bool, String> {
        let path = format!(
            "/api/v1/wait?count={count}&timeout={}ms{}",
            timeout.as_millis().max(1),
            self.scope()
        );
        match self.call("GET", &path, None)? {
            (200, _) => Ok(true),
            (408, _) => Ok(false),
            (status, json) => Err(format!("GET {}{path}: {status} {json}", self.base)),
        }
    }

    /// Polls until `check` finds what it wants in the messages, or the
    /// wait timeout passes (`Err`: what the messages were, for the report).
    pub(crate) fn wait_until<T>(
        &self,
        mut check: impl FnMut(&[ReceivedMessage]) -> Option<T>,
    ) -> Result<T, Waited> {
        let deadline = Instant::now() + self.wait_timeout;
        loop {
            let messages = self.messages().map_err(Waited::Failed)?;
            if let Some(found) = check(&messages) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Waited::TimedOut(messages));
            }
            self.long_poll(messages.len() + 1, left).map_err(Waited::Failed)?;
        }
    }

    /// [`wait_until`](Self::wait_until) without blocking the caller's
    /// runtime: each HTTP call runs on the fixture runtime's blocking
    /// threads, and `check` in the caller's task (so it may borrow).
    pub(crate) async fn wait_until_async<T>(
        &self,
        mut check: impl FnMut(&[ReceivedMessage]) -> Option<T>,
    ) -> Result<T, Waited> {
        let deadline = Instant::now() + self.wait_timeout;
        loop {
            let remote = self.clone();
            let messages = blocking(move || remote.messages())
                .await
                .map_err(Waited::Failed)?;
            if let Some(found) = check(&messages) {
                return Ok(found);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Waited::TimedOut(messages));
            }
            let (remote, count) = (self.clone(), messages.len() + 1);
            blocking(move || remote.long_poll(count, left))
                .await
                .map_err(Waited::Failed)?;
        }
    }
}

/// Why a remote wait ended without its message.
pub(crate) enum Waited {
    /// The timeout passed; the messages there were.
    TimedOut(Vec<ReceivedMessage>),
    /// The service could not be asked.
    Failed(String),
}

impl Waited {
    /// The failure's text: `problem`, and what did arrive.
    pub(crate) fn report(self, problem: &str) -> String {
        match self {
            Waited::Failed(error) => format!("smtp-fixture: {problem}: the service did not answer: {error}"),
            Waited::TimedOut(messages) => {
                let mut text = format!(
                    "smtp-fixture: {problem}\n\nMessages received ({}):\n",
                    messages.len()
                );
                if messages.is_empty() {
                    text.push_str("  (none)\n");
                }
                for (index, message) in messages.iter().enumerate() {
                    text.push_str(&format!("  {}. {}\n", index + 1, message.summary()));
                }
                text
            }
        }
    }
}

async fn blocking<T: Send + 'static>(call: impl FnOnce() -> T + Send + 'static) -> T {
    match crate::testing::starting::runtime::runtime()
        .spawn_blocking(call)
        .await
    {
        Ok(answer) => answer,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    }
}
