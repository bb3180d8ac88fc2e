//! Ready-made handlers: the reference's server kinds.

mod debugging;
mod per_recipient;
mod proxy;
mod recording;
mod relay;
mod routing;
mod session_key;
mod sink;
mod x_peer;

pub use crate::client::Upstream;
pub use debugging::DebuggingServer;
pub use per_recipient::PerRecipientProxy;
pub use proxy::PureProxy;
pub use recording::Recording;
pub use routing::RoutingProxy;
pub use sink::Sink;
