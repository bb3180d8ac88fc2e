//! The replies a proxy makes up itself, when the upstream's own cannot be
//! passed on: what went wrong, and whether the client should retry.

use crate::client::{one_line, Failure, Upstream};
use crate::protocol::Reply;

/// `451 4.4.1`: the upstream could not be reached or failed; the client
/// keeps the message and tries again.
pub(crate) fn unavailable(upstream: &Upstream, failure: &Failure) -> Reply {
    Reply::new(
        451,
        format!("4.4.1 Upstream {upstream} unavailable ({failure}); try again later"),
    )
}

/// `451 4.4.1`: the connection failed after the message was sent, so it
/// may have been delivered; a retry risks a duplicate, which RFC 5321 (6.1)
/// prefers to a loss.
pub(crate) fn lost_after_data(upstream: &Upstream, failure: &Failure) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream}: {failure} after the message was sent; \
             it may have been delivered, try again later"
        ),
    )
}

/// `451 4.4.1` for an upstream's transient (4xx) reply, which it quotes.
pub(crate) fn deferred(upstream: &Upstream, command: &str, reply: &Reply) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream} answered {command} with {}; try again later",
            one_line(reply)
        ),
    )
}

/// `451 4.4.1` for an upstream reply that makes no sense at that point (a
/// 3xx to RCPT, say), which it quotes.
pub(crate) fn unexpected(upstream: &Upstream, command: &str, reply: &Reply) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream} answered {command} with an unexpected {}; try again later",
            one_line(reply)
        ),
    )
}

/// `553 5.6.7`: a UTF-8 address for an upstream without SMTPUTF8 (RFC 6531,
/// 3.5).
pub(crate) fn utf8_address_refused(upstream: &Upstream, address: &str) -> Reply {
    Reply::new(
        553,
        format!("5.6.7 <{address}> needs SMTPUTF8, which upstream {upstream} does not support"),
    )
}

/// `554 5.6.9`: UTF-8 headers for an upstream without SMTPUTF8 (RFC 6531,
/// 3.5).
pub(crate) fn utf8_headers_refused(upstream: &Upstream) -> Reply {
    Reply::new(
        554,
        format!("5.6.9 The message has UTF-8 headers (SMTPUTF8), which upstream {upstream} does not support"),
    )
}
