//! TLS for the server (feature `tls`): the certificate (self-signed, from a
//! test CA, or supplied), the protocol versions, and the acceptor.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

use super::stream::Stream;
use super::tls_faults::{self, TlsFaults, TlsVersion};
use crate::protocol::TlsInfo;

/// A server certificate with its key, ready to accept TLS connections.
///
/// ```
/// use smtp_fixture::server::TlsConfig;
/// let tls = TlsConfig::self_signed().unwrap();
/// assert!(tls.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
    /// What a client should trust.
    certificate_pem: String,
    certificate_der: Vec<u8>,
    /// The chain and key the server presents, to build the acceptor again
    /// with other versions.
    identity: Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    versions: Vec<TlsVersion>,
    abort_handshake: bool,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("certificate_der_len", &self.certificate_der.len())
            .field("versions", &self.versions)
            .field("abort_handshake", &self.abort_handshake)
            .finish()
    }
}

fn invalid(error: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
}

/// How a handshake ended when it did not fail.
pub(crate) enum Handshake {
    /// TLS is on.
    Done(Stream, TlsInfo),
    /// Ended on purpose after the ClientHello ([`TlsConfig::with_handshake_abort`]);
    /// what the transcript says about it.
    Aborted(String),
}

impl TlsConfig {
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and
    /// `::1`.
    pub fn self_signed() -> io::Result<TlsConfig> {
        let names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let generated = rcgen::generate_simple_self_signed(names).map_err(invalid)?;
        TlsConfig::from_pem(&generated.cert.pem(), &generated.signing_key.serialize_pem())
    }

    /// A fresh CA made for this server, and a certificate it issued for
    /// `localhost`, `127.0.0.1` and `::1`, both but for `faults`: what the
    /// fixture and `smtp-fixture --tls` use.
    /// [`certificate_pem`](Self::certificate_pem) is the CA's certificate,
    /// the root a client should trust; with
    /// [`untrusted`](TlsFaults::untrusted) the server's certificate comes
    /// from another CA, which no client is given. The server presents its
    /// certificate alone, without the CA's.
    ///
    /// ```
    /// use smtp_fixture::server::{TlsConfig, TlsFaults};
    /// let tls = TlsConfig::test_ca(&TlsFaults::default()).unwrap();
    /// assert!(tls.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// ```
    pub fn test_ca(faults: &TlsFaults) -> io::Result<TlsConfig> {
        let issued = tls_faults::issue(faults).map_err(invalid)?;
        let mut config = TlsConfig::from_pem(&issued.server_pem, &issued.server_key_pem)?;
        config.certificate_der = CertificateDer::from_pem_slice(issued.ca_pem.as_bytes())
            .map_err(|e| invalid(format!("CA certificate PEM: {e}")))?
            .to_vec();
        config.certificate_pem = issued.ca_pem;
        Ok(config
            .with_versions(&faults.versions)?
            .with_handshake_abort(faults.abort_handshake))
    }

    /// The certificate chain and private key given as PEM text.
    pub fn from_pem(certificate_chain: &str, private_key: &str) -> io::Result<TlsConfig> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(certificate_chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| invalid(format!("certificate PEM: {e}")))?;
        let first = chain
            .first()
            .ok_or_else(|| invalid("the certificate PEM holds no certificate"))?;
        let certificate_der = first.to_vec();
        let certificate_pem = certificate_chain.to_string();
        let key = PrivateKeyDer::from_pem_slice(private_key.as_bytes())
            .map_err(|e| invalid(format!("private key PEM: {e}")))?;
        let identity = Arc::new((chain, key));
        Ok(TlsConfig {
            acceptor: acceptor(&identity, &[])?,
            certificate_pem,
            certificate_der,
            identity,
            versions: Vec::new(),
            abort_handshake: false,
        })
    }

    /// Reads the PEM files.
    pub fn from_pem_files(certificate: &std::path::Path, key: &std::path::Path) -> io::Result<TlsConfig> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        };
        TlsConfig::from_pem(&read(certificate)?, &read(key)?)
    }

    /// Speaks only these protocol versions (empty: TLS 1.2 and 1.3, the
    /// default). A client that offers none of them gets a
    /// `protocol_version` alert.
    ///
    /// ```
    /// use smtp_fixture::server::{TlsConfig, TlsVersion};
    /// let tls = TlsConfig::self_signed().unwrap().with_versions(&[TlsVersion::Tls12]).unwrap();
    /// # drop(tls);
    /// ```
    pub fn with_versions(mut self, versions: &[TlsVersion]) -> io::Result<TlsConfig> {
        self.acceptor = acceptor(&self.identity, versions)?;
        self.versions = versions.to_vec();
        Ok(self)
    }

    /// With `true`, every handshake ends right after the client's
    /// ClientHello: the server closes the connection without sending
    /// anything (no alert), so the client reads end-of-file mid-handshake.
    /// The transcript notes `scripted: TLS handshake aborted after the
    /// ClientHello`.
    pub fn with_handshake_abort(mut self, abort: bool) -> TlsConfig {
        self.abort_handshake = abort;
        self
    }

    /// The certificate a client should trust, as PEM: the chain given to
    /// [`from_pem`](Self::from_pem), the certificate of
    /// [`self_signed`](Self::self_signed), or the CA of
    /// [`test_ca`](Self::test_ca).
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The certificate a client should trust, as DER (of a chain, the
    /// first).
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub(crate) async fn accept(&self, mut stream: TcpStream) -> io::Result<Handshake> {
        if self.abort_handshake {
            // Borrowed, so that the socket is closed here, when the
            // ClientHello has been read and nothing is left unread.
            let hello = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), &mut stream).await?;
            let sni = hello
                .client_hello()
                .server_name()
                .map(|name| format!(" (SNI {name})"))
                .unwrap_or_default();
            drop(hello);
            return Ok(Handshake::Aborted(format!(
                "scripted: TLS handshake aborted after the ClientHello{sni}"
            )));
        }
        let tls = self.acceptor.accept(stream).await?;
        let connection = tls.get_ref().1;
        let info = TlsInfo {
            version: connection
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher: connection
                .negotiated_cipher_suite()
                .map(|c| format!("{:?}", c.suite()))
                .unwrap_or_default(),
            sni: connection.server_name().map(str::to_string),
        };
        Ok(Handshake::Done(Stream::Tls(Box::new(tls)), info))
    }
}

/// The rustls acceptor for this chain and key, with `versions` (empty: the
/// defaults).
fn acceptor(
    identity: &(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    versions: &[TlsVersion],
) -> io::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider);
    let builder = if versions.is_empty() {
        builder.with_safe_default_protocol_versions()
    } else {
        let versions: Vec<_> = versions.iter().map(|v| v.rustls()).collect();
        builder.with_protocol_versions(&versions)
    };
    let config = builder
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(identity.0.clone(), identity.1.clone_key())
        .map_err(invalid)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
