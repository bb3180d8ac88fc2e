//! Assertions on a received message, with diffs and the session transcript
//! when they fail.

use std::fmt::Debug;

use super::message::ReceivedMessage;
use crate::testing::reporting::diff::{diff, diff_text};

impl ReceivedMessage {
    #[track_caller]
    fn assert_same<T: Debug + PartialEq + ?Sized>(&self, what: &str, expected: &T, actual: &T) {
        if expected != actual {
            self.fail(&format!("{what} differs\n{}", diff(expected, actual)));
        }
    }

    /// Fails with `problem`, the message (decoded, once) and its
    /// session's transcript.
    #[track_caller]
    pub(crate) fn fail(&self, problem: &str) -> ! {
        let (heading, shown) = self.as_reported();
        self.fail_showing(problem, heading, &shown)
    }

    /// Checks a text the message may lack (a header): a diff of the texts,
    /// or that there is none, never `Some(..)` around them.
    #[track_caller]
    fn assert_text(&self, what: &str, expected: &str, actual: Option<String>) {
        match actual {
            Some(actual) if actual == expected => {}
            Some(actual) => self.fail(&format!("{what} differs\n{}", diff_text(expected, &actual))),
            None => self.fail(&format!(
                "expected {what} {expected:?}, but the message has no {what}."
            )),
        }
    }

    /// Fails with `problem`, then `shown` (a part of the message, under the
    /// heading `what`) instead of the whole data, and the transcript with
    /// the message body left out: every report shows the body once.
    #[track_caller]
    fn fail_showing(&self, problem: &str, what: &str, shown: &str) -> ! {
        let transcript = match self.transcript() {
            Some(transcript) => format!(
                "\nSMTP transcript (message data left out):\n{}",
                transcript.without_bodies()
            ),
            None => String::new(),
        };
        panic!(
            "smtp-fixture: {problem}\n\nMessage: {}\n--- {what} ---\n{shown}\n--- end ---{transcript}",
            self.summary(),
        )
    }

    /// Checks the decoded `Subject`.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(Envelope::default(), b"Subject: Welcome\r\n\r\n".to_vec());
    /// message.assert_subject("Welcome");
    /// ```
    #[track_caller]
    pub fn assert_subject(&self, expected: &str) -> &Self {
        self.assert_text("Subject", expected, self.subject());
        self
    }

    /// Checks the envelope sender (`MAIL FROM`).
    #[track_caller]
    pub fn assert_sender(&self, expected: &str) -> &Self {
        self.assert_same(
            "envelope sender (MAIL FROM)",
            expected,
            self.envelope.mail_from.as_str(),
        );
        self
    }

    /// Checks the envelope recipients (`RCPT TO`), in order. Takes a slice
    /// of anything string-like: `&["a@example.com"]`, `&names` for a
    /// `Vec<String>` or a `Vec<&str>`.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let envelope = Envelope { rcpt_to: vec!["a@example.com".into()], ..Envelope::default() };
    /// let message = ReceivedMessage::new(envelope, Vec::new());
    /// message.assert_recipients(&["a@example.com"]);
    /// message.assert_recipients(&vec![String::from("a@example.com")]);
    /// ```
    #[track_caller]
    pub fn assert_recipients<S: AsRef<str>>(&self, expected: &[S]) -> &Self {
        let expected: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
        let actual: Vec<&str> = self.envelope.rcpt_to.iter().map(String::as_str).collect();
        self.assert_same(
            "envelope recipients (RCPT TO)",
            expected.as_slice(),
            actual.as_slice(),
        );
        self
    }

    /// Checks a header's decoded value.
    #[track_caller]
    pub fn assert_header(&self, name: &str, expected: &str) -> &Self {
        self.assert_text(&format!("header {name}"), expected, self.header(name));
        self
    }

    /// Checks that the text body (or, without one, the HTML body, or else
    /// the raw data) contains `needle`.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(Envelope::default(), b"Subject: x\r\n\r\nYour code is 123456\r\n".to_vec());
    /// message.assert_body_contains("123456");
    /// ```
    #[track_caller]
    pub fn assert_body_contains(&self, needle: &str) -> &Self {
        let body = self
            .text_body()
            .or_else(|| self.html_body())
            .unwrap_or_else(|| self.text());
        if !body.contains(needle) {
            let problem = format!("the body does not contain {needle:?}.");
            self.fail_showing(&problem, "body, decoded", &body);
        }
        self
    }
}
