//! Waiting for a one-time code: the sign-in test's "what did the app
//! mail to ann@example.com?".

use std::future::Future;
use std::panic::Location;

use crate::testing::inboxes::Inbox;
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::store::Records;
use crate::testing::starting::fixture::TestSmtpServer;
use crate::testing::waiting::recipients::addressed_to;

macro_rules! codes {
    ($fixture:ident) => {
        impl $fixture {
            /// Blocks until a message to `address` (an envelope recipient, as
            /// in [`messages_to`](Self::messages_to)) that holds a one-time
            /// code was accepted, and returns the code of the newest such
            /// message (see [`ReceivedMessage::code`] for what counts).
            ///
            /// ```
            /// use smtp_fixture::TestSmtpServer;
            /// use std::io::{BufRead, BufReader, Write};
            /// use std::net::TcpStream;
            ///
            /// let server = TestSmtpServer::start();
            /// let mut client = TcpStream::connect(server.addr()).unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<ann@example.com>\r\n\
            ///     DATA\r\nSubject: Welcome\r\n\r\nHello\r\n.\r\nMAIL FROM:<app@example.com>\r\n\
            ///     RCPT TO:<ann@example.com>\r\nDATA\r\nSubject: Sign in\r\n\r\nYour code is 493 201\r\n.\r\nQUIT\r\n").unwrap();
            /// for _ in BufReader::new(client).lines() {}
            ///
            /// assert_eq!(server.wait_for_code_to("ann@example.com"), "493201");
            /// ```
            ///
            /// # Panics
            ///
            /// After the wait timeout, naming what each message to `address`
            /// held, with the usual report; or when the newest message with a
            /// code holds several (as [`ReceivedMessage::code`]).
            #[track_caller]
            pub fn wait_for_code_to(&self, address: &str) -> String {
                let mut found = None;
                self.block_until(self.wait_timeout, |records| {
                    found = newest_with_code(records, address);
                    found.is_some()
                });
                match found {
                    Some(message) => message.code(),
                    None => self.fail_blocked(&self.no_code_to(address), "wait_for_code_to_async"),
                }
            }

            /// [`wait_for_code_to`](Self::wait_for_code_to) for async tests:
            /// waits without blocking the runtime's thread.
            ///
            /// ```
            /// use smtp_fixture::TestSmtpServer;
            /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
            ///
            /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
            /// let server = TestSmtpServer::start();
            /// let mut client = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
            /// client.write_all(b"EHLO me\r\nMAIL FROM:<app@example.com>\r\nRCPT TO:<ann@example.com>\r\n\
            ///     DATA\r\nSubject: Sign in\r\n\r\nYour code: 771208\r\n.\r\nQUIT\r\n").await.unwrap();
            /// client.read_to_end(&mut Vec::new()).await.unwrap();
            ///
            /// assert_eq!(server.wait_for_code_to_async("ann@example.com").await, "771208");
            /// # });
            /// ```
            #[track_caller]
            pub fn wait_for_code_to_async<'a>(&'a self, address: &'a str) -> impl Future<Output = String> + 'a {
                let caller = Location::caller();
                async move {
                    self.changed_within(|records| newest_with_code(records, address).is_some())
                        .await;
                    let found = newest_with_code(&self.store.lock(), address);
                    match found {
                        Some(message) => message.code(),
                        None => self.fail_at(caller, &self.no_code_to(address)),
                    }
                }
            }

            fn no_code_to(&self, address: &str) -> String {
                let records = self.store.lock();
                let to_address: Vec<String> = records
                    .messages
                    .iter()
                    .filter(|message| addressed_to(message, address))
                    .map(|message| format!("\n  {}", message.summary()))
                    .collect();
                let listed = if to_address.is_empty() {
                    " none was addressed to it".to_string()
                } else {
                    format!(" {} to it, none with a code:{}", to_address.len(), to_address.concat())
                };
                format!(
                    "expected a message with a one-time code to {address} within {:?}; of the {} received,{listed}",
                    self.wait_timeout,
                    records.messages.len()
                )
            }
        }
    };
}

codes!(TestSmtpServer);
codes!(Inbox);

fn newest_with_code(records: &Records, address: &str) -> Option<ReceivedMessage> {
    records
        .messages
        .iter()
        .rev()
        .find(|message| addressed_to(message, address) && !message.codes().is_empty())
        .cloned()
}
