//! The SMTP protocol, pure: no sockets, no runtime, no clocks.
//!
//! [`Session`] is the channel (the reference's `SMTPChannel`) as a sans-I/O
//! state machine; the rest of this module is what its caller and a
//! [`Handler`](crate::Handler) meet: the steps and questions of a session,
//! the handler's decisions, the envelope and message, the configuration,
//! replies. The parsers the session is made of are private.

mod address;
pub(crate) mod auth;
mod chunking;
mod command;
pub(crate) mod config;
mod data;
mod dsn;
mod envelope;
mod extension;
mod params;
pub(crate) mod proxy_header;
mod reply;
mod session;

pub use auth::{Credentials, Mechanism};
pub use command::{Command, Verb};
pub use config::{Config, ConfigError};
pub use dsn::{MailDsn, Notify, OriginalRecipient, RecipientDsn, Return};
pub use envelope::{AuthInfo, Envelope, Message, SessionInfo, TlsInfo};
pub(crate) use extension::Extension;
pub(crate) use reply::{replies, ReplyParser};
pub use reply::{InvalidReplyCode, Reply, ReplyCode, ReplyError};
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
