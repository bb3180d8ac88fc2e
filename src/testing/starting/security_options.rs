//! The builder's TLS and AUTH options: a fresh certificate per server, the
//! faults it has on purpose, and the credentials it accepts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::builder::Builder;
#[cfg(feature = "tls")]
use super::tls_choice::TlsChoice;
use crate::protocol::auth::{Credentials, Mechanism};
#[cfg(feature = "tls-generate")]
use crate::server::Validity;
#[cfg(feature = "tls")]
use crate::server::{TlsConfig, TlsVersion};
use crate::testing::recording::auth_policy::AuthPolicy;

impl Builder {
    /// TLS as chosen so far, STARTTLS if nothing was.
    #[cfg(feature = "tls")]
    fn tls_choice(&mut self) -> &mut TlsChoice {
        self.tls.get_or_insert_with(TlsChoice::default)
    }

    /// Offer STARTTLS with a fresh certificate for `localhost`, `127.0.0.1`
    /// and `::1`, issued by a CA made for this server (trust the CA with
    /// [`TestSmtpServer::certificate_pem`](crate::TestSmtpServer::certificate_pem)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn starttls(mut self) -> Builder {
        self.tls_choice().implicit = false;
        self
    }

    /// Speak TLS from the first byte (implicit TLS, "SMTPS", RFC 8314)
    /// instead of offering STARTTLS.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn implicit_tls(mut self) -> Builder {
        self.tls_choice().implicit = true;
        self
    }

    /// Use this certificate chain and key (PEM) instead of a fresh one;
    /// implies [`starttls`](Self::starttls) unless
    /// [`implicit_tls`](Self::implicit_tls) is chosen.
    ///
    /// # Panics
    ///
    /// If the PEM cannot be read.
    #[track_caller]
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_certificate(mut self, certificate_chain_pem: &str, private_key_pem: &str) -> Builder {
        let config = TlsConfig::from_pem(certificate_chain_pem, private_key_pem)
            .unwrap_or_else(|error| panic!("smtp-fixture: unusable TLS certificate: {error}"));
        self.tls_choice().config = Some(config);
        self
    }

    /// Present a certificate that expired yesterday (issued by the CA a
    /// client is given, for the right names: only its dates are wrong).
    /// Implies [`starttls`](Self::starttls) unless
    /// [`implicit_tls`](Self::implicit_tls) is chosen. A verifying client
    /// fails the handshake: rustls (lettre) with `certificate expired`,
    /// OpenSSL (Python `ssl`) with `certificate has expired`.
    ///
    /// ```
    /// # #[cfg(feature = "tls-generate")] {
    /// use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    /// use lettre::{Message, SmtpTransport, Transport};
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::builder().tls_certificate_expired().start();
    /// let root = Certificate::from_pem(server.certificate_pem().unwrap().as_bytes()).unwrap();
    /// let tls = TlsParameters::builder("localhost".into()).add_root_certificate(root);
    /// let mailer = SmtpTransport::builder_dangerous(server.host())
    ///     .port(server.port())
    ///     .tls(Tls::Required(tls.build_rustls().unwrap()))
    ///     .build();
    /// let email = Message::builder()
    ///     .from("app@example.com".parse().unwrap())
    ///     .to("ann@example.com".parse().unwrap())
    ///     .body(String::from("hi"))
    ///     .unwrap();
    /// let error = mailer.send(&email).unwrap_err();
    /// assert!(format!("{error:?}").contains("Expired"), "{error:?}");
    /// assert!(server.messages().is_empty());
    /// # }
    /// ```
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub fn tls_certificate_expired(mut self) -> Builder {
        self.tls_choice().faults.validity = Validity::Expired;
        self
    }

    /// Present a certificate that becomes valid only tomorrow (otherwise
    /// sound). rustls reports `certificate not valid yet`, OpenSSL
    /// `certificate is not yet valid`. Implies `starttls()` unless
    /// `implicit_tls()` is chosen.
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub fn tls_certificate_not_yet_valid(mut self) -> Builder {
        self.tls_choice().faults.validity = Validity::NotYetValid;
        self
    }

    /// Present a valid certificate for `name` (e.g. `other.example`)
    /// instead of `localhost`: a hostname mismatch. rustls reports
    /// `certificate not valid for name "localhost"` (`NotValidForName`),
    /// OpenSSL `Hostname mismatch`. Implies `starttls()` unless
    /// `implicit_tls()` is chosen.
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub fn tls_certificate_for(mut self, name: &str) -> Builder {
        self.tls_choice().faults.certificate_for = Some(name.to_string());
        self
    }

    /// Present a certificate from a CA that no client is given:
    /// [`certificate_pem`](crate::TestSmtpServer::certificate_pem) is still
    /// the fixture's own CA, but another one issued the server's
    /// certificate (and the server does not send it). rustls reports
    /// `UnknownIssuer`, OpenSSL `unable to get local issuer certificate`.
    /// Implies `starttls()` unless `implicit_tls()` is chosen.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_untrusted(mut self) -> Builder {
        self.tls_choice().faults.untrusted = true;
        self
    }

    /// Speak only these TLS versions ([`TlsVersion`]), e.g.
    /// `&[TlsVersion::Tls12]` for a server stuck on TLS 1.2 (default: 1.2
    /// and 1.3). A client that
    /// offers none of them gets a `protocol_version` alert (rustls:
    /// `ProtocolVersion`, OpenSSL: `tlsv1 alert protocol version`); the
    /// version a session used is in
    /// [`ReceivedMessage::tls`](crate::ReceivedMessage::tls). Implies
    /// `starttls()` unless `implicit_tls()` is chosen.
    ///
    /// [`TlsVersion`]: crate::server::TlsVersion
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_versions(mut self, versions: &[TlsVersion]) -> Builder {
        self.tls_choice().faults.versions = versions.to_vec();
        self
    }

    /// End every TLS handshake right after reading the ClientHello: the
    /// server closes the connection without sending anything (no alert),
    /// as a crashing or misconfigured server does. The client reads
    /// end-of-file mid-handshake (rustls: `tls handshake eof`, OpenSSL:
    /// `EOF occurred in violation of protocol`); the transcript notes
    /// `scripted: TLS handshake aborted after the ClientHello`. Implies
    /// `starttls()` unless `implicit_tls()` is chosen.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_abort_handshake(mut self) -> Builder {
        self.tls_choice().faults.abort_handshake = true;
        self
    }

    /// Close a connection whose TLS handshake has not finished after
    /// `timeout` (default 10 s), as a mail server protects itself from a
    /// client that stalls mid-handshake.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Builder {
        self.settings.tls_handshake_timeout = timeout;
        self
    }

    /// Refuse MAIL and AUTH with `530 5.7.0 Must issue a STARTTLS command
    /// first` until the session is encrypted.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
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
