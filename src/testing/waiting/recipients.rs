//! Finding messages by envelope recipient: the last message, the messages
//! to an address, and waiting for one.

use std::future::Future;
use std::panic::Location;

use crate::testing::inboxes::Inbox;
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::store::Records;
use crate::testing::starting::fixture::TestSmtpServer;

macro_rules! recipients {
    ($fixture:ident) => {
        impl $fixture {
            /// The message accepted last, if any.
            ///
            /// ```
            /// use smtp_fixture::TestSmtpServer;
            /// use std::io::{BufRead, BufReader, Write};
            /// use std::net::TcpStream;
            ///
            /// let server = TestSmtpServer::start();
            /// assert!(server.last_message().is_none());
            ///
            /// let mut client = TcpStream::connect(server.addr()).unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
            ///     DATA\r\nSubject: first\r\n\r\n.\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
            ///     DATA\r\nSubject: second\r\n\r\n.\r\nQUIT\r\n").unwrap();
            /// for _ in BufReader::new(client).lines() {}
            ///
            /// assert_eq!(server.last_message().unwrap().subject().as_deref(), Some("second"));
            /// ```
            pub fn last_message(&self) -> Option<ReceivedMessage> {
                self.store.lock().messages.back().cloned()
            }

            /// The messages accepted so far whose envelope names `address` as a
            /// recipient (`RCPT TO`, so Bcc recipients count), in order. The local
            /// part must match exactly, the domain in any case; angle brackets
            /// around `address` are ignored.
            ///
            /// ```
            /// use smtp_fixture::{Envelope, ReceivedMessage, TestSmtpServer};
            /// use std::io::{BufRead, BufReader, Write};
            /// use std::net::TcpStream;
            ///
            /// let server = TestSmtpServer::start();
            /// let mut client = TcpStream::connect(server.addr()).unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<Ann@Example.COM>\r\n\
            ///     DATA\r\nSubject: hi\r\n\r\nHello\r\n.\r\nQUIT\r\n").unwrap();
            /// for _ in BufReader::new(client).lines() {}
            ///
            /// assert_eq!(server.messages_to("Ann@example.com").len(), 1);
            /// assert_eq!(server.messages_to("<Ann@EXAMPLE.com>").len(), 1);
            /// assert!(server.messages_to("ann@example.com").is_empty(), "the local part is case-sensitive");
            /// ```
            pub fn messages_to(&self, address: &str) -> Vec<ReceivedMessage> {
                self.store
                    .lock()
                    .messages
                    .iter()
                    .filter(|message| addressed_to(message, address))
                    .cloned()
                    .collect()
            }

            /// Blocks until a message to `address` (an envelope recipient, matched
            /// as in [`messages_to`](Self::messages_to)) was accepted, and returns
            /// the first such message.
            ///
            /// ```
            /// use smtp_fixture::TestSmtpServer;
            /// use std::io::{BufRead, BufReader, Write};
            /// use std::net::TcpStream;
            ///
            /// let server = TestSmtpServer::start();
            /// let mut client = TcpStream::connect(server.addr()).unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
            ///     DATA\r\nSubject: Welcome\r\n\r\nHello\r\n.\r\nQUIT\r\n").unwrap();
            /// for _ in BufReader::new(client).lines() {}
            ///
            /// let message = server.wait_for_message_to("bob@example.com");
            /// assert_eq!(message.subject().as_deref(), Some("Welcome"));
            /// ```
            ///
            /// # Panics
            ///
            /// After the wait timeout, naming the recipients that did get mail,
            /// with the usual report of messages and transcripts.
            #[track_caller]
            pub fn wait_for_message_to(&self, address: &str) -> ReceivedMessage {
                let mut found = None;
                self.block_until(self.wait_timeout, |records| {
                    found = first_to(records, address);
                    found.is_some()
                });
                found.unwrap_or_else(|| self.fail_blocked(&self.nothing_to(address), "wait_for_message_to_async"))
            }

            /// [`wait_for_message_to`](Self::wait_for_message_to) for async tests:
            /// waits without blocking the runtime's thread.
            ///
            /// ```
            /// use smtp_fixture::TestSmtpServer;
            /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
            ///
            /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            /// let server = TestSmtpServer::start();
            /// let mut client = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<bob@example.com>\r\n\
            ///     DATA\r\nSubject: Welcome\r\n\r\nHello\r\n.\r\nQUIT\r\n").await.unwrap();
            /// client.read_to_end(&mut Vec::new()).await.unwrap();
            ///
            /// let message = server.wait_for_message_to_async("bob@example.com").await;
            /// assert_eq!(message.subject().as_deref(), Some("Welcome"));
            /// # });
            /// ```
            #[track_caller]
            pub fn wait_for_message_to_async<'a>(
                &'a self,
                address: &'a str,
            ) -> impl Future<Output = ReceivedMessage> + 'a {
                let caller = Location::caller();
                async move {
                    self.changed_within(|records| first_to(records, address).is_some())
                        .await;
                    let found = first_to(&self.store.lock(), address);
                    found.unwrap_or_else(|| self.fail_at(caller, &self.nothing_to(address)))
                }
            }

            fn nothing_to(&self, address: &str) -> String {
                let records = self.store.lock();
                let mut seen: Vec<&str> = Vec::new();
                for recipient in records.messages.iter().flat_map(|m| &m.envelope.rcpt_to) {
                    if !seen.contains(&recipient.as_str()) {
                        seen.push(recipient);
                    }
                }
                let seen = if seen.is_empty() {
                    "none".to_string()
                } else {
                    seen.join(", ")
                };
                let refused = records
                    .rejected
                    .iter()
                    .filter(|refused| addressed_to(&refused.message, address))
                    .count();
                let refused = match refused {
                    0 => String::new(),
                    1 => " 1 message to it was refused at the final reply.".to_string(),
                    n => format!(" {n} messages to it were refused at the final reply."),
                };
                format!(
                    "expected a message to {address} within {:?}, but none of the {} received was addressed to it \
                     (envelope recipients: {seen}).{refused}",
                    self.wait_timeout,
                    records.messages.len()
                )
            }
        }
    };
}

