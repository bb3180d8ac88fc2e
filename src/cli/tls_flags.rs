//! The command line's TLS faults (`--tls-certificate-expired`, ...), and
//! the certificate the server uses.

use std::io;
use std::path::PathBuf;

use crate::server::{TlsConfig, TlsFaults, Validity};
use crate::TlsVersion;

/// TLS that is wrong on purpose. Each flag implies --tls (STARTTLS) unless
/// --smtps is given.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "TLS faults (each implies --tls unless --smtps is given)")]
pub(crate) struct TlsFaultFlags {
    /// Present a certificate that expired yesterday (issued by the test CA
    /// printed at start, for localhost: only its dates are wrong).
    #[arg(long = "tls-certificate-expired", conflicts_with_all = ["tls_cert", "tls_certificate_not_yet_valid"])]
    tls_certificate_expired: bool,

    /// Present a certificate that becomes valid only tomorrow.
    #[arg(long = "tls-certificate-not-yet-valid", conflicts_with = "tls_cert")]
    tls_certificate_not_yet_valid: bool,

    /// Present a valid certificate for NAME instead of localhost (a
    /// hostname mismatch).
    #[arg(
        long = "tls-certificate-for",
        value_name = "NAME",
        conflicts_with = "tls_cert"
    )]
    tls_certificate_for: Option<String>,

    /// Present a certificate from a CA other than the one printed at start
    /// (an unknown issuer).
    #[arg(long = "tls-untrusted", conflicts_with = "tls_cert")]
    tls_untrusted: bool,

    /// Speak only these TLS versions, comma-separated: 1.2, 1.3 (default
    /// both); works with --tls-cert too.
    #[arg(long = "tls-versions", value_name = "VERSIONS", value_delimiter = ',')]
    tls_versions: Vec<TlsVersion>,

    /// Read each client's ClientHello, then close the connection without a
    /// reply or alert (the handshake dies); works with --tls-cert too.
    #[arg(long = "tls-abort-handshake")]
    tls_abort_handshake: bool,
}

impl TlsFaultFlags {
    fn faults(&self) -> TlsFaults {
        let mut faults = TlsFaults::default();
        if self.tls_certificate_expired {
            faults.validity = Validity::Expired;
        }
        if self.tls_certificate_not_yet_valid {
            faults.validity = Validity::NotYetValid;
        }
        faults.certificate_for.clone_from(&self.tls_certificate_for);
        faults.untrusted = self.tls_untrusted;
        faults.versions.clone_from(&self.tls_versions);
        faults.abort_handshake = self.tls_abort_handshake;
        faults
    }

    /// Whether any fault was asked for (TLS is then on).
    pub(crate) fn any(&self) -> bool {
        self.faults() != TlsFaults::default()
    }

    /// The server's TLS: the certificate files given, or a fresh test CA
    /// and a certificate it issued, with the faults asked for.
    pub(crate) fn config(&self, files: Option<(&PathBuf, &PathBuf)>) -> io::Result<TlsConfig> {
        let faults = self.faults();
        match files {
            Some((certificate, key)) => Ok(TlsConfig::from_pem_files(certificate, key)?
                .with_versions(&faults.versions)?
                .with_handshake_abort(faults.abort_handshake)),
            None => Ok(TlsConfig::test_ca(&faults)?),
        }
    }

    /// What the start-up message says: the test CA to trust (with no
    /// certificate files), and the faults asked for.
    pub(crate) fn banner(&self, tls: &TlsConfig, own_certificate: bool) -> String {
        let faults = self.faults();
        let mut text = String::new();
        if !own_certificate {
            text.push_str(&format!(
                "smtp-fixture: the test CA to trust (it issued the server's certificate):\n{}",
                tls.certificate_pem()
            ));
        }
        let mut wrong = Vec::new();
        match faults.validity {
            Validity::Expired => wrong.push("the certificate is expired".to_string()),
            Validity::NotYetValid => wrong.push("the certificate is not yet valid".to_string()),
            Validity::Current => {}
        }
        if let Some(name) = &faults.certificate_for {
            wrong.push(format!("the certificate is for {name}, not localhost"));
        }
        if faults.untrusted {
            wrong.push("another CA issued the certificate".to_string());
        }
        if !faults.versions.is_empty() {
            let versions: Vec<String> = faults.versions.iter().map(ToString::to_string).collect();
            wrong.push(format!("only {} is spoken", versions.join(" and ")));
        }
        if faults.abort_handshake {
            wrong.push("handshakes end after the ClientHello".to_string());
        }
        if !wrong.is_empty() {
            text.push_str(&format!(
                "smtp-fixture: TLS faults on purpose: {}\n",
                wrong.join("; ")
            ));
        }
        text
    }
}
