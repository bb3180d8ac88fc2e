//! Ready-made handlers: the reference's server kinds.

mod debugging;
mod proxy;
mod recording;
mod relay;
mod routing;
mod sink;

pub use crate::client::Upstream;
pub use debugging::DebuggingServer;
pub use proxy::PureProxy;
pub use recording::Recording;
pub use routing::RoutingProxy;
pub use sink::Sink;
