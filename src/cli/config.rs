//! From the parsed command line to what the server runs with: the engine's
//! [`Config`], the scripted rules in command-line order, the AUTH users and
//! the TLS certificate. Every mistake is a [`CliError`], which `main` turns
//! into the usage message (exit status 2).

use std::error::Error;
use std::fmt;
use std::io;

use crate::protocol::Config;
use crate::rule_text::{parse_chance, RuleKind, RuleSyntaxError};
use crate::server::TlsConfig;
use crate::Mechanism;
use crate::{Action, Trigger};
use clap::ArgMatches;

use super::args::Cli;

/// What the command line asks the server to be.
pub(crate) struct Settings {
    /// The engine's options.
    pub(crate) config: Config,
    /// The scripted rules in command-line order.
    pub(crate) rules: Vec<Rule>,
    /// `--auth user:pass` pairs; `None` with `--auth-any` (anyone).
    pub(crate) users: Option<Vec<(String, String)>>,
    /// The certificate, when TLS is on.
    pub(crate) tls: Option<TlsConfig>,
    /// Where `-c PureProxy` relays: the reference's default upstream
    /// unless given; a name is resolved at each relay.
    pub(crate) remote: String,
}

/// One scripted rule of the command line, with the `--times` and
/// `--chance` that follow it.
pub(crate) struct Rule {
    pub(crate) trigger: Trigger,
    pub(crate) action: Action,
    pub(crate) times: Option<usize>,
    /// Percent and seed.
    pub(crate) chance: Option<(u8, u64)>,
}

/// A command line that cannot be carried out.
#[derive(Debug)]
pub(crate) enum CliError {
    /// A rule flag's value is not a rule (`--reply 'DATA=hello'`).
    Rule {
        /// The flag, e.g. `--stop-reading`.
        kind: RuleKind,
        /// What it was given.
        value: String,
        /// Why it is not a rule.
        error: RuleSyntaxError,
    },
    /// `--times` twice after one rule.
    TimesTwice,
    /// `--times` before any rule.
    TimesWithoutRule,
    /// `--chance` twice after one rule, before any, or not PERCENT[@SEED].
    Chance(String),
    /// `--auth` without the colon.
    AuthPair(String),
    /// The certificate files cannot be read, or the certificate made.
    Tls(io::Error),
}

impl CliError {
    /// Whether the usage line goes with the message (a mistake in the
    /// command line rather than in the files it names).
    pub(crate) fn is_usage(&self) -> bool {
        !matches!(self, CliError::Tls(_))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Rule { kind, value, error } => write!(f, "--{} {value:?}: {error}", kind.name()),
            CliError::TimesTwice => f.write_str("--times given twice for one rule"),
            CliError::TimesWithoutRule => {
                f.write_str("--times must follow a rule (--reply, --delay, --disconnect, ...)")
            }
            CliError::Chance(problem) => write!(f, "--chance {problem}"),
            CliError::AuthPair(pair) => write!(f, "--auth {pair:?}: want USER:PASS"),
            CliError::Tls(error) => write!(f, "TLS: {error}"),
        }
    }
}

impl Error for CliError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            CliError::Rule { error, .. } => Some(error),
            CliError::Tls(error) => Some(error),
            _ => None,
        }
    }
}

impl Settings {
    /// Reads the settings from the command line (`matches` gives the
    /// order of the rule flags, which `cli` has lost).
    pub(crate) fn from_command_line(matches: &ArgMatches, cli: &Cli) -> Result<Settings, CliError> {
        let rules = scripted_rules(matches, cli)?;
        let users = auth_users(cli)?;
        let config = engine_config(cli, users.as_ref().is_none_or(|users| !users.is_empty()));
        let tls = tls(cli).map_err(CliError::Tls)?;
        let remote = cli
            .remote
            .map_or_else(|| "localhost:25".to_string(), |addr| addr.to_string());
        Ok(Settings {
            config,
            rules,
            users,
            tls,
            remote,
        })
    }
}

