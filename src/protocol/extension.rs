//! The EHLO reply, built from the configuration in one place.

use super::config::Config;
use super::reply::Reply;

/// The EHLO reply before TLS and AUTH: the hostname, then one line per
/// extension.
///
/// ```
/// use smtp_fixture::{Config, protocol::extension::ehlo_reply};
/// let reply = ehlo_reply(&Config { hostname: "mx.test".into(), ..Config::default() });
/// assert_eq!(
///     reply.lines(),
///     ["mx.test", "SIZE 33554432", "8BITMIME", "PIPELINING", "DSN", "CHUNKING", "BINARYMIME", "HELP"]
/// );
/// ```
#[cfg(test)]
pub fn ehlo_reply(config: &Config) -> Reply {
    ehlo_reply_for(config, false, false)
}

/// The EHLO reply for a session that is (`encrypted`) or is not under TLS:
/// STARTTLS (when the session offers it, `starttls`) only before, AUTH
/// only when its TLS condition holds.
pub fn ehlo_reply_for(config: &Config, starttls: bool, encrypted: bool) -> Reply {
    let mut lines = vec![config.hostname.clone()];
    if config.data_size_limit > 0 {
        lines.push(format!("SIZE {}", config.data_size_limit));
    }
    if !config.decode_data {
        lines.push("8BITMIME".to_string());
    }
    if config.enable_smtputf8 {
        lines.push("SMTPUTF8".to_string());
    }
    if config.announces_pipelining() {
        lines.push("PIPELINING".to_string());
    }
    if config.dsn {
        lines.push("DSN".to_string());
    }
    if config.chunking {
        lines.push("CHUNKING".to_string());
        if !config.decode_data {
            lines.push("BINARYMIME".to_string());
        }
    }
    if starttls && !encrypted {
        lines.push("STARTTLS".to_string());
    }
    if config.requiretls && encrypted {
        lines.push("REQUIRETLS".to_string());
    }
    if !config.auth_mechanisms.is_empty() && (encrypted || !config.auth_requires_tls) {
        let names: Vec<&str> = config.auth_mechanisms.iter().map(|m| m.name()).collect();
        lines.push(format!("AUTH {}", names.join(" ")));
    }
    if config.announces_enhanced_status_codes() {
        lines.push("ENHANCEDSTATUSCODES".to_string());
    }
    lines.push("HELP".to_string());
    Reply::multiline(250, lines)
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
}
