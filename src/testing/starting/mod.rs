//! Starting a fixture: its options ([`Builder`]), the running
//! [`TestSmtpServer`], and the runtime every fixture shares.

pub(crate) mod builder;
pub(crate) mod fixture;
mod over_time_options;
pub(crate) mod runtime;
mod security_options;
#[cfg(feature = "tls")]
mod tls_choice;

pub use builder::Builder;
pub use fixture::{TestSmtpServer, TIMEOUT_ENV};
#[cfg(feature = "http")]
pub(crate) use runtime::runtime;