recipients!(TestSmtpServer);
recipients!(Inbox);

fn first_to(records: &Records, address: &str) -> Option<ReceivedMessage> {
    records
        .messages
        .iter()
        .find(|message| addressed_to(message, address))
        .cloned()
}

pub(crate) fn addressed_to(message: &ReceivedMessage, address: &str) -> bool {
    message
        .envelope
        .rcpt_to
        .iter()
        .any(|recipient| same_mailbox(recipient, address))
}

/// RFC 5321: the local part may be case-sensitive, the domain is not.
fn same_mailbox(recipient: &str, wanted: &str) -> bool {
    let bare = |address: &str| -> String {
        let address = address.trim();
        let address = address.strip_prefix('<').unwrap_or(address);
        address.strip_suffix('>').unwrap_or(address).to_string()
    };
    let (recipient, wanted) = (bare(recipient), bare(wanted));
    match (recipient.rsplit_once('@'), wanted.rsplit_once('@')) {
        (Some((local, domain)), Some((wanted_local, wanted_domain))) => {
            local == wanted_local && domain.eq_ignore_ascii_case(wanted_domain)
        }
        _ => recipient == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::same_mailbox;

    #[test]
    fn local_parts_match_exactly_domains_in_any_case() {
        assert!(same_mailbox("ann@example.com", "ann@EXAMPLE.com"));
        assert!(same_mailbox("ann@example.com", " <ann@example.com> "));
        assert!(same_mailbox("\"a@b\"@example.com", "\"a@b\"@Example.com"));
        assert!(!same_mailbox("ann@example.com", "Ann@example.com"));
        assert!(!same_mailbox("ann@example.com", "ann@example.org"));
        assert!(!same_mailbox("ann@example.com", "ann"));
        assert!(same_mailbox("postmaster", "postmaster"));
    }
}
