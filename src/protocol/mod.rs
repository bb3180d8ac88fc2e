//! The SMTP protocol, pure: no sockets, no runtime, no clocks.
//!
//! [`Session`] is the channel; the other modules are the pieces it is made
//! of, each testable on its own.

pub mod address;
pub mod auth;
pub mod chunking;
pub mod command;
pub mod config;
pub mod data;
pub mod dsn;
pub mod envelope;
pub mod extension;
pub mod params;
pub mod proxy_header;
pub mod reply;
pub mod session;

pub use command::{Command, Verb};
pub use config::{Config, ConfigError};
pub use envelope::{AuthInfo, Envelope, Message, SessionInfo, TlsInfo};
pub use extension::Extension;
pub use reply::{replies, InvalidReplyCode, Reply, ReplyCode, ReplyError, ReplyParser};
pub use session::{Decision, LinkFault, Progress, Question, Session, State, Step};
