//! Inboxes: one server shared by many tests, each test with addresses of
//! its own, and the mail, refusals, transcripts and rules that concern
//! them. The server's methods are not copied: the reading and waiting ones
//! are written once for both (`testing/waiting/`), and an inbox's rules are
//! a [`Script`](crate::testing::scripting::rules::Script) like the server's,
//! asked by a handler layer only for the inbox's recipients.

mod inbox;
pub(crate) mod registry;
pub(crate) mod routing;

pub use inbox::Inbox;
