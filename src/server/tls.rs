//! TLS for the server (feature `tls`): the certificate (the shipped test
//! CA's, made at run time, or supplied), the protocol versions, and the
//! acceptor.

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor};

use super::stream::Stream;
use super::tls_faults::{self, TlsFaults, TlsVersion};
use super::tls_provider;
use crate::protocol::TlsInfo;

/// A server certificate with its key, ready to accept TLS connections.
///
/// ```
/// use smtp_fixture::server::{TlsConfig, TlsFaults};
/// let tls = TlsConfig::test_ca(&TlsFaults::default()).unwrap();
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

/// Why a [`TlsConfig`] could not be made. A caller can tell a file it
/// could not read from PEM text that is wrong and from a chain and key that
/// rustls refuses. Converts into an [`io::Error`] (kind `NotFound` and the
/// like for [`TlsError::Read`], `InvalidInput` otherwise), so `?` in a
/// function returning [`io::Result`] still works.
#[derive(Debug)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub enum TlsError {
    /// A PEM file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: io::Error,
    },
    /// The certificate chain is not valid PEM.
    CertificatePem(Box<dyn Error + Send + Sync>),
    /// The certificate PEM holds no certificate.
    NoCertificate,
    /// The private key is not valid PEM, or holds no key.
    KeyPem(Box<dyn Error + Send + Sync>),
    /// rustls refused the chain and key (a key that does not match the
    /// certificate, say) or the protocol versions.
    Rejected(Box<dyn Error + Send + Sync>),
    /// Making a certificate (self-signed or from a test CA) failed.
    Generate(Box<dyn Error + Send + Sync>),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, source } => write!(f, "{}: {source}", path.display()),
            TlsError::CertificatePem(error) => write!(f, "certificate PEM: {error}"),
            TlsError::NoCertificate => f.write_str("the certificate PEM holds no certificate"),
            TlsError::KeyPem(error) => write!(f, "private key PEM: {error}"),
            TlsError::Rejected(error) | TlsError::Generate(error) => write!(f, "{error}"),
        }
    }
}

impl Error for TlsError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            TlsError::Read { source, .. } => Some(source),
            TlsError::CertificatePem(error)
            | TlsError::KeyPem(error)
            | TlsError::Rejected(error)
            | TlsError::Generate(error) => Some(&**error),
            TlsError::NoCertificate => None,
        }
    }
}

impl From<TlsError> for io::Error {
    fn from(error: TlsError) -> io::Error {
        let kind = match &error {
            TlsError::Read { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidInput,
        };
        io::Error::new(kind, error.to_string())
    }
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
    /// `::1` (feature `tls-generate`; [`test_ca`](Self::test_ca) needs no
    /// certificate made at run time).
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub fn self_signed() -> Result<TlsConfig, TlsError> {
        let names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let generated =
            rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(Box::new(e)))?;
        TlsConfig::from_pem(&generated.cert.pem(), &generated.signing_key.serialize_pem())
    }

    /// A test CA and a certificate it issued for `localhost`, `127.0.0.1`
    /// and `::1`, both but for `faults`: what the fixture and
    /// `smtp-fixture --tls` use. Without a fault that needs its own
    /// certificate, these are the CA and certificate shipped in the crate
    /// (valid 2025 to 2075; their keys are public, so nothing outside a
    /// test may trust that CA); a date or name fault (feature
    /// `tls-generate`) gets a fresh CA and certificate.
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
    pub fn test_ca(faults: &TlsFaults) -> Result<TlsConfig, TlsError> {
        let issued = tls_faults::issue(faults)?;
        let mut config = TlsConfig::from_pem(&issued.server_pem, &issued.server_key_pem)?;
        config.certificate_der = CertificateDer::from_pem_slice(issued.ca_pem.as_bytes())
            .map_err(|e| TlsError::Generate(format!("CA certificate PEM: {e}").into()))?
            .to_vec();
        config.certificate_pem = issued.ca_pem;
        Ok(config
            .with_versions(&faults.versions)?
            .with_handshake_abort(faults.abort_handshake))
    }

