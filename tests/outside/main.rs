//! Real MTAs and outside peers: Exim, Postfix, swaks, HAProxy.
//!
//! One test binary for this audience (tests/support compiled once); each
//! module is one former tests/*.rs file.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/mta.rs"]
mod mta;

mod mta_exim;
mod mta_postfix;
mod mta_swaks;
mod proxy_protocol;
