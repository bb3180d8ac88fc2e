//! TLS for the server: the certificate (self-signed or supplied), the
//! acceptor, and a stream that is plain TCP until STARTTLS upgrades it.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::protocol::TlsInfo;

/// A server certificate with its key, ready to accept TLS connections.
///
/// ```
/// use smtp_fixture::server::TlsConfig;
/// let tls = TlsConfig::self_signed().unwrap();
/// assert!(tls.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
#[derive(Clone)]
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

/// A connection's byte stream: plain, or TLS after a handshake.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// Only while a handshake has taken the TCP stream.
    Upgrading,
}

impl Stream {
    pub(crate) fn tcp(&self) -> Option<&TcpStream> {
        match self {
            Stream::Plain(tcp) => Some(tcp),
            Stream::Tls(tls) => Some(tls.get_ref().0),
            Stream::Upgrading => None,
        }
    }
}

fn upgrading() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the stream is being upgraded to TLS")
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
            Stream::Upgrading => Poll::Ready(Err(upgrading())),
        }
    }
}
