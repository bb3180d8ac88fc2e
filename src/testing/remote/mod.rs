//! The fixture's calls against a service-mode binary in another process
//! (feature `remote`): [`RemoteServer`], its inboxes and rules, over the
//! service's HTTP API.

mod client;
mod server;

pub use server::{RemoteInbox, RemoteRule, RemoteServer, URL_ENV};
