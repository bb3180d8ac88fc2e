//! DKIM, SPF and DMARC, checked the way a receiving server checks them,
//! offline (feature `dkim`): stalwart's `mail-auth` verifies, against the
//! DNS TXT records the test registered (`Builder::dns_txt`) and the client's
//! address; nothing is asked of real DNS.

mod resolver;

use std::fmt;

use mail_auth::common::crypto::{Algorithm, CryptoError};
use mail_auth::common::headers::Header;
use mail_auth::dkim::{Canonicalization, DkimError, Signature};
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimOutput, DkimResult as Verdict, DmarcResult, DnsError,
    Error,
};

use super::deliverability::aligned;
use super::message::ReceivedMessage;
use crate::testing::recording::dns::DnsRecords;
use resolver::{offline, run_offline, TestTxt, AUTHENTICATOR};

/// The name the checks report as (the `authserv-id` of
/// `Authentication-Results`).
const AUTHSERV_ID: &str = "smtp-fixture";

/// One DKIM signature of a message, verified: from
/// [`ReceivedMessage::dkim`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DkimResult {
    /// The signing domain (`d=`).
    pub domain: String,
    /// The selector (`s=`): the key is looked up at
    /// `selector._domainkey.domain`.
    pub selector: String,
    /// The algorithm (`a=`): `rsa-sha256`, `ed25519-sha256` or `rsa-sha1`.
    pub algorithm: String,
    /// `pass`, `fail`, `neutral`, `permerror` or `temperror`, as an
    /// `Authentication-Results` header says it.
    pub result: String,
    /// Why it did not pass (`None` when it did).
    pub reason: Option<String>,
    /// The header fields it signed (`h=`), in order.
    pub signed_headers: Vec<String>,
    /// Those header fields as they were hashed: canonicalized (`c=`), in
    /// the order signed (the `DKIM-Signature` field itself left out).
    pub canonicalized_headers: String,
}

impl DkimResult {
    /// Whether the signature verified.
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

impl fmt::Display for DkimResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dkim={} header.d={} header.s={} header.a={}",
            self.result, self.domain, self.selector, self.algorithm
        )?;
        if let Some(reason) = &self.reason {
            write!(f, " ({reason})")?;
        }
        Ok(())
    }
}

/// What a receiving server would conclude about a message: DKIM, SPF for
/// the envelope sender and the client's address, DMARC alignment with the
/// `From` domain; from [`ReceivedMessage::authentication`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authentication {
    /// Every DKIM signature, verified.
    pub dkim: Vec<DkimResult>,
    /// The SPF result for the `MAIL FROM` domain (the HELO name's for an
    /// empty sender): `pass`, `fail`, `softfail`, `neutral`, `none`,
    /// `temperror` or `permerror`.
    pub spf: String,
    /// The domain SPF was checked for.
    pub spf_domain: String,
    /// The DMARC result: `pass`, `fail`, `none` (no policy published),
    /// `temperror` or `permerror`.
    pub dmarc: String,
    /// The `From` header's domain, the one DMARC aligns with.
    pub from_domain: String,
    /// Whether a passing DKIM signature's `d=` aligns with the `From`
    /// domain (relaxed: the same organizational domain).
    pub dkim_aligned: bool,
    /// Why DMARC did not pass, in words (`None` when it did).
    pub dmarc_reason: Option<String>,
    /// The `Authentication-Results` header a receiver would add, without
    /// its name.
    pub header: String,
}

impl fmt::Display for Authentication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Authentication-Results: {}", self.header)?;
        for dkim in self.dkim.iter().filter(|dkim| !dkim.passed()) {
            write!(f, "\n  {dkim}")?;
        }
        if let Some(reason) = &self.dmarc_reason {
            write!(f, "\n  dmarc={}: {reason}", self.dmarc)?;
        }
        Ok(())
    }
}

