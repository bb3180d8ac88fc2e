//! Recording: the handler that records every message and session, the
//! store a test reads and waits on, the messages' shared bytes and the
//! sessions' transcripts.

pub(crate) mod auth_policy;
pub(crate) mod dns;
pub(crate) mod duplicates;
pub(crate) mod message_data;
pub(crate) mod recorder;
pub(crate) mod refusals;
pub(crate) mod store;
pub(crate) mod transcript;

pub use message_data::MessageData;
pub use refusals::{RefusedRecipient, RejectedMessage};
pub use transcript::{Direction, Transcript, TranscriptLine};
#[cfg(feature = "http")]
pub(crate) use {
    dns::DnsRecords,
    recorder::Recorded,
    store::{x_tags, MessageMeta, Records, Store, StoreEvent, Tagger},
};
