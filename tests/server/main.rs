//! The server library and the smtpd port: the session, bad input, limits, BDAT, DSN, LMTP, proxies, handler hooks.
//!
//! One test binary for this audience (tests/support compiled once); each
//! module is one former tests/*.rs file.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;
#[cfg(feature = "http")]
#[path = "../support/http.rs"]
mod http;

mod bad_input;
mod chunking;
mod dsn;
mod fuzz_findings;
mod lifecycle;
mod limits;
mod lmtp;
mod proxy;
mod session_properties;
mod session_transcripts;
