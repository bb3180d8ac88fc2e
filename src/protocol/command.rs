//! Command lines: the verb, its argument, and the one syntax table that
//! feeds both `HELP` and the `501 Syntax:` replies.

use std::borrow::Cow;

/// The verbs the server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verb {
    /// `EHLO hostname`
    Ehlo,
    /// `HELO hostname`
    Helo,
    /// `MAIL FROM:<address> [params]`
    Mail,
    /// `RCPT TO:<address> [params]`
    Rcpt,
    /// `DATA`
    Data,
    /// `RSET`
    Rset,
    /// `NOOP`
    Noop,
    /// `QUIT`
    Quit,
    /// `VRFY address`
    Vrfy,
    /// `HELP [command]`
    Help,
    /// `EXPN list` (not implemented, as in the reference)
    Expn,
    /// `LHLO hostname`: LMTP's greeting (RFC 2033, 4.1), in LMTP mode only.
    Lhlo,
    /// `STARTTLS` (RFC 3207), when the server has a certificate.
    StartTls,
    /// `AUTH mechanism [initial-response]` (RFC 4954), when offered.
    Auth,
    /// `BDAT size [LAST]` (RFC 3030), with CHUNKING.
    Bdat,
}

/// One row of the syntax table.
struct Syntax {
    verb: Verb,
    name: &'static str,
    /// The text after `Syntax: ` in HELP and 501 replies; `None` for verbs
    /// that HELP does not list.
    usage: Option<&'static str>,
    /// Whether ` [SP <mail-parameters>]` is added after EHLO.
    takes_parameters: bool,
}

/// Every verb, in the order `HELP` lists them (the reference's order).
#[rustfmt::skip]
const SYNTAX: &[Syntax] = &[
    Syntax { verb: Verb::Ehlo, name: "EHLO", usage: Some("EHLO hostname"), takes_parameters: false },
    Syntax { verb: Verb::Helo, name: "HELO", usage: Some("HELO hostname"), takes_parameters: false },
    Syntax { verb: Verb::Mail, name: "MAIL", usage: Some("MAIL FROM: <address>"), takes_parameters: true },
    Syntax { verb: Verb::Rcpt, name: "RCPT", usage: Some("RCPT TO: <address>"), takes_parameters: true },
    Syntax { verb: Verb::Data, name: "DATA", usage: Some("DATA"), takes_parameters: false },
    Syntax { verb: Verb::Rset, name: "RSET", usage: Some("RSET"), takes_parameters: false },
    Syntax { verb: Verb::Noop, name: "NOOP", usage: Some("NOOP"), takes_parameters: false },
    Syntax { verb: Verb::Quit, name: "QUIT", usage: Some("QUIT"), takes_parameters: false },
    Syntax { verb: Verb::Vrfy, name: "VRFY", usage: Some("VRFY <address>"), takes_parameters: false },
    Syntax { verb: Verb::Help, name: "HELP", usage: None, takes_parameters: false },
    Syntax { verb: Verb::Expn, name: "EXPN", usage: None, takes_parameters: false },
    Syntax { verb: Verb::Lhlo, name: "LHLO", usage: Some("LHLO hostname"), takes_parameters: false },
    Syntax { verb: Verb::StartTls, name: "STARTTLS", usage: Some("STARTTLS"), takes_parameters: false },
    Syntax { verb: Verb::Auth, name: "AUTH", usage: Some("AUTH <mechanism> [<initial-response>]"), takes_parameters: false },
    Syntax { verb: Verb::Bdat, name: "BDAT", usage: Some("BDAT <size> [LAST]"), takes_parameters: false },
];

/// The verbs `HELP` lists: the reference's; the extensions are announced by
/// EHLO instead.
const HELP_LISTS: usize = 9;

