//! The SMTP protocol, pure: no sockets, no runtime, no clocks.
//!
//! [`Session`] is the channel (the reference's `SMTPChannel`) as a sans-I/O
//! state machine; the rest of this module is what its caller and a
//! handler meet: the steps and questions of a
//! session, the handler's decisions, the message and the session it came
//! on, the configuration. The parsers the session is made of are private.
//!
//! The words a test shares with a server ([`Reply`],
//! [`Envelope`] and its DSN parameters,
//! [`TlsInfo`], [`AuthInfo`],
//! [`Credentials`](crate::Credentials), [`Mechanism`](crate::Mechanism))
//! are defined here and named at the crate root.

mod address;
pub(crate) mod auth;
mod chunking;
mod command;
pub(crate) mod config;
mod data;
pub(crate) mod dsn;
pub(crate) mod envelope;
mod extension;
mod params;
pub(crate) mod proxy_header;
pub(crate) mod reply;
mod session;

pub use command::{Command, Verb};
pub use config::{Config, ConfigError, DATA_SIZE_DEFAULT};
#[allow(unused_imports)] // the crate's own short paths; the public ones are at the root
pub(crate) use dsn::{MailDsn, Notify, OriginalRecipient, RecipientDsn, Return};
pub(crate) use envelope::{AuthInfo, Envelope, TlsInfo};
pub use envelope::{Message, SessionInfo};
pub(crate) use extension::Extension;
#[allow(unused_imports)]
pub(crate) use reply::{replies, InvalidReplyCode, Reply, ReplyCode, ReplyError, ReplyParser};
pub use session::{Decision, LinkFault, Progress, Question, Session, State, Step};

/// The parsers under the session, gathered for [`crate::fuzzing`] (the one
/// door the fuzz targets use); with the non-default feature `fuzzing` only.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    pub use super::address::{parse_path, Path, NULL_PATH};
    pub use super::auth::{cram_md5_digest, AuthStep, Exchange};
    pub use super::config::{AUTH_LINE_LIMIT, DATA_SIZE_DEFAULT};
    pub use super::params::{Param, ParamError, Params};
    pub use super::proxy_header::{
        Parsed as ProxyParsed, ProxiedAddresses, ProxyHeader, ProxyHeaderError, V1_MAX_LENGTH, V2_MAX_LENGTH,
        V2_SIGNATURE,
    };
}
