//! The options of a server, with the reference's defaults.

use std::fmt;

use super::auth::Mechanism;

/// The reference's default `data_size_limit`: 32 MiB.
pub const DATA_SIZE_DEFAULT: usize = 33_554_432;

/// The reference's command line limit, before extension allowances.
pub const COMMAND_SIZE_LIMIT: usize = 512;

/// The longest AUTH line (command or response) RFC 4954 (4) allows.
pub const AUTH_LINE_LIMIT: usize = 12_288;

/// The largest `command_size_limit` a server accepts: a command line is
/// held in memory until its CRLF arrives, so the limit bounds what one
/// client can make the server hold.
pub const MAX_COMMAND_SIZE_LIMIT: usize = 1 << 20;

/// The largest `data_size_limit` a server accepts: no buffer can hold more
/// (a `Vec` is at most `isize::MAX` bytes).
pub const MAX_DATA_SIZE_LIMIT: usize = isize::MAX as usize;

/// What the server allows and announces.
///
/// Built with struct update syntax over [`Config::default`], then checked by
/// [`Config::validate`] (the server does that when it is built).
///
/// ```
/// use smtp_fixture::protocol::Config;
/// let config = Config { data_size_limit: 1024, enable_smtputf8: true, ..Config::default() };
/// assert!(config.validate().is_ok());
/// let bad = Config { enable_smtputf8: true, decode_data: true, ..Config::default() };
/// assert!(bad.validate().is_err());
/// let absurd = Config { data_size_limit: usize::MAX, ..Config::default() };
/// assert!(absurd.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The name in the greeting and the EHLO reply (the reference's `fqdn`).
    pub hostname: String,
    /// The text after the hostname in the `220` greeting.
    pub banner: String,
    /// Largest message accepted, in bytes; `0` means no limit (and no SIZE
    /// in the EHLO reply).
    pub data_size_limit: usize,
    /// Announce SMTPUTF8 and accept UTF-8 addresses (RFC 6531).
    pub enable_smtputf8: bool,
    /// Hand data over as checked UTF-8 text; 8BITMIME is then not announced.
    pub decode_data: bool,
    /// Longest command line, CRLF excluded; MAIL gets 26 more bytes after
    /// EHLO when SIZE is announced and 10 more with SMTPUTF8, as in the
    /// reference.
    pub command_size_limit: usize,
    /// Recipients accepted per transaction; more get `452`. `0`: no limit.
    pub max_recipients: usize,
    /// Rejected commands (replies 500-504) per session before `421` and
    /// close. `0`: no limit.
    pub max_invalid_commands: usize,
    /// Refuse MAIL and AUTH with `530` until the session is encrypted.
    pub require_tls: bool,
    /// The AUTH mechanisms offered; empty: no AUTH.
    pub auth_mechanisms: Vec<Mechanism>,
    /// Refuse MAIL with `530` until the client authenticated.
    pub require_auth: bool,
    /// Refuse AUTH with `538` on an unencrypted session. Off by default, so
    /// tests on loopback can authenticate without TLS.
    pub auth_requires_tls: bool,
    /// Announce PIPELINING (RFC 2920); the server answers pipelined
    /// commands in order either way.
    pub pipelining: bool,
    /// Announce DSN (RFC 3461) and accept `RET`/`ENVID` on MAIL and
    /// `NOTIFY`/`ORCPT` on RCPT, checked and kept in the
    /// [`Envelope`](super::Envelope). On by default; off, they get `555`
    /// as in the reference.
    pub dsn: bool,
    /// Announce CHUNKING (RFC 3030) and accept `BDAT`; with it BINARYMIME
    /// (`BODY=BINARYMIME`, unless `decode_data`). On by default; off,
    /// `BDAT` is an unknown command as in the reference.
    pub chunking: bool,
    /// Announce REQUIRETLS (RFC 8689) inside TLS and accept
    /// `MAIL FROM:<..> REQUIRETLS` there (kept in the envelope's
    /// `mail_options`). On by default; it only shows in encrypted sessions.
    pub requiretls: bool,
    /// Announce ENHANCEDSTATUSCODES (RFC 2034) and put an RFC 3463 code
    /// before the text of every reply that has none (not the greeting, the
    /// HELO/EHLO reply or 3xx). Off by default: the reference's replies
    /// have none.
    ///
    /// Replies of what the reference does not have (STARTTLS, AUTH, the
    /// proxies' refusals) carry their code either way, as Postfix's do:
    /// there the code is the distinction a client acts on (`535 5.7.8`, bad
    /// credentials, against `530 5.7.0`, authentication required), and no
    /// reference reply exists to match.
    pub enhanced_status_codes: bool,
    /// Speak LMTP (RFC 2033) instead of SMTP: the client greets with
    /// `LHLO` (`HELO` and `EHLO` get `500`), and the message gets one
    /// final reply per accepted recipient, in RCPT order (see
    /// [`Decision::PerRecipient`](super::Decision::PerRecipient)). LMTP
    /// servers must implement PIPELINING and ENHANCEDSTATUSCODES (RFC 2033,
    /// 5), so both are on in LMTP whatever `pipelining` and
    /// `enhanced_status_codes` say. Off by default.
    pub lmtp: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hostname: "localhost".to_string(),
            banner: concat!("smtp-fixture ", env!("CARGO_PKG_VERSION")).to_string(),
            data_size_limit: DATA_SIZE_DEFAULT,
            enable_smtputf8: false,
            decode_data: false,
            command_size_limit: COMMAND_SIZE_LIMIT,
            max_recipients: 1000,
            max_invalid_commands: 100,
            lmtp: false,
            require_tls: false,
            auth_mechanisms: Vec::new(),
            require_auth: false,
            auth_requires_tls: false,
            pipelining: true,
            dsn: true,
            chunking: true,
            requiretls: true,
            enhanced_status_codes: false,
        }
    }
}

