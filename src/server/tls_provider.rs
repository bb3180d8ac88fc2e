//! Which rustls crypto provider the server uses (feature `tls`): the one the
//! process installed (`CryptoProvider::install_default`), so that an app's
//! choice holds; else aws-lc-rs with `tls-aws-lc`; else ring with
//! `tls-ring`.
//!
//! rustls 0.23.48 deprecates `rustls::crypto::ring::default_provider` (ring
//! has no post-quantum key exchange). On loopback between a test and its
//! fixture that does not matter, and aws-lc-rs costs an app whose rustls
//! uses ring (lettre's `rustls-tls` does) a second provider and a large C
//! build; so the ring provider is put together here from rustls's public,
//! not deprecated, ring parts: its cipher suites, key exchange groups and
//! key loading, with ring's random numbers and webpki's signature
//! algorithms.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

use super::TlsError;

/// The provider for a new server or client configuration.
#[cfg_attr(
    any(feature = "tls-ring", feature = "tls-aws-lc"),
    allow(clippy::unnecessary_wraps)
)]
pub(crate) fn provider() -> Result<Arc<CryptoProvider>, TlsError> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(Arc::clone(installed));
    }
    #[cfg(feature = "tls-aws-lc")]
    return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    return Ok(Arc::new(ring::provider()));
    #[cfg(not(any(feature = "tls-ring", feature = "tls-aws-lc")))]
    Err(TlsError::Rejected(
        "no rustls crypto provider: enable smtp-fixture's feature `tls-ring` or `tls-aws-lc`, \
         or install one with rustls::crypto::CryptoProvider::install_default"
            .into(),
    ))
}

#[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
mod ring {
    use std::sync::Arc;

    use rustls::crypto::ring::{sign, DEFAULT_CIPHER_SUITES, DEFAULT_KX_GROUPS};
    use rustls::crypto::{
        CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
    };
    use rustls::pki_types::PrivateKeyDer;
    use rustls::sign::SigningKey;
    use rustls::SignatureScheme;
    use webpki::ring as algorithms;

    /// ring's random numbers and rustls's loading of ring signing keys.
    #[derive(Debug)]
    struct Ring;

    impl SecureRandom for Ring {
        fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
            use ::ring::rand::SecureRandom as _;
            ::ring::rand::SystemRandom::new()
                .fill(buf)
                .map_err(|_| GetRandomFailed)
        }
    }

    impl KeyProvider for Ring {
        fn load_private_key(
            &self,
            key: PrivateKeyDer<'static>,
        ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
            sign::any_supported_type(&key)
        }
    }

    /// The signatures a peer's certificate may carry (only a client, or a
    /// server asking for client certificates, checks them): ECDSA, Ed25519
    /// and RSA, as in rustls's own ring provider.
    static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
        all: &[
            algorithms::ECDSA_P256_SHA256,
            algorithms::ECDSA_P256_SHA384,
            algorithms::ECDSA_P384_SHA256,
            algorithms::ECDSA_P384_SHA384,
            algorithms::ED25519,
            algorithms::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            algorithms::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            algorithms::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            algorithms::RSA_PKCS1_2048_8192_SHA256,
            algorithms::RSA_PKCS1_2048_8192_SHA384,
            algorithms::RSA_PKCS1_2048_8192_SHA512,
        ],
        mapping: &[
            (
                SignatureScheme::ECDSA_NISTP384_SHA384,
                &[algorithms::ECDSA_P384_SHA384, algorithms::ECDSA_P256_SHA384],
            ),
            (
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &[algorithms::ECDSA_P256_SHA256, algorithms::ECDSA_P384_SHA256],
            ),
            (SignatureScheme::ED25519, &[algorithms::ED25519]),
            (
                SignatureScheme::RSA_PSS_SHA512,
                &[algorithms::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA384,
                &[algorithms::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA256,
                &[algorithms::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA512,
                &[algorithms::RSA_PKCS1_2048_8192_SHA512],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA384,
                &[algorithms::RSA_PKCS1_2048_8192_SHA384],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA256,
                &[algorithms::RSA_PKCS1_2048_8192_SHA256],
            ),
        ],
    };

    pub(super) fn provider() -> CryptoProvider {
        CryptoProvider {
            cipher_suites: DEFAULT_CIPHER_SUITES.to_vec(),
            kx_groups: DEFAULT_KX_GROUPS.to_vec(),
            signature_verification_algorithms: SIGNATURES,
            secure_random: &Ring,
            key_provider: &Ring,
        }
    }
}
