//! ESMTP parameters of `MAIL FROM` and `RCPT TO` (RFC 5321, 4.1.2; SIZE,
//! RFC 1870; BODY, RFC 6152; SMTPUTF8, RFC 6531).

/// One `keyword[=value]` parameter, upper-cased as the reference keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Param {
    /// `SIZE=n`: the size the client declares. A `SIZE` that is not a
    /// number is kept as [`Param::Other`], for the command to judge: MAIL
    /// refuses it with its syntax reply, RCPT as a parameter it does not
    /// know, as the reference does.
    Size(u64),
    /// `BODY=7BIT` or `BODY=8BITMIME` (any other value is kept here too, to
    /// be refused by the session).
    Body(String),
    /// `SMTPUTF8`, with an argument when one was (wrongly) given.
    SmtpUtf8(Option<String>),
    /// Any other parameter.
    Other {
        /// The keyword, upper case.
        keyword: String,
        /// The value, when there was an `=`.
        value: Option<String>,
    },
}

/// Why the parameters could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamError {
    /// Not `keyword[=value]` (or an empty value): the reference answers
    /// with the command's 501 syntax reply.
    Syntax,
}

/// The parameters of one command, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The parameters as given, upper-cased: `["SIZE=20", "BODY=8BITMIME"]`.
    pub raw: Vec<String>,
    /// The same, typed.
    pub parsed: Vec<Param>,
}

impl Params {
    /// Parses white-space separated parameters.
    pub fn parse(text: &str) -> Result<Params, ParamError> {
        // Most MAIL and RCPT commands have none: no iterators to set up.
        if text.is_empty() {
            return Ok(Params::default());
        }
        let raw: Vec<String> = text.split_whitespace().map(upper).collect();
        let parsed = raw.iter().map(|p| parse_one(p)).collect::<Result<_, _>>()?;
        Ok(Params { raw, parsed })
    }

    /// The declared SIZE, if any.
    #[cfg(test)]
    pub fn size(&self) -> Option<u64> {
        self.parsed.iter().rev().find_map(|p| match p {
            Param::Size(size) => Some(*size),
            _ => None,
        })
    }
}

fn upper(text: &str) -> String {
    if text.is_ascii() {
        text.to_ascii_uppercase()
    } else {
        text.to_uppercase()
    }
}

/// esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). The reference
/// refuses the `-` (Python's `isalnum`); RFC 5321 allows it.
fn is_keyword(keyword: &str) -> bool {
    let mut chars = keyword.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn parse_one(param: &str) -> Result<Param, ParamError> {
    let (keyword, value) = match param.split_once('=') {
        Some((keyword, value)) => (keyword, Some(value)),
        None => (param, None),
    };
    if !is_keyword(keyword) || value == Some("") {
        return Err(ParamError::Syntax);
    }
    Ok(match (keyword, value) {
        ("SIZE", Some(value)) if value.bytes().all(|b| b.is_ascii_digit()) => {
            // A number too big for u64 is certainly over any limit.
            Param::Size(value.parse().unwrap_or(u64::MAX))
        }
        ("BODY", value) => Param::Body(value.unwrap_or("").to_string()),
        ("SMTPUTF8", value) => Param::SmtpUtf8(value.map(str::to_string)),
        (keyword, value) => Param::Other {
            keyword: keyword.to_string(),
            value: value.map(str::to_string),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let params = Params::parse("size=20 SMTPUTF8 body=8bitmime X-FOO=bar").unwrap();
        assert_eq!(params.raw, ["SIZE=20", "SMTPUTF8", "BODY=8BITMIME", "X-FOO=BAR"]);
        assert_eq!(
            params.parsed,
            [
                Param::Size(20),
                Param::SmtpUtf8(None),
                Param::Body("8BITMIME".into()),
                Param::Other {
                    keyword: "X-FOO".into(),
                    value: Some("BAR".into())
                },
            ]
        );
        assert_eq!(params.size(), Some(20));
        assert!(Params::parse("").unwrap().raw.is_empty());
        assert_eq!(
            Params::parse("SIZE=99999999999999999999999").unwrap().size(),
            Some(u64::MAX)
        );
    }

    #[test]
    fn syntax_errors() {
        for text in ["SIZE=", "FOO=", ">", "-X=1", "=1", "A_B"] {
            assert_eq!(Params::parse(text), Err(ParamError::Syntax), "{text:?}");
        }
    }

    #[test]
    fn a_size_that_is_not_a_number_is_left_to_the_command() {
        for (text, value) in [
            ("SIZE=invalid", Some("INVALID")),
            ("SIZE", None),
            ("SIZE=-1", Some("-1")),
        ] {
            let params = Params::parse(text).unwrap();
            let other = Param::Other {
                keyword: "SIZE".into(),
                value: value.map(str::to_string),
            };
            assert_eq!(params.parsed, [other], "{text:?}");
            assert_eq!(params.size(), None, "{text:?}");
        }
    }
}

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn parse() {
        use crate::protocol::params::{Param, Params};
        let params = Params::parse("size=20 body=8bitmime").unwrap();
        assert_eq!(params.raw, ["SIZE=20", "BODY=8BITMIME"]);
        assert_eq!(params.parsed[0], Param::Size(20));
    }
}
