//! The fixture's TLS and AUTH options: a fresh certificate per server, and
//! the credentials it accepts.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::fixture::Builder;
use crate::protocol::auth::{Credentials, Mechanism};
use crate::server::TlsConfig;

/// Which credentials a fixture accepts.
#[derive(Clone, Default)]
pub(crate) enum AuthPolicy {
    /// AUTH is not offered.
    #[default]
    Off,
    /// Any user name and password.
    Any,
    /// These users with these passwords.
    Users(HashMap<String, String>),
    /// Whatever the closure says.
    Check(Arc<dyn Fn(&Credentials) -> bool + Send + Sync>),
}

impl AuthPolicy {
    pub(crate) fn accepts(&self, credentials: &Credentials) -> bool {
        match self {
            AuthPolicy::Off => false,
            AuthPolicy::Any => true,
            AuthPolicy::Users(users) => users
                .get(credentials.username())
                .is_some_and(|password| credentials.check_password(password)),
            AuthPolicy::Check(check) => check(credentials),
        }
    }
}

impl std::fmt::Debug for AuthPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthPolicy::Off => f.write_str("Off"),
            AuthPolicy::Any => f.write_str("Any"),
            AuthPolicy::Users(users) => f.debug_list().entries(users.keys()).finish(),
            AuthPolicy::Check(_) => f.write_str("Check(..)"),
        }
    }
}

/// TLS for a fixture: STARTTLS or implicit, with which certificate.
#[derive(Clone, Debug)]
pub(crate) struct TlsChoice {
    pub(crate) config: Option<TlsConfig>,
    pub(crate) implicit: bool,
}

impl TlsChoice {
    /// The certificate, generated now if none was given.
    pub(crate) fn certificate(&self) -> io::Result<TlsConfig> {
        match &self.config {
            Some(config) => Ok(config.clone()),
            None => TlsConfig::self_signed(),
        }
    }
}

impl Builder {
    /// Offer STARTTLS with a fresh self-signed certificate for `localhost`,
    /// `127.0.0.1` and `::1` (trust it with
    /// [`TestSmtpServer::certificate_pem`](crate::TestSmtpServer::certificate_pem)).
    pub fn starttls(mut self) -> Builder {
        self.tls = Some(TlsChoice {
            config: self.tls.and_then(|t| t.config),
            implicit: false,
        });
        self
    }

    /// Speak TLS from the first byte (implicit TLS, "SMTPS", RFC 8314)
    /// instead of offering STARTTLS.
    pub fn implicit_tls(mut self) -> Builder {
        self.tls = Some(TlsChoice {
            config: self.tls.and_then(|t| t.config),
            implicit: true,
        });
        self
    }

    /// Use this certificate chain and key (PEM) instead of a self-signed
    /// one; implies [`starttls`](Self::starttls) unless
    /// [`implicit_tls`](Self::implicit_tls) is chosen.
    ///
    /// # Panics
    ///
    /// If the PEM cannot be read.
    #[track_caller]
    pub fn tls_certificate(mut self, certificate_chain_pem: &str, private_key_pem: &str) -> Builder {
        let config = TlsConfig::from_pem(certificate_chain_pem, private_key_pem)
            .unwrap_or_else(|error| panic!("smtp-fixture: unusable TLS certificate: {error}"));
        let implicit = self.tls.as_ref().is_some_and(|t| t.implicit);
        self.tls = Some(TlsChoice {
            config: Some(config),
            implicit,
        });
        self
    }

    /// Close a connection whose TLS handshake has not finished after
    /// `timeout` (default 10 s), as a mail server protects itself from a
    /// client that stalls mid-handshake.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Builder {
        self.config.tls_handshake_timeout = timeout;
        self
    }

    /// Refuse MAIL and AUTH with `530 5.7.0 Must issue a STARTTLS command
    /// first` until the session is encrypted.
    pub fn require_tls(mut self, require: bool) -> Builder {
        self.config.require_tls = require;
        self
    }

    /// Offer AUTH and accept `username` with `password` (call again for
    /// more users).
    pub fn auth_user(mut self, username: &str, password: &str) -> Builder {
        let mut users = match self.auth {
            AuthPolicy::Users(users) => users,
            _ => HashMap::new(),
        };
        users.insert(username.to_string(), password.to_string());
        self.auth = AuthPolicy::Users(users);
        self.with_default_mechanisms()
    }

    /// Offer AUTH and accept any credentials.
    pub fn auth_any(mut self) -> Builder {
        self.auth = AuthPolicy::Any;
        self.with_default_mechanisms()
    }

    /// Offer AUTH and accept the credentials for which `check` holds (use
    /// [`Credentials::check_password`] for CRAM-MD5).
    pub fn auth_with(mut self, check: impl Fn(&Credentials) -> bool + Send + Sync + 'static) -> Builder {
        self.auth = AuthPolicy::Check(Arc::new(check));
        self.with_default_mechanisms()
    }

    /// Which AUTH mechanisms to offer (default: PLAIN, LOGIN, CRAM-MD5 and
    /// XOAUTH2 once AUTH is on).
    pub fn auth_mechanisms(mut self, mechanisms: &[Mechanism]) -> Builder {
        self.config.auth_mechanisms = mechanisms.to_vec();
        self
    }

    /// Refuse MAIL with `530` until the client authenticated.
    pub fn require_auth(mut self, require: bool) -> Builder {
        self.config.require_auth = require;
        self
    }

    /// Refuse AUTH with `538` on an unencrypted session (off by default, so
    /// tests on loopback can authenticate without TLS).
    pub fn auth_requires_tls(mut self, require: bool) -> Builder {
        self.config.auth_requires_tls = require;
        self
    }

    /// Announce PIPELINING (on by default), to test clients against servers
    /// without it.
    pub fn pipelining(mut self, announce: bool) -> Builder {
        self.config.pipelining = announce;
        self
    }

    /// Announce ENHANCEDSTATUSCODES (RFC 2034) and put RFC 3463 codes on the
    /// server's replies (`503 5.5.1 Error: need MAIL command`). Off by
    /// default, like the reference.
    pub fn enhanced_status_codes(mut self, on: bool) -> Builder {
        self.config.enhanced_status_codes = on;
        self
    }

    fn with_default_mechanisms(mut self) -> Builder {
        if self.config.auth_mechanisms.is_empty() {
            self.config.auth_mechanisms = Mechanism::ALL.to_vec();
        }
        self
    }
}
