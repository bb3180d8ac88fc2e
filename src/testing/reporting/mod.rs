//! Reporting a failure: what was expected, what arrived, the SMTP
//! transcripts, diffs, and the artifacts a failed test keeps.

pub(crate) mod artifacts;
pub(crate) mod diff;
pub(crate) mod report;