/// The values of the rule flag of `kind`.
fn values(cli: &Cli, kind: RuleKind) -> &[String] {
    match kind {
        RuleKind::Reply => &cli.reply,
        RuleKind::Delay => &cli.delay,
        RuleKind::Disconnect => &cli.disconnect,
        RuleKind::Throttle => &cli.throttle,
        RuleKind::Cut => &cli.cut,
        RuleKind::Reset => &cli.reset,
        RuleKind::StopReading => &cli.stop_reading,
        RuleKind::Silence => &cli.silence,
        RuleKind::Greylist => &cli.greylist,
        RuleKind::Rate => &cli.rate,
        RuleKind::Quota => &cli.quota,
        RuleKind::PerConnection => &cli.per_connection,
        RuleKind::LoseReply => &cli.lose_reply,
    }
}

/// The scripted rules in command-line order, each with the `--times` and
/// `--chance` that follow it.
fn scripted_rules(matches: &ArgMatches, cli: &Cli) -> Result<Vec<Rule>, CliError> {
    let mut rules = Vec::new();
    for kind in RuleKind::ALL {
        let id = kind.name().replace('-', "_");
        let indices = matches.indices_of(&id).into_iter().flatten();
        for (index, value) in indices.zip(values(cli, kind)) {
            let (trigger, action) = kind.parse(value).map_err(|error| CliError::Rule {
                kind,
                value: value.clone(),
                error,
            })?;
            rules.push((index, trigger, action, None, None));
        }
    }
    rules.sort_by_key(|rule| rule.0);
    let times = matches.indices_of("times").into_iter().flatten().zip(&cli.times);
    for (index, &n) in times {
        let rule = rules.iter_mut().rev().find(|rule| rule.0 < index);
        match rule {
            Some(rule) if rule.3.is_none() => rule.3 = Some(n),
            Some(_) => return Err(CliError::TimesTwice),
            None => return Err(CliError::TimesWithoutRule),
        }
    }
    let chances = matches
        .indices_of("chance")
        .into_iter()
        .flatten()
        .zip(&cli.chance);
    for (index, text) in chances {
        let chance = parse_chance(text)
            .ok_or_else(|| CliError::Chance(format!("{text:?}: want PERCENT[@SEED], e.g. 30@42")))?;
        match rules.iter_mut().rev().find(|rule| rule.0 < index) {
            Some(rule) if rule.4.is_none() => rule.4 = Some(chance),
            Some(_) => return Err(CliError::Chance("given twice for one rule".to_string())),
            None => {
                return Err(CliError::Chance(
                    "must follow a rule (--reply, --delay, ...)".to_string(),
                ))
            }
        }
    }
    Ok(rules
        .into_iter()
        .map(|(_, trigger, action, times, chance)| Rule {
            trigger,
            action,
            times,
            chance,
        })
        .collect())
}

/// `--auth` pairs, or `None` with `--auth-any`.
fn auth_users(cli: &Cli) -> Result<Option<Vec<(String, String)>>, CliError> {
    let mut users = Vec::new();
    for pair in &cli.auth {
        match pair.split_once(':') {
            Some((user, password)) => users.push((user.to_string(), password.to_string())),
            None => return Err(CliError::AuthPair(pair.clone())),
        }
    }
    Ok((!cli.auth_any).then_some(users))
}

/// The engine's options; AUTH is offered with every mechanism when
/// `offer_auth`.
fn engine_config(cli: &Cli, offer_auth: bool) -> Config {
    let config = Config {
        hostname: gethostname::gethostname().to_string_lossy().into_owned(),
        data_size_limit: cli.size.unwrap_or(0),
        enable_smtputf8: cli.smtputf8,
        require_tls: cli.require_tls,
        enhanced_status_codes: cli.enhanced_status_codes,
        chunking: !cli.no_chunking,
        dsn: !cli.no_dsn,
        lmtp: cli.lmtp,
        auth_mechanisms: if offer_auth {
            Mechanism::ALL.to_vec()
        } else {
            Vec::new()
        },
        ..Config::default()
    };
    if cli.compat {
        config.with_reference_extensions()
    } else {
        config
    }
}

/// The certificate, when any TLS flag is given (each implies it).
fn tls(cli: &Cli) -> io::Result<Option<TlsConfig>> {
    let files = cli.tls_cert.as_ref().zip(cli.tls_key.as_ref());
    let tls_on = files.is_some() || cli.tls || cli.smtps || cli.require_tls || cli.tls_faults.any();
    tls_on.then(|| cli.tls_faults.config(files)).transpose()
}
