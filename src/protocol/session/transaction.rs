//! The mail transaction: MAIL, RCPT, DATA and the message that ends it.

use std::ops::Range;

use super::{Phase, Question, Session, Step, Transaction};
use crate::protocol::address::{parse_path, Path};
use crate::protocol::command::Verb;
use crate::protocol::data::{DataDecoder, DataOutcome};
use crate::protocol::dsn::{MailDsn, RecipientDsn};
use crate::protocol::envelope::{Envelope, Message};
use crate::protocol::params::{Param, Params};
use crate::protocol::reply::{replies, Reply};

impl Session {
    /// Reads `FROM:<path>` / `TO:<path>` as the reference does; `None` means
    /// the command's 501 syntax reply. Whatever follows the path (in
    /// `Path::rest`) is only allowed after EHLO.
    fn path<'a>(&self, keyword: &str, arg: &'a str) -> Option<Path<'a>> {
        let head = arg.get(..keyword.len())?;
        if !head.eq_ignore_ascii_case(keyword) {
            return None;
        }
        let path = parse_path(&arg[keyword.len()..])?;
        if !self.info.extended && !path.rest.is_empty() {
            return None;
        }
        Some(path)
    }

    pub(super) fn mail(&mut self, arg: Option<String>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        if self.config.require_tls && self.info.tls.is_none() {
            return Step::Reply(replies::must_starttls());
        }
        if self.config.require_auth && self.info.auth.is_none() {
            return Step::Reply(replies::auth_required());
        }
        let Some(arg) = arg else {
            return self.syntax_error(Verb::Mail);
        };
        let Some(path) = self.path("FROM:", &arg) else {
            return self.syntax_error(Verb::Mail);
        };
        if self.transaction.is_some() {
            return self.refuse(replies::nested_mail());
        }
        // The reference reads the parameters only now, after the nested
        // MAIL check, into a dict (a later duplicate wins), and judges BODY,
        // SMTPUTF8 and SIZE in that order before anything it does not know.
        let Ok(params) = Params::parse(path.rest) else {
            return self.syntax_error(Verb::Mail);
        };
        let (dsn, smtputf8) = match self.judge_mail_params(&params, path.rest) {
            Ok(accepted) => accepted,
            Err(refusal) => return refusal,
        };
        if !path.is_ascii() && !smtputf8 {
            return Step::Reply(replies::non_ascii_address());
        }
        self.pending_mail_dsn = dsn;
        let address = span(&arg, path.address);
        self.ask(Question::Mail {
            address: into_part(arg, address),
            params: params.raw,
        })
    }

    /// Judges MAIL's parameters (`as_sent`: as the client wrote them) in
    /// the reference's order: BODY, SMTPUTF8, SIZE, then DSN and anything
    /// unknown. The DSN request and whether SMTPUTF8 was declared, or the
    /// refusal.
    fn judge_mail_params(&mut self, params: &Params, as_sent: &str) -> Result<(MailDsn, bool), Step> {
        let (mut body, mut smtputf8, mut size) = (None, None, None);
        let mut requiretls = None;
        let mut unrecognized = false;
        let mut dsn = MailDsn::default();
        let mut dsn_error = None;
        for (param, param_as_sent) in params.parsed.iter().zip(as_sent.split_whitespace()) {
            match param {
                Param::Body(value) if !self.config.decode_data => body = Some(value.as_str()),
                Param::SmtpUtf8(value) if self.config.enable_smtputf8 => smtputf8 = Some(value.is_none()),
                Param::Size(value) => size = Some(Some(*value)),
                Param::Other { keyword, .. } if keyword == "SIZE" => size = Some(None),
                Param::Other { keyword, value } if keyword == "REQUIRETLS" && self.requiretls_offered() => {
                    requiretls = Some(value.is_none());
                }
                Param::Other { keyword, .. } if self.config.dsn => {
                    match dsn.add(keyword, value_as_sent(param_as_sent)) {
                        Ok(known) => unrecognized |= !known,
                        Err(error) => dsn_error = dsn_error.or(Some(error)),
                    }
                }
                _ => unrecognized = true,
            }
        }
        let binary = self.config.chunking && !self.config.decode_data;
        if body.is_some_and(|body| body != "7BIT" && body != "8BITMIME" && !(binary && body == "BINARYMIME"))
        {
            let reply = if binary {
                replies::bad_body_with_binarymime()
            } else {
                replies::bad_body()
            };
            return Err(self.refuse(reply));
        }
        if smtputf8 == Some(false) {
            return Err(self.refuse(replies::smtputf8_takes_no_arguments()));
        }
        if requiretls == Some(false) {
            return Err(self.refuse(replies::requiretls_takes_no_arguments()));
        }
        if size == Some(None) {
            return Err(self.syntax_error(Verb::Mail));
        }
        let size = size.flatten();
        let limit = self.config.data_size_limit as u64;
        if limit > 0 && size.is_some_and(|size| size > limit) {
            return Err(Step::Reply(replies::size_exceeds_limit()));
        }
        if let Some(error) = dsn_error {
            return Err(self.refuse(replies::bad_dsn_parameter(&error.0)));
        }
        if unrecognized {
            return Err(Step::Reply(replies::mail_params_not_recognized()));
        }
        Ok((dsn, smtputf8 == Some(true)))
    }

    pub(super) fn rcpt(&mut self, arg: Option<String>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        let Some(envelope) = self.envelope() else {
            return self.refuse(replies::need_mail());
        };
        if self.transaction.as_ref().is_some_and(|t| t.body.is_some()) {
            return self.refuse(replies::bdat_in_progress());
        }
        let smtputf8 = envelope.smtputf8();
        let recipients = envelope.rcpt_to.len();
        let Some(arg) = arg else {
            return self.syntax_error(Verb::Rcpt);
        };
        let Some(path) = self.path("TO:", &arg).filter(|path| !path.is_null()) else {
            return self.syntax_error(Verb::Rcpt);
        };
        let Ok(params) = Params::parse(path.rest) else {
            return self.syntax_error(Verb::Rcpt);
        };
        // Made only for a recipient with parameters: most have none.
        let mut dsn: Option<RecipientDsn> = None;
        for (param, as_sent) in params.parsed.iter().zip(path.rest.split_whitespace()) {
            let known = match param {
                Param::Other { keyword, .. } if self.config.dsn => dsn
                    .get_or_insert_with(|| RecipientDsn::new(path.address))
                    .add(keyword, value_as_sent(as_sent)),
                _ => Ok(false),
            };
            match known {
                Ok(true) => {}
                Ok(false) => return Step::Reply(replies::rcpt_params_not_recognized()),
                Err(error) => return self.refuse(replies::bad_dsn_parameter(&error.0)),
            }
        }
        if !path.is_ascii() && !smtputf8 {
            return Step::Reply(replies::non_ascii_address());
        }
        let limit = self.config.max_recipients;
        if limit > 0 && recipients >= limit {
            return Step::Reply(replies::too_many_recipients());
        }
        self.pending_rcpt_dsn = dsn.filter(|dsn| !dsn.is_empty());
        let address = span(&arg, path.address);
        self.ask(Question::Rcpt {
            address: into_part(arg, address),
            params: params.raw,
        })
    }

    pub(super) fn data(&mut self, arg: Option<&str>) -> Step {
        if self.info.helo.is_empty() {
            return self.refuse(replies::need_helo());
        }
        if self.envelope().is_none_or(|e| e.rcpt_to.is_empty()) {
            return self.refuse(replies::need_rcpt());
        }
        if arg.is_some() {
            return self.syntax_error(Verb::Data);
        }
        match &self.transaction {
            Some(transaction) if transaction.body.is_some() => {
                return self.refuse(replies::bdat_in_progress())
            }
            Some(transaction) if transaction.envelope.binary_mime() => {
                return self.refuse(replies::binarymime_needs_bdat())
            }
            _ => {}
        }
        self.ask(Question::Data)
    }

    /// The handler let MAIL through: the transaction starts.
    pub(super) fn start_transaction(
        &mut self,
        address: String,
        params: Vec<String>,
        reply: Option<Reply>,
    ) -> Step {
        self.recipient_params.clear();
        self.transaction = Some(Transaction {
            envelope: Envelope {
                mail_from: address,
                mail_options: params,
                dsn: std::mem::take(&mut self.pending_mail_dsn),
                ..Envelope::default()
            },
            body: None,
        });
        Step::Reply(reply.unwrap_or_else(replies::ok))
    }

    /// The handler let RCPT through: the recipient joins the envelope.
    pub(super) fn add_recipient(
        &mut self,
        address: String,
        params: Vec<String>,
        reply: Option<Reply>,
    ) -> Step {
        if let Some(transaction) = &mut self.transaction {
            self.recipient_params.push(params.len());
            transaction.envelope.rcpt_to.push(address);
            transaction.envelope.rcpt_options.extend(params);
            transaction.envelope.rcpt_dsn.extend(self.pending_rcpt_dsn.take());
        }
        Step::Reply(reply.unwrap_or_else(replies::ok))
    }

    /// The handler let DATA through: `354`, and the message is read into
    /// the transaction.
    pub(super) fn start_data(&mut self, reply: Option<Reply>) -> Step {
        // DATA is only asked about with a transaction open.
        if let Some(transaction) = self.transaction.take() {
            let decoder = DataDecoder::new(self.config.data_size_limit);
            self.phase = Phase::Data(decoder, transaction);
        }
        Step::Reply(reply.unwrap_or_else(replies::start_data))
    }

    /// The final dot arrived: the message goes to the handler, or is
    /// refused when it was too large.
    pub(super) fn finish_data(&mut self) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::commands());
        let Phase::Data(decoder, transaction) = phase else {
            // Only called while reading the message.
            self.phase = phase;
            return Step::Continue;
        };
        let unstuffed_dot_lines = decoder.unstuffed_dot_lines();
        let data = match decoder.finish() {
            DataOutcome::TooLarge => return self.final_refusal(replies::too_much_data()),
            DataOutcome::Message(data) => data,
        };
        self.complete_message(transaction.envelope, data, unstuffed_dot_lines)
    }

    /// The message is all there (after DATA's final dot or BDAT LAST): the
    /// handler decides its reply.
    pub(super) fn complete_message(
        &mut self,
        envelope: Envelope,
        data: Vec<u8>,
        unstuffed_dot_lines: usize,
    ) -> Step {
        if self.config.decode_data && std::str::from_utf8(&data).is_err() {
            return self.final_refusal(replies::data_not_utf8());
        }
        self.ask(Question::Message(Box::new(Message {
            session: self.info.clone(),
            envelope,
            data,
            unstuffed_dot_lines,
        })))
    }

    /// REQUIRETLS is announced, hence accepted: inside TLS (RFC 8689, 4).
    fn requiretls_offered(&self) -> bool {
        self.config.requiretls && self.info.tls.is_some()
    }
}

