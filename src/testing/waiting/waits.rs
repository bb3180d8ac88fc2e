//! The fixture's waits: until messages arrive, until one matches, that no
//! more come, and that a count is reached. Each blocking wait has an async
//! twin that waits without blocking the runtime's thread and, like the
//! blocking one, reports a failure at the caller's line.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use crate::testing::inboxes::Inbox;
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::store::Records;
use crate::testing::reporting::diff;
use crate::testing::starting::fixture::TestSmtpServer;

macro_rules! waits {
    ($fixture:ident) => {
        impl $fixture {
            /// Blocks until at least `count` messages were accepted and returns
            /// them all.
            ///
            /// In an async test, use
            /// [`wait_for_messages_async`](Self::wait_for_messages_async): on a
            /// current-thread runtime (`#[tokio::test]`'s default) a blocking wait
            /// holds the only thread, so a task of the test that sends the mail
            /// cannot run until the wait times out.
            ///
            /// # Panics
            ///
            /// After the wait timeout, with a report of what did arrive and the
            /// SMTP transcripts.
            #[track_caller]
            pub fn wait_for_messages(&self, count: usize) -> Vec<ReceivedMessage> {
                if !self.block_until(self.wait_timeout, |r| r.messages.len() >= count) {
                    self.fail_blocked(&self.count_problem(count), "wait_for_messages_async");
                }
                self.messages()
            }

            /// [`wait_for_messages`](Self::wait_for_messages) for async tests: waits
            /// without blocking the runtime's thread.
            #[track_caller]
            pub fn wait_for_messages_async(&self, count: usize) -> impl Future<Output = Vec<ReceivedMessage>> + '_ {
                let caller = Location::caller();
                async move {
                    if !self.changed_within(|r| r.messages.len() >= count).await {
                        self.fail_at(caller, &self.count_problem(count));
                    }
                    self.messages()
                }
            }

            /// Blocks until a message was accepted and returns the first one: the
            /// short form of `wait_for_messages(1).remove(0)`.
            ///
            /// # Panics
            ///
            /// After the wait timeout, with a report of the sessions.
            #[track_caller]
            pub fn wait_for_first_message(&self) -> ReceivedMessage {
                if !self.block_until(self.wait_timeout, |r| !r.messages.is_empty()) {
                    self.fail_blocked(&self.count_problem(1), "wait_for_first_message_async");
                }
                self.messages().swap_remove(0)
            }

            /// [`wait_for_first_message`](Self::wait_for_first_message) for async tests.
            #[track_caller]
            pub fn wait_for_first_message_async(&self) -> impl Future<Output = ReceivedMessage> + '_ {
                let waiting = self.wait_for_messages_async(1);
                async move { waiting.await.swap_remove(0) }
            }

            /// Blocks until a message for which `matches` holds was accepted, and
            /// returns the first such message.
            ///
            /// # Panics
            ///
            /// After the wait timeout, listing what did arrive.
            #[track_caller]
            pub fn wait_for_message(&self, matches: impl Fn(&ReceivedMessage) -> bool) -> ReceivedMessage {
                let mut found = None;
                self.block_until(self.wait_timeout, |r| {
                    found = r.messages.iter().find(|m| matches(m)).cloned();
                    found.is_some()
                });
                found.unwrap_or_else(|| self.fail_blocked(&self.no_match_problem(), "wait_for_message_async"))
            }

            /// [`wait_for_message`](Self::wait_for_message) for async tests. The
            /// predicate may borrow locals, as in the sync form; the future is
            /// `Send` when the predicate is `Sync`.
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// use smtp_fixture::TestSmtpServer;
            /// # use std::time::Duration;
            ///
            /// let server = TestSmtpServer::builder().wait_timeout(Duration::from_millis(50)).keep_artifacts(false).start();
            /// let wanted = String::from("ann@example.com"); // a local, borrowed below
            /// let waiting = server.wait_for_message_async(|m| m.envelope.rcpt_to.contains(&wanted));
            /// # let _ = waiting;
            /// # }
            /// ```
            #[track_caller]
            pub fn wait_for_message_async<'a>(
                &'a self,
                matches: impl Fn(&ReceivedMessage) -> bool + 'a,
            ) -> impl Future<Output = ReceivedMessage> + 'a {
                let caller = Location::caller();
                async move {
                    self.changed_within(|r| r.messages.iter().any(&matches)).await;
                    let found = self.messages().into_iter().find(|m| matches(m));
                    found.unwrap_or_else(|| self.fail_at(caller, &self.no_match_problem()))
                }
            }

            /// Waits `period` and fails if any message arrives meanwhile (use after
            /// the messages you expect, to check that nothing more comes).
            ///
            /// # Panics
            ///
            /// As soon as an unexpected message is accepted.
            #[track_caller]
            pub fn assert_no_new_messages(&self, period: Duration) {
                let before = self.store.lock().messages.len();
                if self.block_until(period, |r| r.messages.len() > before) {
                    self.fail(&no_new_problem(period, before));
                }
            }

            /// [`assert_no_new_messages`](Self::assert_no_new_messages) for async
            /// tests: the period passes without blocking the runtime's thread.
            #[track_caller]
            pub fn assert_no_new_messages_async(&self, period: Duration) -> impl Future<Output = ()> + '_ {
                let caller = Location::caller();
                let before = self.store.lock().messages.len();
                async move {
                    let arrived = self.store.changed_until(|r| r.messages.len() > before);
                    if self.within(period, arrived).await {
                        self.fail_at(caller, &no_new_problem(period, before));
                    }
                }
            }

            /// Checks that exactly `count` messages were accepted, waiting up to the
            /// wait timeout for them to arrive.
            ///
            /// # Panics
            ///
            /// With a diff of the counts and the report.
            #[track_caller]
            pub fn assert_message_count(&self, count: usize) {
                self.block_until(self.wait_timeout, |r| r.messages.len() >= count);
                if let Some(problem) = self.count_differs(count) {
                    self.fail_blocked(&problem, "assert_message_count_async");
                }
            }

            /// [`assert_message_count`](Self::assert_message_count) for async tests.
            #[track_caller]
            pub fn assert_message_count_async(&self, count: usize) -> impl Future<Output = ()> + '_ {
                let caller = Location::caller();
                async move {
                    self.changed_within(|r| r.messages.len() >= count).await;
                    if let Some(problem) = self.count_differs(count) {
                        self.fail_at(caller, &problem);
                    }
                }
            }

            /// The store's blocking wait, up to `timeout`. Returns whether `done`
            /// came true.
            pub(crate) fn block_until(&self, timeout: Duration, done: impl FnMut(&Records) -> bool) -> bool {
                self.store.wait_until(timeout, done)
            }

            /// Waits until `done` holds, up to the wait timeout, without blocking.
            pub(crate) async fn changed_within(&self, done: impl FnMut(&Records) -> bool) -> bool {
                self.within(self.wait_timeout, self.store.changed_until(done))
                    .await
            }

            /// Runs `wait` for up to `limit`. The timer runs on the fixture's
            /// runtime, so the caller's runtime needs none, and `wait` runs in the
            /// caller's task, so it may borrow. Returns whether it finished.
            async fn within(&self, limit: Duration, wait: impl Future<Output = ()>) -> bool {
                let mut timer = crate::testing::starting::runtime::runtime().spawn(tokio::time::sleep(limit));
                let finished = tokio::select! {
                    biased;
                    () = wait => true,
                    _ = &mut timer => false,
                };
                timer.abort();
                finished
            }

            fn count_problem(&self, count: usize) -> String {
                let arrived = self.store.lock().messages.len();
                format!(
                    "expected at least {count} message{} within {:?}, but {arrived} arrived.",
                    if count == 1 { "" } else { "s" },
                    self.wait_timeout
                )
            }

            fn count_differs(&self, count: usize) -> Option<String> {
                let actual = self.store.lock().messages.len();
                (actual != count).then(|| {
                    let diff = diff::diff(&count, &actual);
                    format!("expected {count} messages, got {actual}.\n{diff}")
                })
            }

            fn no_match_problem(&self) -> String {
                format!(
                    "expected a message matching the predicate within {:?}, but none of the {} received matched.",
                    self.wait_timeout,
                    self.store.lock().messages.len()
                )
            }
        }
    };
}

waits!(TestSmtpServer);
waits!(Inbox);

fn no_new_problem(period: Duration, before: usize) -> String {
    format!(
        "expected no new message within {period:?}, but message {} arrived.",
        before + 1
    )
}
