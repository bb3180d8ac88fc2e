//! The command line, mirroring `python -m smtpd`.

mod config;
mod handler;
mod tls_flags;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::handler::Handler;
use crate::protocol::Config;
use crate::server::{SmtpServer, TlsConfig};
use crate::testing::{Script, Scripted};
use clap::error::{ContextKind, ContextValue};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};

#[cfg(all(feature = "http", feature = "dkim"))]
use config::parse_dns_txt;
use config::{parse_host_port, CliError, Settings};
use handler::CliHandler;

/// A local SMTP server that catches the mail an application sends, for development and tests.
///
/// Examples:
///   smtp-fixture                          print every message sent to 127.0.0.1:8025
///   smtp-fixture -c SmtpServer --http 127.0.0.1:8026 127.0.0.1:8025
///                                         service mode: Mailpit's API and a web page
///                                         on http://127.0.0.1:8026/ (ready: GET /readyz)
///   smtp-fixture --reply 'RCPT TO:bounce@example.com=550 5.1.1 No such user'
///                                         refuse one recipient, accept the rest
///
/// An RFC 5321 server with SIZE, 8BITMIME and SMTPUTF8, the debugging server of
/// Python's smtpd in Rust: prints every message it receives (DebuggingServer) or
/// accepts and drops them (SmtpServer). Stop it with Ctrl-C.
#[derive(Parser, Debug)]
#[command(
    name = "smtp-fixture",
    version,
    disable_version_flag = true,
    verbatim_doc_comment
)]
struct Cli {
    /// Accepted and ignored (the reference's "do not setuid nobody").
    #[arg(short = 'n', long = "nosetuid")]
    nosetuid: bool,

