//! TLS that is wrong on purpose (feature `tls`): a certificate issued by a
//! CA made for one server, with one thing wrong with it; the protocol
//! versions offered; a handshake that ends after the ClientHello.
//!
//! Each certificate fault is only that fault: the certificate is issued by
//! the CA a client is told to trust, for the names it connects to, with
//! current dates, except for the one thing asked for.
//!
//! A healthy certificate and an untrusted one are shipped in the crate
//! (src/server/certificates/, made by tools/test-certificates.sh); the date
//! and name faults are made at run time (feature `tls-generate`).

use std::fmt;
use std::str::FromStr;
#[cfg(feature = "tls-generate")]
use std::time::{Duration, SystemTime};

#[cfg(feature = "tls-generate")]
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use super::TlsError;

/// A TLS protocol version a server can be limited to, with
/// [`TlsConfig::with_versions`](super::TlsConfig::with_versions) or the
/// fixture builder's `tls_versions`.
/// rustls speaks these two; older versions are refused by every client
/// worth testing.
///
/// Parsed from `1.2`, `1.3`, `TLSv1.2`, `TLSv1_3`, `tls1.2` and the like:
///
/// ```
/// use smtp_fixture::TlsVersion;
/// assert_eq!("1.2".parse::<TlsVersion>(), Ok(TlsVersion::Tls12));
/// assert_eq!("TLSv1.3".parse::<TlsVersion>(), Ok(TlsVersion::Tls13));
/// assert_eq!(TlsVersion::Tls12.to_string(), "TLSv1.2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    pub(crate) fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        })
    }
}

impl FromStr for TlsVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<TlsVersion, String> {
        let lower = text.trim().to_ascii_lowercase();
        let number = lower
            .strip_prefix("tlsv")
            .or_else(|| lower.strip_prefix("tls"))
            .unwrap_or(&lower)
            .replace('_', ".");
        match number.as_str() {
            "1.2" | "12" => Ok(TlsVersion::Tls12),
            "1.3" | "13" => Ok(TlsVersion::Tls13),
            _ => Err(format!("unknown TLS version {text:?} (want 1.2 or 1.3)")),
        }
    }
}

/// The dates of a server certificate (feature `tls-generate`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg(feature = "tls-generate")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
pub enum Validity {
    /// Valid now.
    #[default]
    Current,
    /// Valid for 30 days until yesterday.
    Expired,
    /// Valid for 30 days from tomorrow.
    NotYetValid,
}

/// What is wrong with a server's TLS, on purpose; the default is nothing.
/// Used by [`TlsConfig::test_ca`](super::TlsConfig::test_ca); the fixture's
/// builder methods (`tls_certificate_expired()`, ...) set it.
///
/// ```
/// use smtp_fixture::server::{TlsConfig, TlsFaults};
/// use smtp_fixture::TlsVersion;
///
/// let mut faults = TlsFaults::default();
/// faults.untrusted = true;
/// faults.versions = vec![TlsVersion::Tls12];
/// let tls = TlsConfig::test_ca(&faults).unwrap();
/// // What a client should trust: the test CA, which did not issue the server's certificate.
/// assert!(tls.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub struct TlsFaults {
    /// The server certificate's dates (feature `tls-generate`).
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub validity: Validity,
    /// The certificate names only this host (a hostname mismatch for a
    /// client that connects to `localhost`); `None`: `localhost`,
    /// `127.0.0.1` and `::1` (feature `tls-generate`).
    #[cfg(feature = "tls-generate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls-generate")))]
    pub certificate_for: Option<String>,
    /// The certificate is issued by another CA than the one a client is
    /// given to trust.
    pub untrusted: bool,
    /// Only these protocol versions; empty: TLS 1.2 and 1.3.
    pub versions: Vec<TlsVersion>,
    /// Read the ClientHello, then close the connection without a reply (no
    /// alert): the client sees the connection end mid-handshake.
    pub abort_handshake: bool,
}

impl TlsFaults {
    /// Whether the certificate itself is faulty (not only the handshake).
    pub(crate) fn touches_certificate(&self) -> bool {
        self.needs_own_certificate() || self.untrusted
    }

    /// Whether the certificate must be made at run time (a date or a name
    /// the shipped ones do not have).
    #[cfg(feature = "tls-generate")]
    fn needs_own_certificate(&self) -> bool {
        self.validity != Validity::Current || self.certificate_for.is_some()
    }

    #[cfg(not(feature = "tls-generate"))]
    #[allow(clippy::unused_self)]
    fn needs_own_certificate(&self) -> bool {
        false
    }
}

