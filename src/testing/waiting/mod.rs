//! Reading and waiting: a server's or an inbox's records, their blocking
//! waits and async twins, and the assertions that wait. Each is written
//! once, as a macro, for both [`TestSmtpServer`](crate::TestSmtpServer) and
//! [`Inbox`](crate::Inbox).

mod codes;
pub(crate) mod recipients;
mod records;
mod sessions;
mod waits;