    /// The server kind.
    #[arg(
        short = 'c',
        long = "class",
        value_enum,
        default_value = "DebuggingServer",
        ignore_case = true
    )]
    class: Class,

    /// Largest message in bytes, announced with SIZE; without it there is
    /// no limit and SIZE is not announced (as in the reference).
    #[arg(short = 's', long = "size", value_name = "LIMIT")]
    size: Option<usize>,

    /// Enable SMTPUTF8 (RFC 6531).
    #[arg(short = 'u', long = "smtputf8")]
    smtputf8: bool,

    /// Announce exactly the reference's EHLO extensions (no PIPELINING,
    /// DSN, CHUNKING or REQUIRETLS), to compare with python -m smtpd reply
    /// for reply.
    #[arg(long = "compat")]
    compat: bool,

    /// Do not announce CHUNKING/BINARYMIME; BDAT is then an unknown command.
    #[arg(long = "no-chunking")]
    no_chunking: bool,

    /// Do not announce DSN; its parameters then get 555.
    #[arg(long = "no-dsn")]
    no_dsn: bool,

    /// Print every line received and sent to standard error.
    #[arg(short = 'd', long = "debug")]
    debug: bool,

    /// Scripted reply, repeatable: 'TRIGGER=CODE TEXT', e.g.
    /// 'RCPT TO:bounce@example.com=550 5.1.1 No such user' or
    /// 'DATA=451 4.3.0 Try later'. TRIGGER is CONNECT, HELO, MAIL,
    /// 'MAIL FROM:addr', RCPT, 'RCPT TO:addr', DATA, MESSAGE (the reply
    /// after the final dot), 'MESSAGE TO:addr' (that recipient's final
    /// reply, for --lmtp) or any other verb. \n in the text starts a new
    /// line. Rules are checked in the order given.
    #[arg(long = "reply", value_name = "TRIGGER=REPLY")]
    reply: Vec<String>,

    /// Wait before the normal reply, repeatable: 'TRIGGER=DURATION', e.g.
    /// 'MAIL=2s' or 'DATA=500ms'.
    #[arg(long = "delay", value_name = "TRIGGER=DURATION")]
    delay: Vec<String>,

    /// Close the connection instead of replying to TRIGGER, repeatable.
    #[arg(long = "disconnect", value_name = "TRIGGER")]
    disconnect: Vec<String>,

    /// The normal reply to TRIGGER trickles out, repeatable:
    /// 'TRIGGER=BYTES_PER_SECOND', e.g. 'CONNECT=5' (a slow greeting).
    #[arg(long = "throttle", value_name = "TRIGGER=RATE")]
    throttle: Vec<String>,

    /// Only the first BYTES of the reply to TRIGGER, then close:
    /// 'TRIGGER=BYTES', e.g. 'MESSAGE=3'.
    #[arg(long = "cut", value_name = "TRIGGER=BYTES")]
    cut: Vec<String>,

    /// A TCP reset instead of the reply to TRIGGER, repeatable.
    #[arg(long = "reset", value_name = "TRIGGER")]
    reset: Vec<String>,

    /// The reply to TRIGGER, then read nothing more (the client's writes
    /// stall), repeatable.
    #[arg(long = "stop-reading", value_name = "TRIGGER")]
    stop_reading: Vec<String>,

    /// Neither reply to TRIGGER nor read again ('--silence CONNECT': a
    /// connection accepted but never greeted), repeatable.
    #[arg(long = "silence", value_name = "TRIGGER")]
    silence: Vec<String>,

    /// Greylisting (451 4.7.1 until a client, sender and recipient retry
    /// DURATION or more after the first attempt), repeatable:
    /// '[TRIGGER=]DURATION', e.g. 5m (every recipient) or
    /// 'RCPT TO:addr=1h'.
    #[arg(long = "greylist", value_name = "[TRIGGER=]DURATION")]
    greylist: Vec<String>,

    /// A rate limit: the first MAX matches in any WINDOW proceed, the rest
    /// get 451 4.7.1 (CONNECT: 421 4.7.0 and close), repeatable:
    /// 'TRIGGER=MAX/WINDOW', e.g. MESSAGE=10/1m, CONNECT=5/1m, RCPT=100/1h.
    #[arg(long = "rate", value_name = "TRIGGER=MAX/WINDOW")]
    rate: Vec<String>,

    /// A quota per recipient: a message that would take one past LIMIT
    /// gets 452 4.2.2 (with ,552: 552 5.2.2), repeatable:
    /// '[MESSAGE=]LIMIT[,CODE]', e.g. 1MB, 500KB, 10messages, '1MB,552'.
    #[arg(long = "quota", value_name = "LIMIT[,CODE]")]
    quota: Vec<String>,

    /// At most MAX matches per connection, then 421 4.7.0 and close,
    /// repeatable: '[TRIGGER=]MAX', e.g. 10 (messages: MAIL per
    /// connection).
    #[arg(long = "per-connection", value_name = "[TRIGGER=]MAX")]
    per_connection: Vec<String>,

    /// Store the message, then close before the reply to TRIGGER reaches
    /// the client (it believes delivery failed and retries: a duplicate),
    /// repeatable, e.g. MESSAGE.
    #[arg(long = "lose-reply", value_name = "TRIGGER")]
    lose_reply: Vec<String>,

    /// Limit the rule given just before to N uses; after that the server
    /// behaves normally.
    #[arg(long = "times", value_name = "N")]
    times: Vec<usize>,

    /// The rule given just before fires on PERCENT % of its matches,
    /// drawn from SEED (default 0): the same seed fails the same attempts
    /// in every run, e.g. '--reply MESSAGE=451 Later --chance 30@42'.
    #[arg(long = "chance", value_name = "PERCENT[@SEED]")]
    chance: Vec<String>,

    /// Offer STARTTLS with a fresh certificate for localhost, issued by a
    /// test CA made at start (the CA's PEM, to trust, is printed to
    /// standard error).
    #[arg(long = "tls")]
    tls: bool,

    /// Offer STARTTLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) for --tls-cert.
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,

    /// Implicit TLS ("SMTPS", RFC 8314): TLS from the first byte.
    #[arg(long = "smtps")]
    smtps: bool,

    /// Take HAProxy's PROXY protocol (v1 and v2): each connection starts
    /// with a PROXY header (within 5 s, else it is closed without a reply),
    /// and the client it names is the peer (X-Peer). Only behind a proxy.
    #[arg(long = "proxy-protocol")]
    proxy_protocol: bool,

    /// Refuse MAIL and AUTH with 530 until STARTTLS.
    #[arg(long = "require-tls")]
    require_tls: bool,

    /// Offer AUTH and accept USER with PASS, repeatable ('user:pass').
    #[arg(long = "auth", value_name = "USER:PASS")]
    auth: Vec<String>,

    /// Offer AUTH and accept any credentials.
    #[arg(long = "auth-any")]
    auth_any: bool,

    /// Threads serving connections (1: a single-threaded runtime, the
    /// fastest when the clients run on the same machine).
    #[arg(long = "threads", value_name = "N", default_value_t = 1)]
    threads: usize,

    /// Announce ENHANCEDSTATUSCODES and put RFC 3463 codes on replies.
    #[arg(long = "enhanced-status-codes")]
    enhanced_status_codes: bool,

    /// Speak LMTP (RFC 2033): LHLO instead of HELO/EHLO, and one final
    /// reply per recipient after the message ('--reply MESSAGE TO:addr=..'
    /// fails one); with ENHANCEDSTATUSCODES and PIPELINING, as LMTP
    /// requires.
    #[arg(long = "lmtp")]
    lmtp: bool,
    /// Service mode: serve Mailpit's HTTP API (v1), scripted rules over
    /// HTTP and a web page on ADDR (e.g. 127.0.0.1:8026), from the messages
    /// this server accepts. Give a loopback address unless the API should be
    /// reachable from other machines (it has no authentication).
    #[cfg(feature = "http")]
    #[arg(long = "http", value_name = "ADDR", value_parser = parse_host_port)]
    http: Option<SocketAddr>,

    /// With --http: the rules' clock (greylisting, rate limits) stands
    /// still until 'POST /api/v1/clock {"advance": "5m"}' moves it.
    #[cfg(feature = "http")]
    #[arg(long = "manual-clock", requires = "http")]
    manual_clock: bool,

    /// With --http (and feature dkim): a DNS TXT record the DKIM, SPF and
    /// DMARC checks of /api/v1/message/{ID}/authentication see, as
    /// NAME=VALUE (e.g. 'mail._domainkey.example.com=v=DKIM1; k=rsa; p=...');
    /// repeat it for more. Nothing is looked up in real DNS.
    #[cfg(all(feature = "http", feature = "dkim"))]
    #[arg(long = "dns-txt", value_name = "NAME=VALUE", requires = "http", value_parser = parse_dns_txt)]
    dns_txt: Vec<(String, String)>,

    /// With --http: messages kept in memory; beyond it the oldest are dropped.
    #[cfg(feature = "http")]
    #[arg(long = "max-messages", value_name = "N", default_value_t = crate::service::DEFAULT_MAX_MESSAGES)]
    max_messages: usize,

    /// With --http: turn off automatic tags, comma separated: x-tags (the
    /// X-Tags header), plus-addresses (ann+news@example.com tags "news");
    /// Mailpit's flag.
    #[cfg(feature = "http")]
    #[arg(long = "tags-disable", value_name = "SOURCES", value_parser = crate::service::TagSources::disabling)]
    tags_disable: Option<crate::service::TagSources>,

    /// Print one JSON line per accepted message on standard output (From,
    /// To, Subject, MessageID, Size, Peer, Helo) instead of the
    /// DebuggingServer block: for scripts.
    #[cfg(feature = "http")]
    #[arg(long = "json")]
    json: bool,

    /// Write each accepted message to DIR as an .eml file (the exact bytes).
    #[cfg(feature = "http")]
    #[arg(long = "eml-dir", value_name = "DIR")]
    eml_dir: Option<std::path::PathBuf>,

    /// Print the version and exit.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    version: (),

    /// Where to listen.
    #[arg(value_name = "LOCALHOST:PORT", default_value = "127.0.0.1:8025", value_parser = parse_host_port)]
    local: SocketAddr,

    /// The upstream server (used by relaying classes).
    #[arg(value_name = "REMOTEHOST:PORT", value_parser = parse_host_port)]
    remote: Option<SocketAddr>,

    /// Last: the flags under their own heading in --help.
    #[command(flatten)]
    tls_faults: tls_flags::TlsFaultFlags,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Class {
    /// Print each message to standard output.
    #[value(name = "DebuggingServer")]
    DebuggingServer,
    /// Accept each message and drop it.
    #[value(name = "SmtpServer", alias = "SMTPServer", alias = "Sink")]
    SmtpServer,
    /// Relay each message to REMOTEHOST:PORT (default localhost:25) with an
    /// X-Peer header; the upstream's refusals reach the client.
    #[value(name = "PureProxy")]
    PureProxy,
}