impl Verb {
    fn syntax(self) -> &'static Syntax {
        // The table holds every variant; the fallback is never taken.
        SYNTAX.iter().find(|row| row.verb == self).unwrap_or(&SYNTAX[0])
    }

    /// Looks up an upper-case verb.
    pub fn from_name(name: &str) -> Option<Verb> {
        SYNTAX.iter().find(|row| row.name == name).map(|row| row.verb)
    }

    /// The verb as sent on the wire, upper case.
    pub fn name(self) -> &'static str {
        self.syntax().name
    }

    /// The usage text for `HELP verb` and the 501 reply, e.g.
    /// `MAIL FROM: <address> [SP <mail-parameters>]` after EHLO.
    pub(crate) fn usage(self, extended: bool) -> Option<String> {
        let row = self.syntax();
        let usage = row.usage?;
        Some(if extended && row.takes_parameters {
            format!("{usage} [SP <mail-parameters>]")
        } else {
            usage.to_string()
        })
    }
}

/// `Supported commands: EHLO HELO MAIL ...`: the verbs HELP lists.
pub(crate) fn supported_commands() -> String {
    supported_commands_in(false)
}

/// The verbs HELP lists in SMTP, or in LMTP (`lmtp`), where `LHLO` stands
/// in for `EHLO` and `HELO`.
pub(crate) fn supported_commands_in(lmtp: bool) -> String {
    let greetings: &[&str] = if lmtp { &["LHLO"] } else { &[] };
    let names: Vec<&str> = SYNTAX[..HELP_LISTS]
        .iter()
        .filter(|row| row.usage.is_some())
        .filter(|row| !(lmtp && matches!(row.verb, Verb::Ehlo | Verb::Helo)))
        .map(|row| row.name)
        .collect();
    format!("Supported commands: {}", [greetings, &names].concat().join(" "))
}

/// A command line split into its verb and argument, as the reference splits
/// it: the verb is everything before the first space, upper-cased; the
/// argument is the rest with surrounding white space removed.
///
/// Read through its methods, so that its representation can change (it
/// may come to borrow the line) without another change of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The verb, upper-cased as sent (also for verbs the server does not
    /// know): borrowed from the syntax table for a known verb, so that the
    /// common commands allocate nothing for it.
    name: Cow<'static, str>,
    /// The known verb, or `None` for an unknown one.
    verb: Option<Verb>,
    /// The argument; `None` when there is none or it is only white space.
    arg: Option<String>,
}

impl Command {
    /// Splits a command line (CRLF removed, already checked to be UTF-8).
    ///
    /// ```
    /// use smtp_fixture::protocol::{Command, Verb};
    /// let command = Command::parse("mail FROM:<a@example.com>  ");
    /// assert_eq!(command.verb(), Some(Verb::Mail));
    /// assert_eq!(command.name(), "MAIL");
    /// assert_eq!(command.arg(), Some("FROM:<a@example.com>"));
    /// ```
    pub fn parse(line: &str) -> Command {
        // The verb is a few bytes long: a plain loop finds its end sooner
        // than `memchr` is set up.
        let (name, arg) = match line.bytes().position(|byte| byte == b' ') {
            Some(space) => (&line[..space], Some(line[space + 1..].trim())),
            None => (line, None),
        };
        // An ASCII verb the table knows needs no upper-cased copy. (Not for
        // other text: `to_uppercase` can turn a non-ASCII name into a
        // known ASCII verb, as the reference's `upper()` does.)
        let known = match four_letters(name) {
            Some(word) => SYNTAX.iter().find(|row| four_letters(row.name) == Some(word)),
            None if name.is_ascii() => SYNTAX.iter().find(|row| row.name.eq_ignore_ascii_case(name)),
            None => None,
        };
        let (name, verb) = match known {
            Some(row) => (Cow::Borrowed(row.name), Some(row.verb)),
            None => {
                let name = if name.is_ascii() {
                    name.to_ascii_uppercase()
                } else {
                    name.to_uppercase()
                };
                let verb = Verb::from_name(&name);
                (Cow::Owned(name), verb)
            }
        };
        let arg = arg.filter(|arg| !arg.is_empty()).map(str::to_string);
        Command { name, verb, arg }
    }

