//! The session, driven as the connection drives it, with the configuration,
//! the handler's decisions, the reads and the in-place DATA path chosen by
//! the input (format: `session_input`). Beyond "no panic": the oracles in
//! `driver`, and the same events for the test case's reads as for one
//! read per segment.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fixture_fuzz::driver::{assert_same_events, run, Feeding};
use smtp_fixture_fuzz::session_input::SessionInput;

fuzz_target!(|data: &[u8]| {
    let Some(input) = SessionInput::parse(data) else {
        return;
    };
    let whole = run(&input, Feeding::OnePiece);
    if !input.reads.is_empty() {
        let chunked = run(&input, Feeding::Reads(&input.reads));
        assert_same_events(&whole, &chunked);
    }
});