/// Says what is wrong with the command line and exits with status 2:
/// with the usage line, unless the mistake is in a file it names.
fn refuse(error: &CliError) -> ExitCode {
    if error.is_usage() {
        Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, error)
            .exit()
    }
    eprintln!("smtp-fixture: {error}");
    ExitCode::from(2)
}

/// Reads the command line; every mistake in it prints the usage and exits
/// with status 2 (clap leaves the usage out of some errors, e.g. a bad
/// address or a missing value).
fn command_line() -> ArgMatches {
    Cli::command().try_get_matches().unwrap_or_else(|mut error| {
        if error.use_stderr() && error.get(ContextKind::Usage).is_none() {
            let usage = Cli::command().render_usage();
            error.insert(ContextKind::Usage, ContextValue::StyledStr(usage));
        }
        error.exit()
    })
}

/// Runs the command line: what `smtp-fixture` does.
pub fn main() -> ExitCode {
    let matches = command_line();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let settings = match Settings::from_command_line(&matches, &cli) {
        Ok(settings) => settings,
        Err(error) => return refuse(&error),
    };
    #[cfg(feature = "http")]
    if let Some(dir) = &cli.eml_dir {
        if let Err(error) = std::fs::create_dir_all(dir) {
            eprintln!("smtp-fixture: --eml-dir {}: {error}", dir.display());
            return ExitCode::from(2);
        }
    }
    let handler = CliHandler::new(&cli, &settings);
    #[cfg(feature = "http")]
    if let Some(http) = cli.http {
        // Service mode: the service records and holds the rules.
        #[cfg(feature = "dkim")]
        let dns_txt = crate::testing::DnsRecords::new(cli.dns_txt.clone());
        #[cfg(not(feature = "dkim"))]
        let dns_txt = crate::testing::DnsRecords::default();
        let service = crate::service::Service::new(
            cli.max_messages,
            cli.tags_disable.unwrap_or_default(),
            cli.manual_clock,
            dns_txt,
        );
        add_rules(&service.script(), settings.rules);
        let handler = service.handler(handler);
        return serve(
            &cli,
            settings.config,
            handler,
            settings.tls,
            &settings.remote,
            Some((service, http)),
        );
    }
    let script = Arc::new(Script::default());
    add_rules(&script, settings.rules);
    let handler = Scripted {
        inner: handler,
        script,
    };
    serve(
        &cli,
        settings.config,
        handler,
        settings.tls,
        &settings.remote,
        None,
    )
}