impl ReceivedMessage {
    /// Every DKIM signature of the message, verified against the keys the
    /// test registered with [`Builder::dns_txt`](crate::Builder::dns_txt):
    /// one result per `DKIM-Signature` header, in order (feature `dkim`).
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=mail; c=relaxed/relaxed;\r\n \
    ///      h=From:Subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n\
    ///      From: app@example.com\r\nSubject: hi\r\n\r\n",
    /// );
    /// let dkim = message.dkim();
    /// assert_eq!((dkim[0].domain.as_str(), dkim[0].selector.as_str()), ("example.com", "mail"));
    /// assert!(!dkim[0].passed());
    /// assert!(dkim[0].reason.as_deref().unwrap().contains("mail._domainkey.example.com"));
    /// ```
    pub fn dkim(&self) -> Vec<DkimResult> {
        let Some(parsed) = AuthenticatedMessage::parse(&self.data) else {
            return Vec::new();
        };
        let txt = TestTxt::new(&self.dns);
        let outputs = run_offline(AUTHENTICATOR.verify_dkim(offline(&parsed, &txt)));
        outputs
            .iter()
            .map(|output| dkim_result(&parsed, output, &self.dns))
            .collect()
    }

    /// Panics unless the message has a DKIM signature and every one
    /// verifies (see [`dkim`](Self::dkim)); the failure names each
    /// signature, why it failed, and the canonicalized header fields it
    /// signed (feature `dkim`).
    ///
    /// ```should_panic
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let unsigned = ReceivedMessage::new(Envelope::default(), "From: app@example.com\r\n\r\nHi\r\n");
    /// unsigned.assert_dkim_pass(); // panics: no DKIM-Signature
    /// ```
    #[track_caller]
    pub fn assert_dkim_pass(&self) {
        let results = self.dkim();
        if !results.is_empty() && results.iter().all(DkimResult::passed) {
            return;
        }
        let mut report = String::new();
        if results.is_empty() {
            report.push_str("\n  the message has no DKIM-Signature header");
        }
        for (index, result) in results.iter().enumerate() {
            report.push_str(&format!("\n  {}. {result}", index + 1));
            if !result.passed() && !result.canonicalized_headers.is_empty() {
                report.push_str(&format!(
                    "\n     canonicalized headers it signed (h={}):\n",
                    result.signed_headers.join(":")
                ));
                for line in result.canonicalized_headers.lines() {
                    report.push_str(&format!("       {line}\n"));
                }
            }
        }
        panic!(
            "smtp-fixture: DKIM does not pass for message {}:{report}",
            self.summary()
        )
    }

