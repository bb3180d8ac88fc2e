//! The EHLO reply: the service extensions, typed, built from the
//! configuration in one place and read back from another server's reply.

use std::fmt;

use super::config::Config;
use super::reply::Reply;

/// One service extension of an EHLO reply: a keyword and its parameters, as
/// one line of the reply after the server's name (RFC 5321, 4.1.1.1).
///
/// `Display` writes the line; [`Extension::parse`] reads one back, keywords
/// in any case. The server builds its list from the configuration
/// ([`extensions`]); the proxies' client reads the upstream's list with
/// [`Extension::from_ehlo`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Extension {
    /// `SIZE [limit]` (RFC 1870): the largest message accepted, in octets;
    /// `None` when the server announces SIZE without a number.
    Size(Option<u64>),
    /// `8BITMIME` (RFC 6152).
    EightBitMime,
    /// `SMTPUTF8` (RFC 6531).
    SmtpUtf8,
    /// `PIPELINING` (RFC 2920).
    Pipelining,
    /// `DSN` (RFC 3461).
    Dsn,
    /// `CHUNKING` (RFC 3030): BDAT.
    Chunking,
    /// `BINARYMIME` (RFC 3030).
    BinaryMime,
    /// `STARTTLS` (RFC 3207).
    StartTls,
    /// `REQUIRETLS` (RFC 8689).
    RequireTls,
    /// `AUTH mechanism...` (RFC 4954): the mechanism names as announced,
    /// upper case. Names rather than
    /// [`Mechanism`](super::auth::Mechanism)s: another server may offer
    /// mechanisms this crate does not implement.
    Auth(Vec<String>),
    /// `ENHANCEDSTATUSCODES` (RFC 2034).
    EnhancedStatusCodes,
    /// `HELP`: the server answers HELP (not an RFC extension; the reference
    /// announces it).
    Help,
    /// Any other line, kept as it was sent.
    Other(String),
}

impl Extension {
    /// Reads one line of an EHLO reply (after the server's name). The
    /// keyword, in any case, decides the extension, as it does for a client
    /// (RFC 5321, 4.1.1.1): parameters a keyword does not take are ignored,
    /// and a SIZE limit that is not a number is `Size(None)`. Unknown
    /// keywords are [`Extension::Other`], the line kept as it was sent.
    pub fn parse(line: &str) -> Extension {
        let mut words = line.split_whitespace();
        let keyword = words.next().unwrap_or("").to_ascii_uppercase();
        match keyword.as_str() {
            "SIZE" => Extension::Size(words.next().and_then(|limit| limit.parse().ok())),
            "AUTH" => Extension::Auth(words.map(str::to_ascii_uppercase).collect()),
            "8BITMIME" => Extension::EightBitMime,
            "SMTPUTF8" => Extension::SmtpUtf8,
            "PIPELINING" => Extension::Pipelining,
            "DSN" => Extension::Dsn,
            "CHUNKING" => Extension::Chunking,
            "BINARYMIME" => Extension::BinaryMime,
            "STARTTLS" => Extension::StartTls,
            "REQUIRETLS" => Extension::RequireTls,
            "ENHANCEDSTATUSCODES" => Extension::EnhancedStatusCodes,
            "HELP" => Extension::Help,
            _ => Extension::Other(line.to_string()),
        }
    }

    /// The extensions of a positive EHLO reply: every line but the first,
    /// which is the server's name.
    pub fn from_ehlo(reply: &Reply) -> Vec<Extension> {
        reply
            .lines()
            .iter()
            .skip(1)
            .map(|line| Extension::parse(line))
            .collect()
    }
}

impl fmt::Display for Extension {
    /// The line of the EHLO reply.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keyword = match self {
            Extension::Size(None) => "SIZE",
            Extension::Size(Some(limit)) => return write!(f, "SIZE {limit}"),
            Extension::EightBitMime => "8BITMIME",
            Extension::SmtpUtf8 => "SMTPUTF8",
            Extension::Pipelining => "PIPELINING",
            Extension::Dsn => "DSN",
            Extension::Chunking => "CHUNKING",
            Extension::BinaryMime => "BINARYMIME",
            Extension::StartTls => "STARTTLS",
            Extension::RequireTls => "REQUIRETLS",
            Extension::Auth(mechanisms) => {
                f.write_str("AUTH")?;
                for mechanism in mechanisms {
                    write!(f, " {mechanism}")?;
                }
                return Ok(());
            }
            Extension::EnhancedStatusCodes => "ENHANCEDSTATUSCODES",
            Extension::Help => "HELP",
            Extension::Other(line) => line,
        };
        f.write_str(keyword)
    }
}

