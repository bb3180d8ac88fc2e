//! The service's search syntax (Mailpit's filters), through the hidden
//! `smtp_fixture::fuzzing`. Oracles (`smtp_fixture_fuzz::search`): a
//! negated term matches exactly when the term does not; several terms match
//! when each does; `before:`/`after:` dates agree with a reference calendar.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fixture_fuzz::search::{check, SearchInput};

fuzz_target!(|input: SearchInput| check(&input));
