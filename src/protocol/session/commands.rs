//! Command lines: checking a line, asking the handler about it, and the
//! commands that need no transaction (HELO/EHLO, NOOP, RSET, HELP, VRFY...).

use super::chunking::AfterDrop;
use super::{Question, Session, Step};
use crate::protocol::address::parse_path;
use crate::protocol::command::{supported_commands, Command, Verb};
use crate::protocol::config::AUTH_LINE_LIMIT;
use crate::protocol::extension::{ehlo_reply_for, mail_line_limit, rcpt_line_limit};
use crate::protocol::reply::{replies, Reply};

impl Session {
    /// The greeting, or the handler's reply in its place: `421` closes,
    /// `554` leaves only QUIT (RFC 5321, 3.1).
    pub(super) fn greet(&mut self, reply: Option<Reply>) -> Step {
        self.reply_exempt_from_status = true;
        let Some(reply) = reply else {
            let greeting = replies::greeting(&self.config.hostname, &self.config.banner);
            return Step::Reply(greeting);
        };
        match reply.code() {
            421 => self.close(Some(reply)),
            554 => {
                self.refused = true;
                Step::Reply(reply)
            }
            _ => Step::Reply(reply),
        }
    }

    pub(super) fn command_line(&mut self, line: &[u8]) -> Step {
        // Checked first so that the reply does not depend on whether the
        // line arrived in one piece or was discarded as it came.
        if line.len() > self.config.max_command_line() {
            return self.refuse(replies::line_too_long());
        }
        if line.is_empty() {
            return self.refuse(replies::bad_syntax());
        }
        if line.contains(&0) {
            return self.refuse_line(line, replies::nul_in_command());
        }
        let Ok(text) = std::str::from_utf8(line) else {
            return self.refuse_line(line, replies::not_utf8_command());
        };
        let command = Command::parse(text);
        let limit = match command.verb() {
            Some(Verb::Mail) if self.info.extended => mail_line_limit(&self.config),
            Some(Verb::Rcpt) if self.info.extended => rcpt_line_limit(&self.config),
            // An initial response (an OAuth2 bearer token) is often longer
            // than 512 bytes; RFC 4954, 4 allows AUTH lines of 12 288.
            Some(Verb::Auth) if !self.config.auth_mechanisms.is_empty() => {
                AUTH_LINE_LIMIT.max(self.config.command_size_limit)
            }
            _ => self.config.command_size_limit,
        };
        if line.len() > limit {
            return self.refuse(replies::line_too_long());
        }
        self.ask(Question::Command(command))
    }

    pub(super) fn dispatch(&mut self, command: Command) -> Step {
        let Some(verb) = command.verb() else {
            return self.refuse(replies::unknown_command(command.name()));
        };
        if self.refused && verb != Verb::Quit {
            return self.answer_without_chunk(&command, AfterDrop::Refuse(replies::no_service()));
        }
        let arg = command.arg();
        match verb {
            Verb::Helo | Verb::Ehlo | Verb::Lhlo => self.greeting_command(verb, arg),
            Verb::Mail | Verb::Rcpt | Verb::Data if self.lhlo_missing() => self.refuse(replies::need_lhlo()),
            // The argument's allocation becomes the envelope's address.
            Verb::Mail => self.mail(command.into_arg()),
            Verb::Rcpt => self.rcpt(command.into_arg()),
            Verb::Data => self.data(arg),
            Verb::Noop | Verb::Rset if arg.is_some() => self.syntax_error(verb),
            Verb::Noop => Step::Reply(replies::ok()),
            Verb::Rset => {
                self.transaction = None;
                Step::Reply(replies::ok())
            }
            Verb::Quit => self.close(Some(replies::bye())),
            Verb::Help => self.help_in_protocol(arg),
            Verb::Vrfy => match arg {
                None => self.syntax_error(verb),
                Some(arg) if parse_path(arg).is_some() => Step::Reply(replies::cannot_vrfy()),
                Some(arg) => self.refuse(replies::could_not_vrfy(arg)),
            },
            Verb::Expn => self.refuse(replies::expn_not_implemented()),
            Verb::StartTls => self.starttls(&command),
            Verb::Auth => self.auth(&command),
            Verb::Bdat => self.bdat(arg),
        }
    }

    /// The handler answered a command line in its place (`answer` is a
    /// reply or raw bytes). A BDAT chunk is still read (and dropped), so
    /// that its bytes are not taken for commands.
    pub(super) fn replace_command(&mut self, command: &Command, answer: Step) -> Step {
        self.answer_without_chunk(command, AfterDrop::Handler(answer))
    }

    /// Raw bytes in place of a reply: what was asked is not carried out
    /// (a BDAT line's chunk is still read first).
    pub(super) fn raw_answer(&mut self, question: Question, bytes: Vec<u8>) -> Step {
        match question {
            Question::Command(command) => self.replace_command(&command, Step::Raw(bytes)),
            _ => Step::Raw(bytes),
        }
    }

    /// Refuses a line that is no valid command (a NUL, not UTF-8). If it
    /// reads as a BDAT line with a size, that chunk is data all the same
    /// (RFC 3030, 2): it is dropped before the refusal goes out.
    fn refuse_line(&mut self, line: &[u8], reply: Reply) -> Step {
        let command = Command::parse(&String::from_utf8_lossy(line));
        self.answer_without_chunk(&command, AfterDrop::Refuse(reply))
    }

    pub(super) fn syntax_error(&mut self, verb: Verb) -> Step {
        let usage = verb.usage(self.info.extended).unwrap_or_default();
        self.refuse(replies::syntax(&usage))
    }

    pub(super) fn help(&mut self, arg: Option<&str>) -> Step {
        let Some(arg) = arg else {
            return Step::Reply(Reply::new(250, supported_commands()));
        };
        let usage = Verb::from_name(&arg.to_uppercase())
            .filter(|&verb| verb != Verb::Bdat || self.config.chunking)
            .and_then(|v| v.usage(self.info.extended));
        match usage {
            Some(usage) => Step::Reply(Reply::new(250, format!("Syntax: {usage}"))),
            None => self.refuse(Reply::new(501, supported_commands())),
        }
    }

    pub(super) fn helo(&mut self, verb: Verb, arg: Option<&str>) -> Step {
        let Some(name) = arg else {
            return self.syntax_error(verb);
        };
        if !self.info.helo.is_empty() {
            return self.refuse(replies::duplicate_helo());
        }
        self.ask(Question::Helo {
            name: name.to_string(),
            extended: verb != Verb::Helo,
        })
    }

    /// The handler let HELO/EHLO (or LHLO) through: the client is greeted,
    /// and any open transaction ends.
    pub(super) fn accept_helo(&mut self, name: String, extended: bool, reply: Option<Reply>) -> Step {
        self.reply_exempt_from_status = true;
        self.transaction = None;
        self.info.helo = name;
        self.info.extended = extended;
        let normal = if extended {
            ehlo_reply_for(&self.config, self.starttls, self.info.tls.is_some())
        } else {
            Reply::from_string(250, self.config.hostname.clone())
        };
        Step::Reply(reply.unwrap_or(normal))
    }
}