    /// DKIM, SPF and DMARC as a receiving server would check them, against
    /// the test's records ([`Builder::dns_txt`](crate::Builder::dns_txt))
    /// and the client's address ([`peer`](Self::peer), 127.0.0.1 in a
    /// test): what an `Authentication-Results` header would say (feature
    /// `dkim`).
    ///
    /// SPF sees the registered TXT records only: `ip4:`/`ip6:` mechanisms
    /// and `include:` work, `a` and `mx` find no address.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope { mail_from: "bounce@mailer.example.net".into(), ..Envelope::default() },
    ///     "From: shop@shop.example.com\r\nSubject: hi\r\n\r\nHi\r\n",
    /// );
    /// let auth = message.authentication();
    /// assert_eq!(auth.from_domain, "shop.example.com");
    /// assert_eq!(auth.spf, "none");
    /// assert_eq!(auth.dmarc, "none");
    /// assert!(auth.header.starts_with("smtp-fixture;"));
    /// ```
    pub fn authentication(&self) -> Authentication {
        let data: &[u8] = &self.data;
        let parsed = AuthenticatedMessage::parse(data).unwrap_or_else(|| AuthenticatedMessage {
            raw_message: data,
            ..AuthenticatedMessage::default()
        });
        let txt = TestTxt::new(&self.dns);
        let ip = self.peer.ip();
        let helo = if self.helo.is_empty() {
            "localhost"
        } else {
            self.helo.as_str()
        };
        let mail_from = self.envelope.mail_from.as_str();
        let spf_domain = mail_from
            .rsplit_once('@')
            .map_or(helo, |(_, domain)| domain)
            .to_string();

        let dkim_outputs = run_offline(AUTHENTICATOR.verify_dkim(offline(&parsed, &txt)));
        let spf = run_offline(AUTHENTICATOR.verify_spf(offline(
            SpfParameters::verify(ip, helo, AUTHSERV_ID, mail_from),
            &txt,
        )));
        let dmarc = run_offline(AUTHENTICATOR.verify_dmarc(offline(
            DmarcParameters::new(&parsed, &dkim_outputs, &spf_domain, &spf),
            &txt,
        )));
        let from_domain = parsed
            .from
            .first()
            .and_then(|from| from.rsplit_once('@'))
            .map(|(_, domain)| domain.to_ascii_lowercase())
            .unwrap_or_default();
        let header = AuthenticationResults::new(AUTHSERV_ID)
            .with_dkim_results(&dkim_outputs, parsed.from.first().map_or("", String::as_str))
            .with_spf_mailfrom_result(&spf, ip, mail_from, helo)
            .with_dmarc_result(&dmarc)
            .to_string();
        let header = header.replace("\r\n\t", " ");
        let dkim: Vec<DkimResult> = dkim_outputs
            .iter()
            .map(|output| dkim_result(&parsed, output, &self.dns))
            .collect();
        let dkim_aligned = dkim
            .iter()
            .any(|result| result.passed() && aligned(&result.domain, &from_domain));
        let spf_result = spf.result().to_string().to_ascii_lowercase();
        let dmarc_result = dmarc_word(&dmarc.result());
        let dmarc_reason = (dmarc_result != "pass").then(|| {
            dmarc_reason(&DmarcFacts {
                result: &dmarc_result,
                from_domain: &from_domain,
                dkim: &dkim,
                spf: &spf_result,
                spf_domain: &spf_domain,
            })
        });
        Authentication {
            dkim,
            spf: spf_result,
            spf_domain,
            dmarc: dmarc_result,
            from_domain,
            dkim_aligned,
            dmarc_reason,
            header,
        }
    }
}

fn dkim_result(message: &AuthenticatedMessage<'_>, output: &DkimOutput<'_>, dns: &DnsRecords) -> DkimResult {
    let (result, error) = match output.result() {
        Verdict::Pass => ("pass", None),
        Verdict::Fail(error) => ("fail", Some(error)),
        Verdict::Neutral(error) => ("neutral", Some(error)),
        Verdict::PermError(error) => ("permerror", Some(error)),
        Verdict::TempError(error) => ("temperror", Some(error)),
        Verdict::None => ("none", None),
    };
    let Some(signature) = output.signature() else {
        return DkimResult {
            domain: String::new(),
            selector: String::new(),
            algorithm: String::new(),
            result: result.to_string(),
            reason: error.map(|error| format!("the DKIM-Signature header could not be read: {error}")),
            signed_headers: Vec::new(),
            canonicalized_headers: String::new(),
        };
    };
    let header = message
        .dkim_headers
        .iter()
        .find(|header| header.header == *signature);
    DkimResult {
        domain: signature.d.clone(),
        selector: signature.s.clone(),
        algorithm: algorithm_name(signature.a).to_string(),
        result: result.to_string(),
        reason: error.map(|error| reason(error, signature, dns)),
        signed_headers: signature.h.clone(),
        canonicalized_headers: header
            .map(|header| canonicalized(message, header))
            .unwrap_or_default(),
    }
}

fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::RsaSha1 => "rsa-sha1",
        Algorithm::RsaSha256 => "rsa-sha256",
        Algorithm::Ed25519Sha256 => "ed25519-sha256",
    }
}

