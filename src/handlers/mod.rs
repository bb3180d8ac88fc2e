//! Ready-made handlers: the reference's server kinds.

mod debugging;
mod proxy;
mod relay;
mod routing;
mod sink;
mod upstream;

pub use debugging::DebuggingServer;
pub use proxy::PureProxy;
pub use routing::RoutingProxy;
pub use sink::Sink;
pub use upstream::Upstream;
