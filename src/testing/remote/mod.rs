//! The fixture's calls against a service-mode binary in another process
//! (feature `remote`): [`RemoteServer`], its inboxes and rules, over the
//! service's HTTP API.

mod client;
mod rule;
mod server;

pub use rule::RemoteRule;
pub use server::{RemoteInbox, RemoteServer, URL_ENV};
