//! BDAT (RFC 3030) mixed with DATA and other commands, pipelined, in SMTP
//! and LMTP, with the handler answering BDAT lines, recipients and messages
//! in every way a rule can. Oracles (`smtp_fixture_fuzz::bdat`): one
//! answer per command, and the command line the only command asked about
//! (a chunk, refused or not, is never run as commands); in LMTP one final
//! reply per accepted recipient; a BDAT LAST message is the chunks
//! acknowledged since its transaction began; the same events for any split
//! of the stream into reads.

#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fixture_fuzz::bdat::{check, BdatInput};

fuzz_target!(|input: BdatInput| check(&input));
