//! TLS that is wrong on purpose (feature `tls`): a certificate issued by a
//! CA made for one server, with one thing wrong with it; the protocol
//! versions offered; a handshake that ends after the ClientHello.
//!
//! Each certificate fault is only that fault: the certificate is issued by
//! the CA a client is told to trust, for the names it connects to, with
//! current dates, except for the one thing asked for.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

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

/// The dates of a server certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
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
/// use smtp_fixture::TlsVersion;
/// use smtp_fixture::server::{TlsConfig, TlsFaults, Validity};
///
/// let mut faults = TlsFaults::default();
/// faults.validity = Validity::Expired;
/// faults.versions = vec![TlsVersion::Tls12];
/// let tls = TlsConfig::test_ca(&faults).unwrap();
/// // What a client should trust: the test CA, which issued the expired certificate.
/// assert!(tls.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub struct TlsFaults {
    /// The server certificate's dates.
    pub validity: Validity,
    /// The certificate names only this host (a hostname mismatch for a
    /// client that connects to `localhost`); `None`: `localhost`,
    /// `127.0.0.1` and `::1`.
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
        self.validity != Validity::Current || self.certificate_for.is_some() || self.untrusted
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

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A fresh CA and a server certificate, with `faults`' certificate faults.
pub(crate) fn issue(faults: &TlsFaults) -> Result<Issued, rcgen::Error> {
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
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .expect("a verifier");
        let server = CertificateDer::from_pem_slice(issued.server_pem.as_bytes()).expect("server PEM");
        let shift = DAY * days.unsigned_abs();
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
        let untrusted = TlsFaults {
            untrusted: true,
            ..TlsFaults::default()
        };
        type Case<'a> = (&'a TlsFaults, bool, &'a str, i32, &'a str);
        let healthy = TlsFaults::default();
        // (faults, trust the issuer rather than the CA given, name, days from now, outcome)
        let table: [Case; 14] = [
            (&healthy, false, "localhost", 0, "ok"),
            (&healthy, false, "127.0.0.1", 0, "ok"),
            (&healthy, false, "::1", 0, "ok"),
            (&healthy, false, "other.example", 0, "wrong name"),
            (&expired, false, "localhost", 0, "expired"),
            (&expired, false, "localhost", -2, "ok"),
            (&expired, false, "127.0.0.1", -2, "ok"),
            (&not_yet_valid, false, "localhost", 0, "not yet valid"),
            (&not_yet_valid, false, "localhost", 2, "ok"),
            (&other_name, false, "localhost", 0, "wrong name"),
            (&other_name, false, "other.example", 0, "ok"),
            (&untrusted, false, "localhost", 0, "unknown issuer"),
            (&untrusted, true, "localhost", 0, "ok"),
            (&untrusted, true, "127.0.0.1", 0, "ok"),
        ];
        for (faults, trust_issuer, name, days, expected) in table {
            let issued = issue(faults).expect("issued");
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
        for change in [
            |f: &mut TlsFaults| f.validity = Validity::Expired,
            |f: &mut TlsFaults| f.validity = Validity::NotYetValid,
            |f: &mut TlsFaults| f.certificate_for = Some("other.example".into()),
            |f: &mut TlsFaults| f.untrusted = true,
        ] {
            let mut faults = TlsFaults::default();
            change(&mut faults);
            assert!(faults.touches_certificate(), "{faults:?}");
        }
    }
}
