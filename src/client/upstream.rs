//! [`Upstream`]: where a proxy relays to, and the limits of its client.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The upstream server a proxy relays to, with the limits of the relaying
/// client.
///
/// Every network step is bounded: connecting by
/// [`connect_timeout`](Upstream::connect_timeout), each command's reply by
/// [`command_timeout`](Upstream::command_timeout), sending the message and
/// its final reply by [`data_timeout`](Upstream::data_timeout).
///
/// ```
/// use std::time::Duration;
/// use smtp_fixture::handlers::Upstream;
///
/// let upstream = Upstream::new("mail.example.com:25")
///     .connect_timeout(Duration::from_secs(5))
///     .retries(2, Duration::from_millis(500));
/// assert_eq!(upstream.address(), "mail.example.com:25");
///
/// // A plain address converts too.
/// let upstream: Upstream = "127.0.0.1:2525".into();
/// assert_eq!(upstream.get_retries(), 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub(super) address: String,
    pub(super) connect_timeout: Duration,
    pub(super) command_timeout: Duration,
    pub(super) data_timeout: Duration,
    idle_timeout: Duration,
    pub(super) retries: u32,
    pub(super) retry_delay: Duration,
    helo_name: Option<String>,
}

impl Upstream {
    /// The server at `address`, `host:port` (a name is resolved at every
    /// connection). Defaults: connect timeout 10 s, command timeout 30 s,
    /// data timeout 120 s, idle timeout 300 s, no retries.
    pub fn new(address: impl Into<String>) -> Upstream {
        Upstream {
            address: address.into(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(30),
            data_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(300),
            retries: 0,
            retry_delay: Duration::from_secs(1),
            helo_name: None,
        }
    }

    /// The longest wait for a TCP connection to be established.
    pub fn connect_timeout(mut self, limit: Duration) -> Upstream {
        self.connect_timeout = limit;
        self
    }

    /// The longest wait for the greeting and for the reply to each command
    /// (EHLO, MAIL, RCPT, DATA, QUIT), writing the command included.
    pub fn command_timeout(mut self, limit: Duration) -> Upstream {
        self.command_timeout = limit;
        self
    }

    /// The longest time for writing the message and getting the reply
    /// after its final dot.
    pub fn data_timeout(mut self, limit: Duration) -> Upstream {
        self.data_timeout = limit;
        self
    }

    /// In per-recipient mode, how long an open upstream transaction waits
    /// for the client's next step before it is closed, the time from DATA
    /// to the end of the message included (a backstop: a client that
    /// disconnects closes it at once).
    pub fn idle_timeout(mut self, limit: Duration) -> Upstream {
        self.idle_timeout = limit;
        self
    }

    /// Opening the upstream session (connect, greeting, EHLO/HELO) is tried
    /// `retries` more times after a failure, `delay` apart. Nothing is
    /// retried once the upstream accepted a command of the transaction, so
    /// a retry can never deliver a message twice.
    pub fn retries(mut self, retries: u32, delay: Duration) -> Upstream {
        self.retries = retries;
        self.retry_delay = delay;
        self
    }

    /// The name sent in EHLO/HELO. Default: the proxy's own hostname (the
    /// server's [`Config::hostname`](crate::protocol::Config::hostname)).
    pub fn helo_name(mut self, name: impl Into<String>) -> Upstream {
        self.helo_name = Some(name.into());
        self
    }

    /// The `host:port` relayed to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// How many times opening a session is retried.
    pub fn get_retries(&self) -> u32 {
        self.retries
    }

    /// The idle limit of an open per-recipient transaction.
    pub fn get_idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The name to greet with: the configured one, else `fallback` (the
    /// server's hostname), else `localhost` when that is not a single word
    /// (a space or control character would break the command line).
    pub(crate) fn greeting_name(&self, fallback: &str) -> String {
        let name = self.helo_name.as_deref().unwrap_or(fallback);
        let usable = !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control());
        if usable {
            name.to_string()
        } else {
            "localhost".to_string()
        }
    }
}

impl From<&str> for Upstream {
    fn from(address: &str) -> Upstream {
        Upstream::new(address)
    }
}

impl From<String> for Upstream {
    fn from(address: String) -> Upstream {
        Upstream::new(address)
    }
}

impl From<SocketAddr> for Upstream {
    fn from(address: SocketAddr) -> Upstream {
        Upstream::new(address.to_string())
    }
}

impl fmt::Display for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greeting_names() {
        let upstream = Upstream::new("x:25");
        assert_eq!(upstream.greeting_name("proxy.test"), "proxy.test");
        assert_eq!(upstream.greeting_name("two words"), "localhost");
        assert_eq!(
            upstream.clone().helo_name("me.test").greeting_name("x"),
            "me.test"
        );
    }
}