/// The signed header fields as they were hashed, the signature's own
/// field left out (it is hashed with an empty `b=`).
fn canonicalized(message: &AuthenticatedMessage<'_>, header: &Header<'_, Signature>) -> String {
    let signature = &header.header;
    let fields: Vec<(&[u8], &[u8])> = message.signed_headers(&signature.h, b"", b"").collect();
    let fields = &fields[..fields.len().saturating_sub(1)];
    let mut hashed = Vec::new();
    signature
        .ch
        .canonicalize_headers(fields.iter().copied(), &mut hashed);
    let text = String::from_utf8_lossy(&hashed).into_owned();
    match signature.ch {
        Canonicalization::Relaxed => text,
        // Simple keeps the fields as sent; show line ends as a reader
        // would see them.
        Canonicalization::Simple => text.replace("\r\n", "\n"),
    }
}

/// Why a signature did not verify, in the words a test author needs.
fn reason(error: &Error, signature: &Signature, dns: &DnsRecords) -> String {
    let key_name = format!("{}._domainkey.{}", signature.s, signature.d);
    match error {
        Error::Crypto(CryptoError::FailedVerification) => format!(
            "the signature does not match the signed header fields (h={}): a signed header was changed after \
             signing, or the key at {key_name} is not the one that signed",
            signature.h.join(":")
        ),
        Error::Dkim(DkimError::FailedBodyHashMatch) => {
            "the body hash (bh=) does not match the body: the body was changed after signing".to_string()
        }
        Error::Dns(DnsError::RecordNotFound(_)) => {
            let registered = dns.names();
            let registered = if registered.is_empty() {
                "none".to_string()
            } else {
                registered.join(", ")
            };
            format!(
                "no key found: selector {:?} of domain {:?} was looked up at {key_name}, which has no TXT record \
                 (names registered with dns_txt: {registered})",
                signature.s, signature.d
            )
        }
        Error::Dns(DnsError::InvalidRecordType) | Error::ParseError => {
            format!("the TXT record at {key_name} is not a DKIM key record (v=DKIM1; k=...; p=...)")
        }
        Error::Dkim(DkimError::SignatureExpired) => "the signature expired (x=)".to_string(),
        Error::Dkim(DkimError::RevokedPublicKey) => format!("the key at {key_name} is revoked (empty p=)"),
        Error::Crypto(CryptoError::IncompatibleAlgorithms) => {
            format!(
                "the key at {key_name} is of another algorithm than a={}",
                algorithm_name(signature.a)
            )
        }
        other => other.to_string(),
    }
}

fn dmarc_word(result: &DmarcResult) -> String {
    match result {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
    .to_string()
}

struct DmarcFacts<'a> {
    result: &'a str,
    from_domain: &'a str,
    dkim: &'a [DkimResult],
    spf: &'a str,
    spf_domain: &'a str,
}

fn dmarc_reason(facts: &DmarcFacts<'_>) -> String {
    let from = facts.from_domain;
    if from.is_empty() {
        return "the message has no From address with a domain".to_string();
    }
    if facts.result == "none" {
        return format!("no DMARC policy: _dmarc.{from} has no TXT record");
    }
    let dkim = if facts.dkim.is_empty() {
        "there is no DKIM signature".to_string()
    } else {
        let signatures: Vec<String> = facts
            .dkim
            .iter()
            .map(|dkim| {
                let alignment = if aligned(&dkim.domain, from) {
                    "aligned"
                } else {
                    "not aligned"
                };
                format!("d={} {} and {alignment}", dkim.domain, dkim.result)
            })
            .collect();
        format!("DKIM: {}", signatures.join(", "))
    };
    let spf_alignment = if aligned(facts.spf_domain, from) {
        "aligned"
    } else {
        "not aligned"
    };
    format!(
        "From's domain {from} is not aligned with a passing DKIM signature or SPF: {dkim}; SPF {} for {} ({spf_alignment})",
        facts.spf, facts.spf_domain
    )
}
