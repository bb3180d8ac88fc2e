//! The command line and service mode: the smtp-fixture binary, its flags, parity with Python's smtpd, the HTTP service with Mailpit's clients and a browser.
//!
//! One test binary for this audience (tests/support compiled once); each
//! module is one former tests/*.rs file.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/http.rs"]
mod http;

mod cli;
mod cli_over_time;
mod cli_proxy;
mod cli_rules;
mod cli_tls;
mod cli_tls_faults;
mod mailpit_clients;
mod parity_with_python;
#[cfg(feature = "remote")]
mod remote;
mod service;
mod service_checks;
mod service_web;