/// The value of `keyword=value` as the client sent it: DSN values are case
/// sensitive, and the session keeps its parameters upper-cased.
fn value_as_sent(param: &str) -> Option<&str> {
    param.split_once('=').map(|(_, value)| value)
}

/// Where `part`, a slice of `text`, lies in it.
fn span(text: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr().addr() - text.as_ptr().addr();
    debug_assert!(start + part.len() <= text.len(), "not a slice of the text");
    start..start + part.len()
}

/// The bytes of `text` in `part`, in `text`'s own allocation: the address
/// of MAIL or RCPT without a copy of it.
fn into_part(mut text: String, part: Range<usize>) -> String {
    text.truncate(part.end);
    text.drain(..part.start);
    // Long parameters (an ORCPT may have 500 bytes) need not stay
    // allocated beside every recipient of the envelope.
    if text.capacity() > 2 * text.len() + 64 {
        text.shrink_to_fit();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{into_part, span};
    use crate::protocol::address::parse_path;

    #[test]
    fn the_address_keeps_the_arguments_allocation_and_only_its_bytes() {
        for (arg, address) in [
            ("FROM:<a@example.com>", "a@example.com"),
            ("FROM:   <>", "<>"),
            ("TO:b@example.com", "b@example.com"),
            ("TO:<\"x y\"@example.com> NOTIFY=NEVER", "\"x y\"@example.com"),
            ("FROM:<@relay:c@example.com>BODY=8BITMIME", "c@example.com"),
        ] {
            let arg = arg.to_string();
            let colon = arg.find(':').unwrap();
            let path = parse_path(&arg[colon + 1..]).unwrap();
            let part = span(&arg, path.address);
            let before = arg.as_ptr();
            let kept = into_part(arg, part);
            assert_eq!(kept, address);
            assert_eq!(kept.as_ptr(), before, "{address:?} was copied");
        }
    }

    #[test]
    fn long_parameters_do_not_stay_allocated_with_the_address() {
        let arg = format!("TO:<b@example.com> ORCPT=rfc822;{}", "x".repeat(400));
        let path = parse_path(&arg[3..]).unwrap();
        let part = span(&arg, path.address);
        let kept = into_part(arg, part);
        assert_eq!(kept, "b@example.com");
        assert!(kept.capacity() < 100, "{}", kept.capacity());
    }
}
