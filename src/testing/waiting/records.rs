//! What a server and an inbox share, written once for both: reading
//! their records, their rules' expectations, and failing with a report of
//! what they saw. The waits (`waits.rs`, `recipients.rs`) are shared the
//! same way.

use std::io;
use std::panic::Location;
use std::path::PathBuf;
use std::time::Duration;

use crate::testing::inboxes::Inbox;
use crate::testing::inspecting::message::ReceivedMessage;
use crate::testing::recording::duplicates::same_message;
use crate::testing::recording::refusals::{RefusedRecipient, RejectedMessage};
use crate::testing::recording::transcript::Transcript;
use crate::testing::reporting::{artifacts, report};
use crate::testing::starting::fixture::TestSmtpServer;

/// The methods over a `store` (its records) and a `script` (its rules).
macro_rules! records {
    ($fixture:ident) => {
        impl $fixture {
            /// How long waits last before failing.
            pub fn wait_timeout(&self) -> Duration {
                self.wait_timeout
            }

            /// The messages accepted so far, in order (an [`Inbox`](crate::Inbox)'s:
            /// those addressed to it, each naming only its own recipients in
            /// `envelope.rcpt_to`). A snapshot that copies no
            /// body: its [`data`](ReceivedMessage::data) shares the fixture's
            /// buffers.
            pub fn messages(&self) -> Vec<ReceivedMessage> {
                self.store.lock().messages.iter().cloned().collect()
            }

            /// The messages stored more than once: every later arrival of a
            /// message already stored ([`ReceivedMessage::is_duplicate`]), in
            /// order. A sender that retries after a lost final reply
            /// ([`Action::lose_reply`](crate::Action::lose_reply)) leaves one here.
            pub fn duplicates(&self) -> Vec<ReceivedMessage> {
                self.store
                    .lock()
                    .messages
                    .iter()
                    .filter(|message| message.is_duplicate())
                    .cloned()
                    .collect()
            }

            /// Fails the test if a message was stored more than once (see
            /// [`duplicates`](Self::duplicates)), naming each one with every
            /// arrival of it.
            ///
            /// ```should_panic
            /// use std::io::{BufRead, BufReader, Write};
            /// use std::net::TcpStream;
            /// use smtp_fixture::TestSmtpServer;
            ///
            /// let server = TestSmtpServer::builder().keep_artifacts(false).start();
            /// let stream = TcpStream::connect(server.addr()).unwrap();
            /// let mut reader = BufReader::new(stream.try_clone().unwrap());
            /// let mut writer = stream;
            /// let mail = "MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nMessage-ID: <1@example.com>\r\n\r\nHi\r\n.\r\n";
            /// write!(writer, "HELO app\r\n{mail}{mail}QUIT\r\n").unwrap();
            /// let mut line = String::new();
            /// while reader.read_line(&mut line).unwrap() > 0 {}
            /// server.assert_no_duplicates(); // panics: <1@example.com> arrived twice
            /// ```
            #[track_caller]
            pub fn assert_no_duplicates(&self) {
                let messages = self.messages();
                let duplicates: Vec<&ReceivedMessage> = messages
                    .iter()
                    .filter(|message| message.is_duplicate())
                    .collect();
                if duplicates.is_empty() {
                    return;
                }
                let mut problem = format!(
                    "expected no message stored twice, but {} {} a message stored before:",
                    duplicates.len(),
                    if duplicates.len() == 1 {
                        "arrival repeats"
                    } else {
                        "arrivals repeat"
                    },
                );
                let mut named: Vec<&ReceivedMessage> = Vec::new();
                for duplicate in duplicates {
                    if named.iter().any(|shown| same_message(shown, duplicate)) {
                        continue;
                    }
                    named.push(duplicate);
                    let arrivals: Vec<&ReceivedMessage> = messages
                        .iter()
                        .filter(|m| same_message(m, duplicate))
                        .collect();
                    let what = duplicate.message_id().map_or_else(
                        || "a message without Message-ID".to_string(),
                        |id| format!("Message-ID <{id}>"),
                    );
                    problem.push_str(&format!(
                        "\n  {what} to {:?} arrived {} times:",
                        duplicate.envelope.rcpt_to,
                        arrivals.len()
                    ));
                    for arrival in arrivals {
                        problem.push_str(&format!(
                            "\n    session {} from {}{}",
                            arrival.session_id,
                            arrival.peer,
                            if arrival.is_duplicate() {
                                " (duplicate)"
                            } else {
                                " (first)"
                            }
                        ));
                    }
                }
                self.fail(&problem);
            }

            /// Messages that got a refusal as their final reply (from a scripted
            /// reply or handler), in order. Like [`messages`](Self::messages), the
            /// snapshot shares the bodies.
            pub fn rejected(&self) -> Vec<RejectedMessage> {
                self.store.lock().rejected.iter().cloned().collect()
            }

            /// Recipients refused at `RCPT TO` by a scripted rule (or the handler),
            /// in order: they are in no envelope. Refusals the server makes itself
            /// (bad syntax, the recipient limit) are only in the transcripts. In
            /// LMTP also the recipients refused by their own final reply after the
            /// message ([`RefusedRecipient::after_data`]): the message recorded for
            /// the others does not name them.
            pub fn refused_recipients(&self) -> Vec<RefusedRecipient> {
                self.store
                    .lock()
                    .refused_recipients
                    .iter()
                    .cloned()
                    .collect()
            }

            /// The transcript of every session so far (also open ones), oldest
            /// first; an [`Inbox`](crate::Inbox)'s: of the sessions that named one
            /// of its addresses.
            pub fn transcripts(&self) -> Vec<Transcript> {
                self.store.transcripts()
            }

            /// The transcript of the session a message arrived on.
            pub fn transcript_of(&self, message: &ReceivedMessage) -> Option<Transcript> {
                self.store
                    .transcript(message.session_id)
                    .map(|t| t.snapshot())
            }

            /// Forgets the messages, the refusals and the transcripts of finished
            /// sessions: between tests that share one server (see [sharing
            /// one server](Self#one-server-for-many-tests)). Rules stay: see
            /// [`clear_rules`](Self::clear_rules).
            pub fn clear(&self) {
                self.store.clear();
            }

            /// Removes every rule: the server behaves normally again, and no
            /// expectation of a removed rule is checked any more.
            pub fn clear_rules(&self) {
                self.script.clear();
            }

            /// Checks the rules' expectations (`.expect(n)`) now, as dropping the
            /// server does: for a server that is never dropped (a `static`).
            ///
            /// ```should_panic
            /// use smtp_fixture::{on, Reply, TestSmtpServer};
            ///
            /// let server = TestSmtpServer::builder().keep_artifacts(false).start();
            /// server.respond(on::message(), Reply::new(451, "4.3.0 Later")).expect(1);
            /// server.verify(); // panics: the rule never fired
            /// ```
            ///
            /// # Panics
            ///
            /// When a rule fired a number of times outside what it expects, naming
            /// the rule, where it was added, and the report of the sessions.
            #[track_caller]
            pub fn verify(&self) {
                if let Some(problem) = self.unmet_expectations() {
                    self.fail(&problem);
                }
            }

            /// What [`verify`](Self::verify) and dropping report, if anything.
            pub(crate) fn unmet_expectations(&self) -> Option<String> {
                let unmet = self.script.unmet_expectations();
                (!unmet.is_empty()).then(|| {
                    format!(
                        "scripted reply expectations not met:\n  {}",
                        unmet.join("\n  ")
                    )
                })
            }

            /// Fails the test with `problem` and the report of what arrived.
            #[track_caller]
            pub(crate) fn fail(&self, problem: &str) -> ! {
                panic!("{}", report::failure(&self.store, problem))
            }

            /// [`fail`](Self::fail) for a blocking wait that timed out: on a
            /// current-thread tokio runtime, says why nothing could arrive and
            /// names the async twin to use instead.
            #[track_caller]
            pub(crate) fn fail_blocked(&self, problem: &str, async_twin: &str) -> ! {
                match report::blocked_runtime_hint(async_twin) {
                    Some(hint) => self.fail(&format!("{problem}\n{hint}")),
                    None => self.fail(problem),
                }
            }

            /// [`fail`](Self::fail) from inside a future, reported at `caller`,
            /// the test's line that made the future.
            pub(crate) fn fail_at(&self, caller: &'static Location<'static>, problem: &str) -> ! {
                report::panic_at(caller, report::failure(&self.store, problem))
            }

            /// Writes every message (`NNN.eml`) and transcript (`transcripts.txt`)
            /// to a new directory that is kept, and returns its path.
            pub fn save_artifacts(&self) -> io::Result<PathBuf> {
                artifacts::save(&self.store)
            }
        }
    };
}

records!(TestSmtpServer);
records!(Inbox);