/// Adds the command line's rules to `script`, in order.
fn add_rules(script: &Script, rules: Vec<config::Rule>) {
    for config::Rule {
        trigger,
        action,
        times,
        chance,
    } in rules
    {
        let mut rule = script.add(trigger, action);
        if let Some(times) = times {
            rule = rule.times(times);
        }
        if let Some((percent, seed)) = chance {
            let _ = rule.by_chance(percent, seed);
        }
    }
}

#[cfg(feature = "http")]
type HttpSide = (crate::service::Service, SocketAddr);
#[cfg(not(feature = "http"))]
type HttpSide = std::convert::Infallible;

/// Runs the SMTP server with `handler` (and, in service mode, the HTTP
/// side) until Ctrl-C or SIGTERM.
fn serve<H: Handler>(
    cli: &Cli,
    config: Config,
    handler: H,
    tls: Option<TlsConfig>,
    remote: &str,
    http: Option<HttpSide>,
) -> ExitCode {
    let server = match server(cli, config, handler, tls) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("smtp-fixture: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match runtime(cli.threads) {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("smtp-fixture: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli, server, remote, http))
}

/// The SMTP server as the flags describe it (printing the TLS banner).
fn server<H: Handler>(
    cli: &Cli,
    config: Config,
    handler: H,
    tls: Option<TlsConfig>,
) -> Result<SmtpServer<H>, crate::protocol::ConfigError> {
    let mut server = SmtpServer::new(config, handler)?;
    if let Some(tls) = tls {
        eprint!("{}", cli.tls_faults.banner(&tls, cli.tls_cert.is_some()));
        server = if cli.smtps {
            server.with_implicit_tls(tls)
        } else {
            server.with_starttls(tls)
        };
    }
    if cli.proxy_protocol {
        server = server.with_proxy_protocol(crate::server::PROXY_HEADER_TIMEOUT);
    }
    Ok(server)
}