/// A certificate issued by a test CA: the CA's certificate (what a client
/// should trust), and the server's certificate and key.
pub(crate) struct Issued {
    pub(crate) ca_pem: String,
    /// The CA that signed the server's certificate: `ca_pem` unless
    /// untrusted.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) issuer_pem: String,
    pub(crate) server_pem: String,
    pub(crate) server_key_pem: String,
}

/// The shipped test CA, and the certificate it issued for `localhost`,
/// `127.0.0.1` and `::1`.
const TEST_CA: &str = include_str!("certificates/test-ca.pem");
const SERVER: &str = include_str!("certificates/server.pem");
const SERVER_KEY: &str = include_str!("certificates/server-key.pem");
/// The same from a CA that no client is given.
const UNTRUSTED_CA: &str = include_str!("certificates/untrusted-ca.pem");
const UNTRUSTED_SERVER: &str = include_str!("certificates/untrusted-server.pem");
const UNTRUSTED_SERVER_KEY: &str = include_str!("certificates/untrusted-server-key.pem");

/// A server certificate with `faults`' certificate faults: a shipped one
/// unless a date or a name needs one made now.
#[cfg_attr(not(feature = "tls-generate"), allow(clippy::unnecessary_wraps))]
pub(crate) fn issue(faults: &TlsFaults) -> Result<Issued, TlsError> {
    #[cfg(feature = "tls-generate")]
    if faults.needs_own_certificate() {
        return generate(faults).map_err(|e| TlsError::Generate(Box::new(e)));
    }
    let (issuer_pem, server_pem, server_key_pem) = if faults.untrusted {
        (UNTRUSTED_CA, UNTRUSTED_SERVER, UNTRUSTED_SERVER_KEY)
    } else {
        (TEST_CA, SERVER, SERVER_KEY)
    };
    Ok(Issued {
        ca_pem: TEST_CA.to_string(),
        issuer_pem: issuer_pem.to_string(),
        server_pem: server_pem.to_string(),
        server_key_pem: server_key_pem.to_string(),
    })
}

#[cfg(feature = "tls-generate")]
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A fresh CA and a server certificate, with `faults`' certificate faults.
#[cfg(feature = "tls-generate")]
fn generate(faults: &TlsFaults) -> Result<Issued, rcgen::Error> {
    let (ca_pem, trusted) = certificate_authority("smtp-fixture test CA")?;
    let (issuer_pem, issuer) = if faults.untrusted {
        certificate_authority("smtp-fixture untrusted CA")?
    } else {
        (ca_pem.clone(), trusted)
    };
    let names = match &faults.certificate_for {
        Some(name) => vec![name.clone()],
        None => vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ],
    };
    let mut params = CertificateParams::new(names.clone())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = SystemTime::now();
    match faults.validity {
        Validity::Current => {}
        Validity::Expired => {
            params.not_before = (now - 31 * DAY).into();
            params.not_after = (now - DAY).into();
        }
        Validity::NotYetValid => {
            params.not_before = (now + DAY).into();
            params.not_after = (now + 31 * DAY).into();
        }
    }
    let key = KeyPair::generate()?;
    let certificate = params.signed_by(&key, &issuer)?;
    Ok(Issued {
        ca_pem,
        issuer_pem,
        server_pem: certificate.pem(),
        server_key_pem: key.serialize_pem(),
    })
}

