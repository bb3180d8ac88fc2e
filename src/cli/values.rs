//! The parsers of flag values that are more than a number or a word:
//! addresses and DNS records.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Why `HOST:PORT` is not an address.
#[derive(Debug)]
pub(crate) enum AddressError {
    /// No colon.
    NoPort(String),
    /// The port is not a number from 0 to 65535.
    BadPort(String),
    /// The host does not resolve.
    BadHost(String, Option<io::Error>),
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::NoPort(text) => write!(f, "Bad spec (want HOST:PORT): {text}"),
            AddressError::BadPort(text) => write!(f, "Bad port: {text}"),
            AddressError::BadHost(host, Some(error)) => write!(f, "Bad host {host}: {error}"),
            AddressError::BadHost(host, None) => write!(f, "Bad host: {host}"),
        }
    }
}

impl Error for AddressError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            AddressError::BadHost(_, Some(error)) => Some(error),
            _ => None,
        }
    }
}

/// `host:port`, `[v6]:port`; the host may be a name.
pub(crate) fn parse_host_port(text: &str) -> Result<SocketAddr, AddressError> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| AddressError::NoPort(text.to_string()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| AddressError::BadPort(text.to_string()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    (host, port)
        .to_socket_addrs()
        .map_err(|error| AddressError::BadHost(host.to_string(), Some(error)))?
        .next()
        .ok_or_else(|| AddressError::BadHost(host.to_string(), None))
}

/// `--dns-txt NAME=VALUE`: split at the first `=` (a TXT value has its own),
/// the name as the checks keep it.
#[cfg(all(feature = "http", feature = "dkim"))]
pub(crate) fn parse_dns_txt(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((crate::testing::DnsRecords::normalized(name), value.to_string()))
        }
        _ => Err(format!(
            "expected NAME=VALUE, e.g. 'example.com=v=spf1 ip4:127.0.0.1 -all', got {text:?}"
        )),
    }
}
