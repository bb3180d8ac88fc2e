//! Waiting: the fixture's blocking waits and their async twins, and the
//! assertions that wait.

mod recipients;
mod waits;
