//! Ready-made handlers: the reference's server kinds.

mod debugging;
mod sink;

pub use debugging::DebuggingServer;
pub use sink::Sink;
