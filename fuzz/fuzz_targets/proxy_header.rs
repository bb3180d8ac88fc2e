//! The PROXY header parser (v1 and v2) against a reference written from
//! HAProxy's spec (`smtp_fixture_fuzz::proxy`): the same answer for every
//! prefix the reads deliver; once complete or malformed, the answer stays,
//! so any split of the header across reads consumes exactly the header.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fixture_fuzz::proxy::check;

fuzz_target!(|data: &[u8]| check(data));
