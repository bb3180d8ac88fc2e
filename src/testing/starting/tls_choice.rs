//! TLS for a fixture: STARTTLS or implicit, which certificate, and what is
//! wrong with it on purpose.

use std::io;

use crate::server::{TlsConfig, TlsFaults};

/// TLS for a fixture: STARTTLS or implicit, with which certificate, and
/// what is wrong with it on purpose.
#[derive(Clone, Debug, Default)]
pub(crate) struct TlsChoice {
    pub(crate) config: Option<TlsConfig>,
    pub(crate) implicit: bool,
    pub(crate) faults: TlsFaults,
}

impl TlsChoice {
    /// The certificate, issued now by a fresh test CA if none was given.
    pub(crate) fn certificate(&self) -> io::Result<TlsConfig> {
        let faults = &self.faults;
        match &self.config {
            None => Ok(TlsConfig::test_ca(faults)?),
            Some(_) if faults.touches_certificate() => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "tls_certificate() and a certificate fault (tls_certificate_expired(), \
                 tls_certificate_not_yet_valid(), tls_certificate_for(), tls_untrusted()) do not go \
                 together: the fixture issues the faulty certificate itself",
            )),
            Some(own) => Ok(own
                .clone()
                .with_versions(&faults.versions)?
                .with_handshake_abort(faults.abort_handshake)),
        }
    }
}