/// A self-signed CA certificate (PEM) and the issuer it signs with.
#[cfg(feature = "tls-generate")]
fn certificate_authority(name: &str) -> Result<(String, Issuer<'static, KeyPair>), rcgen::Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate()?;
    let certificate = params.self_signed(&key)?;
    Ok((certificate.pem(), Issuer::new(params, key)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, RootCertStore};

    use super::*;

    /// Verifies the server certificate as a client that trusts `root` and
    /// connects to `name`, `days` from now; `"ok"` or the kind of error.
    fn verify(issued: &Issued, root: &str, name: &str, days: i32) -> &'static str {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(root.as_bytes()).expect("root PEM"))
            .expect("a root");
        let provider = super::super::tls_provider::provider().expect("a crypto provider");
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("a verifier");
        let server = CertificateDer::from_pem_slice(issued.server_pem.as_bytes()).expect("server PEM");
        let shift = Duration::from_secs(24 * 60 * 60) * days.unsigned_abs();
        let at = if days < 0 {
            SystemTime::now() - shift
        } else {
            SystemTime::now() + shift
        };
        let at = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).expect("after 1970"));
        let name = ServerName::try_from(name.to_string()).expect("a name");
        match verifier.verify_server_cert(&server, &[], &name, &[], at) {
            Ok(_) => "ok",
            Err(rustls::Error::InvalidCertificate(error)) => match error {
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "not yet valid"
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    "wrong name"
                }
                CertificateError::UnknownIssuer => "unknown issuer",
                _ => "other certificate error",
            },
            Err(_) => "other error",
        }
    }

    /// Each fault is only that fault: what fails now passes when the one
    /// thing wrong is allowed for (another day, another name, the issuer
    /// trusted).
    #[test]
    fn each_certificate_fault_is_only_that_fault() {
        let untrusted = TlsFaults {
            untrusted: true,
            ..TlsFaults::default()
        };
        let healthy = TlsFaults::default();
        // (faults, trust the issuer rather than the CA given, name, days from now, outcome)
        #[cfg_attr(not(feature = "tls-generate"), allow(unused_mut))]
        let mut table: Vec<(TlsFaults, bool, &str, i32, &str)> = vec![
            (healthy.clone(), false, "localhost", 0, "ok"),
            (healthy.clone(), false, "127.0.0.1", 0, "ok"),
            (healthy.clone(), false, "::1", 0, "ok"),
            (healthy.clone(), false, "other.example", 0, "wrong name"),
            // The shipped certificates: valid for decades.
            (healthy.clone(), false, "localhost", 365 * 40, "ok"),
            (untrusted.clone(), false, "localhost", 0, "unknown issuer"),
            (untrusted.clone(), true, "localhost", 0, "ok"),
            (untrusted.clone(), true, "127.0.0.1", 0, "ok"),
        ];
        #[cfg(feature = "tls-generate")]
        {
            let expired = TlsFaults {
                validity: Validity::Expired,
                ..TlsFaults::default()
            };
            let not_yet_valid = TlsFaults {
                validity: Validity::NotYetValid,
                ..TlsFaults::default()
            };
            let other_name = TlsFaults {
                certificate_for: Some("other.example".to_string()),
                ..TlsFaults::default()
            };
            let expired_untrusted = TlsFaults {
                untrusted: true,
                ..expired.clone()
            };
            table.extend([
                (expired.clone(), false, "localhost", 0, "expired"),
                (expired.clone(), false, "localhost", -2, "ok"),
                (expired, false, "127.0.0.1", -2, "ok"),
                (not_yet_valid.clone(), false, "localhost", 0, "not yet valid"),
                (not_yet_valid, false, "localhost", 2, "ok"),
                (other_name.clone(), false, "localhost", 0, "wrong name"),
                (other_name, false, "other.example", 0, "ok"),
                (
                    expired_untrusted.clone(),
                    false,
                    "localhost",
                    -2,
                    "unknown issuer",
                ),
                (expired_untrusted, true, "localhost", -2, "ok"),
            ]);
        }
        for (faults, trust_issuer, name, days, expected) in table {
            let issued = issue(&faults).expect("issued");
            let root = if trust_issuer {
                &issued.issuer_pem
            } else {
                &issued.ca_pem
            };
            assert_eq!(
                verify(&issued, root, name, days),
                expected,
                "{faults:?}, trusting the {}, for {name}, {days} days from now",
                if trust_issuer { "issuer" } else { "CA given" }
            );
        }
    }

    #[test]
    fn versions_parse_in_every_spelling() {
        let table = [
            ("1.2", Ok(TlsVersion::Tls12)),
            ("TLSv1.2", Ok(TlsVersion::Tls12)),
            ("tlsv1_2", Ok(TlsVersion::Tls12)),
            ("tls1.2", Ok(TlsVersion::Tls12)),
            (" 1.3 ", Ok(TlsVersion::Tls13)),
            ("TLSv1_3", Ok(TlsVersion::Tls13)),
            ("13", Ok(TlsVersion::Tls13)),
        ];
        for (text, expected) in table {
            assert_eq!(text.parse::<TlsVersion>(), expected, "{text:?}");
        }
        for bad in ["1.1", "", "ssl3", "TLSv1.4"] {
            assert!(bad.parse::<TlsVersion>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn which_faults_touch_the_certificate() {
        let mut faults = TlsFaults::default();
        assert!(!faults.touches_certificate());
        faults.versions = vec![TlsVersion::Tls13];
        faults.abort_handshake = true;
        assert!(!faults.touches_certificate());
        #[cfg_attr(not(feature = "tls-generate"), allow(unused_mut))]
        let mut changes: Vec<fn(&mut TlsFaults)> = vec![|f: &mut TlsFaults| f.untrusted = true];
        #[cfg(feature = "tls-generate")]
        changes.extend([
            (|f: &mut TlsFaults| f.validity = Validity::Expired) as fn(&mut TlsFaults),
            |f: &mut TlsFaults| f.validity = Validity::NotYetValid,
            |f: &mut TlsFaults| f.certificate_for = Some("other.example".into()),
        ]);
        for change in changes {
            let mut faults = TlsFaults::default();
            change(&mut faults);
            assert!(faults.touches_certificate(), "{faults:?}");
        }
    }
}