    /// The verb, upper-cased as sent (also for verbs the server does not
    /// know).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The known verb, or `None` for an unknown one.
    pub fn verb(&self) -> Option<Verb> {
        self.verb
    }

    /// The argument; `None` when there is none or it is only white space.
    pub fn arg(&self) -> Option<&str> {
        self.arg.as_deref()
    }

    /// The argument, owned: MAIL and RCPT keep their address in its
    /// allocation instead of copying it.
    pub(crate) fn into_arg(self) -> Option<String> {
        self.arg
    }
}

/// A four-byte verb as one word with the ASCII case bit cleared, so that
/// the common verbs are found with one comparison per row. Every verb is
/// letters only, and only a letter's two cases meet a letter once the bit
/// is cleared: equal words mean the same verb in either case.
fn four_letters(name: &str) -> Option<u32> {
    let bytes: [u8; 4] = name.as_bytes().try_into().ok()?;
    Some(u32::from_ne_bytes(bytes) & !0x2020_2020)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_letter_verbs_are_found_in_either_case_and_nothing_else() {
        for row in SYNTAX {
            let lower = row.name.to_ascii_lowercase();
            let mixed: String = row
                .name
                .chars()
                .enumerate()
                .map(|(i, c)| if i % 2 == 0 { c } else { c.to_ascii_lowercase() })
                .collect();
            for name in [row.name, &lower, &mixed] {
                let command = Command::parse(name);
                assert_eq!(command.verb(), Some(row.verb), "{name:?}");
                assert_eq!(command.name(), row.name, "{name:?}");
            }
        }
        // Any other byte in any place: the word matches exactly when the
        // comparison that ignores ASCII case does.
        for row in SYNTAX.iter().filter(|row| row.name.len() == 4) {
            for place in 0..4 {
                for byte in 0..=0x7f_u8 {
                    let mut name = row.name.as_bytes().to_vec();
                    name[place] = byte;
                    let name = String::from_utf8(name).unwrap();
                    assert_eq!(
                        four_letters(&name) == four_letters(row.name),
                        name.eq_ignore_ascii_case(row.name),
                        "{name:?}"
                    );
                }
            }
        }
        assert_eq!(Command::parse("MAI\u{cc}").verb(), None);
    }

    #[test]
    fn splitting() {
        let cases = [
            ("NOOP", "NOOP", None),
            ("noop ", "NOOP", None),
            ("QUIT bye bye", "QUIT", Some("bye bye")),
            ("MAIL from:   <a@b>", "MAIL", Some("from:   <a@b>")),
            ("x\ty z", "X\tY", Some("z")),
            ("UNKNOWN_CMD", "UNKNOWN_CMD", None),
        ];
        for (line, name, arg) in cases {
            let command = Command::parse(line);
            assert_eq!(command.name, name, "{line:?}");
            assert_eq!(command.arg.as_deref(), arg, "{line:?}");
        }
    }

    #[test]
    fn help_lists_the_reference_verbs() {
        assert_eq!(
            supported_commands(),
            "Supported commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY"
        );
        assert_eq!(
            Verb::Mail.usage(true).as_deref(),
            Some("MAIL FROM: <address> [SP <mail-parameters>]")
        );
        assert_eq!(Verb::Mail.usage(false).as_deref(), Some("MAIL FROM: <address>"));
        assert_eq!(Verb::Data.usage(true).as_deref(), Some("DATA"));
        assert_eq!(Verb::Expn.usage(false), None);
        for row in SYNTAX {
            assert_eq!(Verb::from_name(row.name), Some(row.verb));
            assert_eq!(row.verb.name(), row.name);
        }
    }
}

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn supported_commands_in() {
        use crate::protocol::command::supported_commands_in;
        assert_eq!(
            supported_commands_in(true),
            "Supported commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY"
        );
    }
}