/// The EHLO reply before TLS and AUTH: the hostname, then one line per
/// extension.
#[cfg(test)]
pub fn ehlo_reply(config: &Config) -> Reply {
    ehlo_reply_for(config, false, false)
}

/// The EHLO reply for a session that is (`encrypted`) or is not under TLS:
/// the hostname, then [`extensions`].
pub fn ehlo_reply_for(config: &Config, starttls: bool, encrypted: bool) -> Reply {
    let names = extensions(config, starttls, encrypted)
        .into_iter()
        .map(|e| e.to_string());
    Reply::multiline(250, std::iter::once(config.hostname.clone()).chain(names))
}

/// What the server announces, in the order of its EHLO reply: STARTTLS
/// (when the session offers it, `starttls`) only before TLS, REQUIRETLS
/// only under it, AUTH only when its TLS condition holds.
pub fn extensions(config: &Config, starttls: bool, encrypted: bool) -> Vec<Extension> {
    let mut list = Vec::new();
    if config.data_size_limit > 0 {
        // A `usize` always fits a `u64` on the platforms Rust supports.
        list.push(Extension::Size(u64::try_from(config.data_size_limit).ok()));
    }
    if !config.decode_data {
        list.push(Extension::EightBitMime);
    }
    if config.enable_smtputf8 {
        list.push(Extension::SmtpUtf8);
    }
    if config.announces_pipelining() {
        list.push(Extension::Pipelining);
    }
    if config.dsn {
        list.push(Extension::Dsn);
    }
    if config.chunking {
        list.push(Extension::Chunking);
        if !config.decode_data {
            list.push(Extension::BinaryMime);
        }
    }
    if starttls && !encrypted {
        list.push(Extension::StartTls);
    }
    if config.requiretls && encrypted {
        list.push(Extension::RequireTls);
    }
    if !config.auth_mechanisms.is_empty() && (encrypted || !config.auth_requires_tls) {
        let names = config.auth_mechanisms.iter().map(|m| m.name().to_string());
        list.push(Extension::Auth(names.collect()));
    }
    if config.announces_enhanced_status_codes() {
        list.push(Extension::EnhancedStatusCodes);
    }
    list.push(Extension::Help);
    list
}

/// The longest MAIL line allowed after EHLO: the base limit plus the
/// reference's allowances for the parameters it announces.
pub fn mail_line_limit(config: &Config) -> usize {
    let mut limit = config.command_size_limit;
    if config.data_size_limit > 0 {
        limit = limit.saturating_add(26);
    }
    if config.enable_smtputf8 {
        limit = limit.saturating_add(10);
    }
    if config.dsn {
        // RET and ENVID (RFC 3461, 5).
        limit = limit.saturating_add(78);
    }
    limit
}