    /// The certificate chain and private key given as PEM text.
    pub fn from_pem(certificate_chain: &str, private_key: &str) -> Result<TlsConfig, TlsError> {
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(certificate_chain.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| TlsError::CertificatePem(Box::new(e)))?;
        let first = chain.first().ok_or(TlsError::NoCertificate)?;
        let certificate_der = first.to_vec();
        let certificate_pem = certificate_chain.to_string();
        let key = PrivateKeyDer::from_pem_slice(private_key.as_bytes())
            .map_err(|e| TlsError::KeyPem(Box::new(e)))?;
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
    pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| TlsError::Read {
                path: path.to_path_buf(),
                source,
            })
        };
        TlsConfig::from_pem(&read(certificate)?, &read(key)?)
    }

    /// Speaks only these protocol versions (empty: TLS 1.2 and 1.3, the
    /// default). A client that offers none of them gets a
    /// `protocol_version` alert.
    ///
    /// ```
    /// use smtp_fixture::server::{TlsConfig, TlsFaults};
    /// use smtp_fixture::TlsVersion;
    /// let tls = TlsConfig::test_ca(&TlsFaults::default()).unwrap().with_versions(&[TlsVersion::Tls12]).unwrap();
    /// # drop(tls);
    /// ```
    pub fn with_versions(mut self, versions: &[TlsVersion]) -> Result<TlsConfig, TlsError> {
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
    /// `self_signed` (feature `tls-generate`), or the CA of
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
) -> Result<TlsAcceptor, TlsError> {
    let builder = rustls::ServerConfig::builder_with_provider(tls_provider::provider()?);
    let builder = if versions.is_empty() {
        builder.with_safe_default_protocol_versions()
    } else {
        let versions: Vec<_> = versions.iter().map(|v| v.rustls()).collect();
        builder.with_protocol_versions(&versions)
    };
    let config = builder
        .map_err(|e| TlsError::Rejected(Box::new(e)))?
        .with_no_client_auth()
        .with_single_cert(identity.0.clone(), identity.1.clone_key())
        .map_err(|e| TlsError::Rejected(Box::new(e)))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_errors_say_which_part_is_wrong() {
        let trusted = tls_faults::issue(&TlsFaults::default()).unwrap();
        let untrusted = tls_faults::issue(&TlsFaults {
            untrusted: true,
            ..TlsFaults::default()
        })
        .unwrap();
        let (cert, key) = (trusted.server_pem, trusted.server_key_pem);
        assert!(TlsConfig::from_pem(&cert, &key).is_ok());

        let no_certificate = TlsConfig::from_pem("", &key).unwrap_err();
        assert!(
            matches!(no_certificate, TlsError::NoCertificate),
            "{no_certificate:?}"
        );
        let bad_key = TlsConfig::from_pem(&cert, "no key here").unwrap_err();
        assert!(matches!(bad_key, TlsError::KeyPem(_)), "{bad_key:?}");
        assert!(bad_key.to_string().starts_with("private key PEM: "), "{bad_key}");
        let mismatched = TlsConfig::from_pem(&cert, &untrusted.server_key_pem).unwrap_err();
        assert!(matches!(mismatched, TlsError::Rejected(_)), "{mismatched:?}");
        let broken = cert.replace("MII", "M!I");
        let bad_certificate = TlsConfig::from_pem(&broken, &key).unwrap_err();
        assert!(
            matches!(bad_certificate, TlsError::CertificatePem(_)),
            "{bad_certificate:?}"
        );
    }

    #[test]
    fn a_missing_file_keeps_its_io_error_kind() {
        let missing = Path::new("/nonexistent/smtp-fixture/cert.pem");
        let error = TlsConfig::from_pem_files(missing, missing).unwrap_err();
        let TlsError::Read { path, source } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(path, missing);
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(error
            .to_string()
            .starts_with("/nonexistent/smtp-fixture/cert.pem: "));
        assert_eq!(io::Error::from(error).kind(), io::ErrorKind::NotFound);
    }
}
