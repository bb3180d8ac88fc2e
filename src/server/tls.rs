//! TLS for the server (feature `tls`): the certificate (self-signed or
//! supplied) and the acceptor.

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::stream::Stream;
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
    certificate_pem: String,
    certificate_der: Vec<u8>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("certificate_der_len", &self.certificate_der.len())
            .finish()
    }
}

fn invalid(error: impl fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
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
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(invalid)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(invalid)?;
        Ok(TlsConfig {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificate_pem,
            certificate_der,
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

    /// The server certificate as PEM, for a client to trust.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The server certificate as DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    pub(crate) async fn accept(&self, stream: TcpStream) -> io::Result<(Stream, TlsInfo)> {
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
        Ok((Stream::Tls(Box::new(tls)), info))
    }
}