/// The longest RCPT line allowed after EHLO: the base limit, plus 500 for
/// ORCPT and NOTIFY with DSN (RFC 3461, 5).
pub fn rcpt_line_limit(config: &Config) -> usize {
    if config.dsn {
        config.command_size_limit.saturating_add(500)
    } else {
        config.command_size_limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_follow_the_config() {
        let cases = [
            (
                Config::default(),
                vec![
                    "h",
                    "SIZE 33554432",
                    "8BITMIME",
                    "PIPELINING",
                    "DSN",
                    "CHUNKING",
                    "BINARYMIME",
                    "HELP",
                ],
                616,
            ),
            (
                Config {
                    data_size_limit: 0,
                    pipelining: false,
                    dsn: false,
                    chunking: false,
                    ..Config::default()
                },
                vec!["h", "8BITMIME", "HELP"],
                512,
            ),
            (
                Config {
                    decode_data: true,
                    pipelining: false,
                    dsn: false,
                    ..Config::default()
                },
                vec!["h", "SIZE 33554432", "CHUNKING", "HELP"],
                538,
            ),
            (
                Config {
                    enable_smtputf8: true,
                    pipelining: false,
                    dsn: false,
                    chunking: false,
                    ..Config::default()
                },
                vec!["h", "SIZE 33554432", "8BITMIME", "SMTPUTF8", "HELP"],
                548,
            ),
        ];
        for (config, lines, limit) in cases {
            let config = Config {
                hostname: "h".into(),
                ..config
            };
            assert_eq!(ehlo_reply(&config).lines(), lines);
            assert_eq!(mail_line_limit(&config), limit);
        }
    }

    /// Every variant, parameters included, rendered by `Display`.
    fn every_extension() -> Vec<Extension> {
        vec![
            Extension::Size(None),
            Extension::Size(Some(0)),
            Extension::Size(Some(u64::MAX)),
            Extension::EightBitMime,
            Extension::SmtpUtf8,
            Extension::Pipelining,
            Extension::Dsn,
            Extension::Chunking,
            Extension::BinaryMime,
            Extension::StartTls,
            Extension::RequireTls,
            Extension::Auth(Vec::new()),
            Extension::Auth(vec!["PLAIN".into(), "CRAM-MD5".into(), "GSSAPI".into()]),
            Extension::EnhancedStatusCodes,
            Extension::Help,
            Extension::Other("X-EXPS GSSAPI NTLM".into()),
            Extension::Other("DELIVERBY 300".into()),
        ]
    }

    #[test]
    fn rendered_extensions_parse_back() {
        for extension in every_extension() {
            let line = extension.to_string();
            assert_eq!(Extension::parse(&line), extension, "{line:?}");
        }
    }

    #[test]
    fn the_ehlo_reply_parses_back_into_its_extensions() {
        let config = Config {
            hostname: "h".into(),
            enable_smtputf8: true,
            requiretls: true,
            auth_mechanisms: crate::protocol::auth::Mechanism::ALL.to_vec(),
            auth_requires_tls: false,
            enhanced_status_codes: true,
            ..Config::default()
        };
        for encrypted in [false, true] {
            let reply = ehlo_reply_for(&config, true, encrypted);
            assert_eq!(reply.lines()[0], "h");
            assert_eq!(Extension::from_ehlo(&reply), extensions(&config, true, encrypted));
        }
        // The exact lines: what the wire shows is unchanged.
        assert_eq!(
            ehlo_reply_for(&config, true, false).lines()[1..],
            [
                "SIZE 33554432",
                "8BITMIME",
                "SMTPUTF8",
                "PIPELINING",
                "DSN",
                "CHUNKING",
                "BINARYMIME",
                "STARTTLS",
                "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2",
                "ENHANCEDSTATUSCODES",
                "HELP",
            ]
        );
    }

    #[test]
    fn another_servers_lines() {
        let cases = [
            ("8bitmime", Extension::EightBitMime),
            ("size", Extension::Size(None)),
            ("SIZE  52428800", Extension::Size(Some(52_428_800))),
            ("SIZE lots", Extension::Size(None)),
            ("SIZE -1", Extension::Size(None)),
            ("SIZE 1 2", Extension::Size(Some(1))),
            ("PIPELINING now", Extension::Pipelining),
            ("X-LINK2STATE", Extension::Other("X-LINK2STATE".into())),
            (
                "Auth login Plain",
                Extension::Auth(vec!["LOGIN".into(), "PLAIN".into()]),
            ),
            ("", Extension::Other(String::new())),
        ];
        for (line, extension) in cases {
            assert_eq!(Extension::parse(line), extension, "{line:?}");
        }
        // The server's own name is not a keyword.
        assert_eq!(Extension::from_ehlo(&Reply::multiline(250, ["SMTPUTF8"])), []);
    }

    /// What its documentation showed when the type was public (the EHLO
    /// reply's exact lines are checked above).
    #[test]
    fn former_doc_examples() {
        {
            assert_eq!(Extension::Size(Some(1000)).to_string(), "SIZE 1000");
            assert_eq!(
                Extension::parse("auth plain LOGIN"),
                Extension::Auth(vec!["PLAIN".into(), "LOGIN".into()])
            );
            assert_eq!(
                Extension::parse("X-EXPS GSSAPI"),
                Extension::Other("X-EXPS GSSAPI".into())
            );
        }
        {
            let reply = Reply::multiline(250, ["mx.test", "SIZE", "8bitmime"]);
            assert_eq!(
                Extension::from_ehlo(&reply),
                [Extension::Size(None), Extension::EightBitMime]
            );
        }
    }
}
