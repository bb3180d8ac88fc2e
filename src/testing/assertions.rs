//! Assertions on a received message, with diffs and the session transcript
//! when they fail.

use std::fmt::Debug;

use pretty_assertions::Comparison;

use super::message::ReceivedMessage;

impl ReceivedMessage {
    #[track_caller]
    fn assert_same<T: Debug + PartialEq + ?Sized>(&self, what: &str, expected: &T, actual: &T) {
        if expected != actual {
            self.fail(&format!(
                "{what} differs (left: expected, right: received)\n{}",
                Comparison::new(expected, actual)
            ));
        }
    }

    #[track_caller]
    pub(crate) fn fail(&self, problem: &str) -> ! {
        let transcript = match self.transcript() {
            Some(transcript) => format!("\nSMTP transcript:\n{transcript}"),
            None => String::new(),
        };
        panic!(
            "smtp-fixture: {problem}\n\nMessage: {}\n--- data ---\n{}\n--- end ---{transcript}",
            self.summary(),
            self.text()
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
        self.assert_same("Subject", &Some(expected.to_string()), &self.subject());
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

    /// Checks the envelope recipients (`RCPT TO`), in order.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let envelope = Envelope { rcpt_to: vec!["a@example.com".into()], ..Envelope::default() };
    /// ReceivedMessage::new(envelope, Vec::new()).assert_recipients(&["a@example.com"]);
    /// ```
    #[track_caller]
    pub fn assert_recipients(&self, expected: &[&str]) -> &Self {
        let actual: Vec<&str> = self.envelope.rcpt_to.iter().map(String::as_str).collect();
        self.assert_same("envelope recipients (RCPT TO)", expected, actual.as_slice());
        self
    }

    /// Checks a header's decoded value.
    #[track_caller]
    pub fn assert_header(&self, name: &str, expected: &str) -> &Self {
        self.assert_same(
            &format!("header {name}"),
            &Some(expected.to_string()),
            &self.header(name),
        );
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
            self.fail(&format!("the body does not contain {needle:?}.\n\nBody:\n{body}"));
        }
        self
    }
}
