//! The server's drop guard for [`Handler::on_close`].

use std::ops::{Deref, DerefMut};

use super::Handler;
use crate::protocol::Session;

/// A session that tells its handler when it ends: the server's drop guard.
/// Dropped with the connection task however that ends (returned, failed,
/// or cancelled at shutdown), so [`Handler::on_close`] runs exactly once.
pub(crate) struct Closing<'h, H: Handler> {
    handler: &'h H,
    session: Session,
}

impl<'h, H: Handler> Closing<'h, H> {
    /// Guards `session`; from here on, `handler` hears of its end.
    pub(crate) fn new(handler: &'h H, session: Session) -> Closing<'h, H> {
        Closing { handler, session }
    }
}

impl<H: Handler> Deref for Closing<'_, H> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<H: Handler> DerefMut for Closing<'_, H> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl<H: Handler> Drop for Closing<'_, H> {
    fn drop(&mut self) {
        self.handler.on_close(self.session.info());
    }
}
