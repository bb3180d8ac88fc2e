//! Relaying messages upstream, shared by [`PureProxy`](super::PureProxy),
//! [`PerRecipientProxy`](super::PerRecipientProxy) and
//! [`RoutingProxy`](super::RoutingProxy): the `MAIL` line, the replies a
//! proxy makes up, a whole-message delivery, and the one final reply for
//! what became of each recipient.

mod delivery;
mod mail;
mod outcome;
mod replies;

pub(crate) use delivery::{deliver, Delivery};
pub(crate) use mail::mail_command;
pub(crate) use outcome::Outcome;
pub(crate) use replies::{
    deferred, lost_after_data, unavailable, unexpected, utf8_address_refused, utf8_headers_refused,
};
