//! Inspecting a received message: its parsed views, links, RFC lint,
//! snapshot, and assertions.

mod assertions;
#[cfg(feature = "dkim")]
mod authentication;
mod codes;
mod decoded;
mod deliverability;
mod links;
mod lint;
pub(crate) mod message;
mod snapshot;

#[cfg(feature = "dkim")]
pub use authentication::{Authentication, DkimResult};
pub use deliverability::{Finding, GMAIL_CLIP_BYTES};
pub use links::{Link, LinkSource};
pub use lint::Violation;
pub use message::{Attachment, ReceivedMessage};
pub use snapshot::MASKED_HEADERS;