/// One thread by default: a test server shares its machine with the client
/// that loads it, and a single-threaded runtime never pays a cross-CPU
/// wake-up per reply (see the README's performance section).
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = match threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    };
    builder.enable_all().build()
}

/// Listens, says where, and serves both sides until the stop signal.
async fn run<H: Handler>(cli: &Cli, server: SmtpServer<H>, remote: &str, http: Option<HttpSide>) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(cli.local).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("smtp-fixture: cannot listen on {}: {error}", cli.local);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(cli.local);
    announce(cli.class, addr, remote);
    // One signal stops both sides.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop.send(true);
    });
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let http = match http {
        Some(http) => match start_http(http, addr, stopped()).await {
            Ok(task) => Some(task),
            Err(code) => return code,
        },
        None => None,
    };
    let _ = std::io::stdout().flush();
    // Run as a task, not in block_on itself: sessions spawned from a task
    // go on the runtime's local queue without waking it through an eventfd.
    let smtp = tokio::spawn(server.run(listener, stopped())).await;
    if let Some(http) = http {
        let _ = http.await;
    }
    match smtp {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => {
            eprintln!("smtp-fixture: {error}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("smtp-fixture: the server task failed: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The "listening on" line the tests and scripts wait for, and for a
/// relay where it relays (with a warning when anyone can use it).
fn announce(class: Class, addr: SocketAddr, remote: &str) {
    println!("smtp-fixture: {class:?} listening on {addr}");
    if matches!(class, Class::PureProxy) {
        println!("smtp-fixture: relaying to {remote}");
        if !addr.ip().is_loopback() {
            eprintln!(
                "smtp-fixture: warning: PureProxy on {addr} relays mail for anyone who can connect (an open relay)"
            );
        }
    }
}

/// Binds the HTTP side, says where it is (warning when it is reachable
/// from other machines) and serves it until `stop`.
#[cfg(feature = "http")]
async fn start_http(
    (service, addr): HttpSide,
    smtp: SocketAddr,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::JoinHandle<()>, ExitCode> {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("smtp-fixture: cannot listen on {addr} for HTTP: {error}");
            return Err(ExitCode::FAILURE);
        }
    };
    let bound = listener.local_addr().unwrap_or(addr);
    service.smtp_listens_on(smtp);
    println!("smtp-fixture: HTTP API and web page on http://{bound}/");
    if !bound.ip().is_loopback() {
        eprintln!(
            "smtp-fixture: warning: the HTTP API on {bound} has no authentication: anyone who can connect reads, \
             deletes and scripts the mail"
        );
    }
    Ok(tokio::spawn(async move {
        if let Err(error) = service.serve(listener, stop).await {
            eprintln!("smtp-fixture: HTTP: {error}");
        }
    }))
}

#[cfg(not(feature = "http"))]
async fn start_http(
    http: HttpSide,
    _smtp: SocketAddr,
    _stop: impl std::future::Future<Output = ()>,
) -> Result<tokio::task::JoinHandle<()>, ExitCode> {
    match http {}
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
