//! Shared pieces of the fuzz targets: the session target's input format and
//! driver, and the independent oracles they check the crate against.
//!
//! The oracles are written from the RFCs, not from the crate's code, so that
//! a wrong rule in the crate shows up as a disagreement rather than being
//! copied into the check.

pub mod bdat;
pub mod calendar;
pub mod conversation;
pub mod driver;
pub mod proxy;
pub mod reference;
pub mod rfc;
pub mod search;
pub mod session_input;
pub mod wire;