/// A configuration the server refuses to run with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `enable_smtputf8` and `decode_data` together: SMTPUTF8 data is bytes
    /// that need not be text, so the reference refuses the pair too.
    Utf8WithDecodeData,
    /// A command line limit too small to hold any command.
    CommandLimitTooSmall(usize),
    /// A command line limit above 1 MiB (a line is held in memory until
    /// its CRLF arrives).
    CommandLimitTooLarge(usize),
    /// A message size limit above `isize::MAX` (no buffer holds more).
    DataLimitTooLarge(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Utf8WithDecodeData => {
                f.write_str("decode_data and enable_smtputf8 cannot be set to true at the same time")
            }
            ConfigError::CommandLimitTooSmall(limit) => write!(
                f,
                "command_size_limit {limit} is too small: SMTP needs at least 512 bytes"
            ),
            ConfigError::CommandLimitTooLarge(limit) => write!(
                f,
                "command_size_limit {limit} is too large: at most {MAX_COMMAND_SIZE_LIMIT} bytes"
            ),
            ConfigError::DataLimitTooLarge(limit) => write!(
                f,
                "data_size_limit {limit} is too large: at most {MAX_DATA_SIZE_LIMIT} bytes (0 means no limit)"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks that the options go together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.enable_smtputf8 && self.decode_data {
            return Err(ConfigError::Utf8WithDecodeData);
        }
        if self.command_size_limit < COMMAND_SIZE_LIMIT {
            return Err(ConfigError::CommandLimitTooSmall(self.command_size_limit));
        }
        if self.command_size_limit > MAX_COMMAND_SIZE_LIMIT {
            return Err(ConfigError::CommandLimitTooLarge(self.command_size_limit));
        }
        if self.data_size_limit > MAX_DATA_SIZE_LIMIT {
            return Err(ConfigError::DataLimitTooLarge(self.data_size_limit));
        }
        Ok(())
    }

    /// The same options, announcing exactly the extensions the reference
    /// announces (SIZE, 8BITMIME, SMTPUTF8 as configured): no PIPELINING,
    /// DSN, CHUNKING or REQUIRETLS. For comparing with Python's `smtpd` reply for reply (the
    /// command line's `--compat`).
    pub fn with_reference_extensions(self) -> Config {
        Config {
            pipelining: false,
            dsn: false,
            chunking: false,
            requiretls: false,
            ..self
        }
    }

    /// Whether PIPELINING is announced: asked for, or implied by LMTP.
    pub(crate) fn announces_pipelining(&self) -> bool {
        self.pipelining || self.lmtp
    }

    /// Whether ENHANCEDSTATUSCODES is on: asked for, or implied by LMTP.
    pub(crate) fn announces_enhanced_status_codes(&self) -> bool {
        self.enhanced_status_codes || self.lmtp
    }

    /// The longest command line any verb may send after EHLO.
    pub(crate) fn max_command_line(&self) -> usize {
        let mut longest = self.command_size_limit.saturating_add(26 + 10);
        if self.dsn {
            // MAIL gains 78 for RET and ENVID, RCPT 500 (RFC 3461, 5).
            longest = longest
                .saturating_add(78)
                .max(self.command_size_limit.saturating_add(500));
        }
        if !self.auth_mechanisms.is_empty() {
            longest = longest.max(AUTH_LINE_LIMIT);
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use super::Config;
    use crate::protocol::extension::ehlo_reply;

    #[test]
    fn the_reference_extensions_are_size_8bitmime_help() {
        let config = Config {
            hostname: "h".into(),
            ..Config::default()
        }
        .with_reference_extensions();
        assert_eq!(
            ehlo_reply(&config).lines(),
            ["h", "SIZE 33554432", "8BITMIME", "HELP"]
        );
    }
}
