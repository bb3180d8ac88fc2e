//! Telling sessions apart across hooks, for handlers that keep state per
//! session.

use std::net::SocketAddr;

use crate::protocol::SessionInfo;

/// Identifies a session across hooks. The id alone is unique within one
/// server; the peer keeps two servers sharing a handler apart.
pub(crate) type SessionKey = (u64, SocketAddr);

/// The key of `info`'s session.
pub(crate) fn key(info: &SessionInfo) -> SessionKey {
    (info.id, info.peer)
}
