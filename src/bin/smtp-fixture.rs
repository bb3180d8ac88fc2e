//! The command line, mirroring `python -m smtpd`.

#[path = "smtp-fixture/tls_flags.rs"]
mod tls_flags;

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;

use clap::error::{ContextKind, ContextValue};
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, ValueEnum};
use smtp_fixture::handlers::{DebuggingServer, PureProxy, Sink};
use smtp_fixture::protocol::{replies, Session, SessionInfo};
use smtp_fixture::protocol::{Credentials, Mechanism};
use smtp_fixture::server::TlsConfig;
use smtp_fixture::testing::{
    parse_cut_rule, parse_delay_rule, parse_disconnect_rule, parse_reply_rule, parse_reset_rule,
    parse_silence_rule, parse_stop_reading_rule, parse_throttle_rule, Response, Script, Scripted, Trigger,
};
use smtp_fixture::{Config, Decision, Handler, Message, Reply, SessionLog, SmtpServer};

/// An RFC 5321 SMTP server with SIZE, 8BITMIME and SMTPUTF8: the debugging
/// server of Python's smtpd, in Rust.
///
/// Prints every message it receives (DebuggingServer) or accepts and drops
/// them (SmtpServer). Stop it with Ctrl-C.
#[derive(Parser, Debug)]
#[command(name = "smtp-fixture", version, disable_version_flag = true)]
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

    /// Limit the rule given just before to N uses; after that the server
    /// behaves normally.
    #[arg(long = "times", value_name = "N")]
    times: Vec<usize>,

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

    /// With --http: messages kept in memory; beyond it the oldest are dropped.
    #[cfg(feature = "http")]
    #[arg(long = "max-messages", value_name = "N", default_value_t = smtp_fixture::service::DEFAULT_MAX_MESSAGES)]
    max_messages: usize,

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

/// `host:port`, `[v6]:port`; the host may be a name.
fn parse_host_port(text: &str) -> Result<SocketAddr, String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("Bad spec (want HOST:PORT): {text}"))?;
    let port: u16 = port.parse().map_err(|_| format!("Bad port: {text}"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = if host.is_empty() { "127.0.0.1" } else { host };
    (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("Bad host {host}: {error}"))?
        .next()
        .ok_or_else(|| format!("Bad host: {host}"))
}

/// The handler the command line runs: one of the stock kinds, plus the
/// `-d` log.
struct CliHandler {
    class: Class,
    debug: bool,
    /// `--auth user:pass` pairs; `None` with `--auth-any`.
    users: Option<Vec<(String, String)>>,
    /// The relay for `-c PureProxy` (it connects only when a message comes).
    proxy: PureProxy,
    /// The printer for `-c DebuggingServer` (a thread of its own).
    debugging: Option<DebuggingServer>,
    /// `--json` and `--eml-dir`.
    #[cfg(feature = "http")]
    output: Output,
}

/// What `--json` and `--eml-dir` do with an accepted message.
#[cfg(feature = "http")]
struct Output {
    json: bool,
    eml_dir: Option<std::path::PathBuf>,
    written: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "http")]
impl Output {
    /// Prints the JSON line and writes the file, on the blocking pool.
    async fn accepted(&self, message: &Message) {
        let line = self.json.then(|| {
            let parsed = mail_parser::MessageParser::default().parse(&message.data);
            let subject = parsed.as_ref().and_then(|m| m.subject()).unwrap_or_default();
            let message_id = parsed.as_ref().and_then(|m| m.message_id()).unwrap_or_default();
            let mut line = serde_json::json!({
                "From": message.envelope.mail_from,
                "To": message.envelope.rcpt_to,
                "Subject": subject,
                "MessageID": message_id,
                "Size": message.data.len(),
                "Peer": message.session.peer.to_string(),
                "Helo": message.session.helo,
            })
            .to_string();
            line.push('\n');
            line
        });
        let file = self.eml_dir.as_ref().map(|dir| {
            let n = self.written.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            (dir.join(format!("{millis}-{n:06}.eml")), message.data.clone())
        });
        if line.is_none() && file.is_none() {
            return;
        }
        let _ = tokio::task::spawn_blocking(move || {
            if let Some((path, data)) = file {
                if let Err(error) = std::fs::write(&path, data) {
                    eprintln!("smtp-fixture: cannot write {}: {error}", path.display());
                }
            }
            if let Some(line) = line {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
            }
        })
        .await;
    }
}
impl Handler for CliHandler {
    async fn on_auth(&self, _session: &Session, credentials: &Credentials) -> Decision {
        let accepted = match &self.users {
            None => true,
            Some(users) => users.iter().any(|(user, password)| {
                user == credentials.username() && credentials.check_password(password)
            }),
        };
        if accepted {
            Decision::Proceed
        } else {
            Decision::Reply(replies::auth_invalid())
        }
    }
    async fn process_message(&self, message: &Message) -> Option<Reply> {
        let reply = self.class_reply(message).await;
        #[cfg(feature = "http")]
        if reply.as_ref().is_none_or(Reply::is_positive) {
            self.output.accepted(message).await;
        }
        reply
    }

    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        self.debug.then(|| {
            match session.proxy {
                Some(proxy) => eprintln!(
                    "[session {}] connection from {} via proxy {proxy}",
                    session.id, session.peer
                ),
                None => eprintln!("[session {}] connection from {}", session.id, session.peer),
            }
            Box::new(StderrLog { id: session.id }) as Box<dyn SessionLog>
        })
    }
}

impl CliHandler {
    /// The class's own work and reply.
    async fn class_reply(&self, message: &Message) -> Option<Reply> {
        match self.class {
            #[cfg(feature = "http")]
            Class::DebuggingServer if self.output.json => None,
            Class::DebuggingServer => match &self.debugging {
                Some(debugging) => debugging.process_message(message).await,
                None => None,
            },
            Class::SmtpServer => Sink.process_message(message).await,
            // Boxed: the relay's client is a large state machine, and an
            // unboxed one would make every hook's future as large, copied
            // for every command of every session.
            Class::PureProxy => Box::pin(self.proxy.process_message(message)).await,
        }
    }
}

/// `-d`: every line in and out on standard error.
struct StderrLog {
    id: u64,
}

impl StderrLog {
    fn print(&self, direction: &str, bytes: &[u8]) {
        let mut err = std::io::stderr().lock();
        for line in String::from_utf8_lossy(bytes).lines() {
            let _ = writeln!(err, "[session {}] {direction} {line}", self.id);
        }
    }
}

impl SessionLog for StderrLog {
    fn received(&mut self, line: &[u8]) {
        self.print("C:", line);
    }
    fn received_data(&mut self, line: &[u8]) {
        self.print("C:", line);
    }
    fn received_cut(&mut self, start: &[u8], length: usize, _data: bool) {
        let start = String::from_utf8_lossy(start);
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "[session {}] C: {start}... ({length} bytes, cut)", self.id);
    }
    fn sent(&mut self, bytes: &[u8]) {
        self.print("S:", bytes);
    }
    fn note(&mut self, text: &str) {
        self.print("--", text.as_bytes());
    }
}

/// The scripted rules in command-line order, each with its `--times`.
fn scripted_rules(
    matches: &ArgMatches,
    cli: &Cli,
) -> Result<Vec<(Trigger, Response, Option<usize>)>, String> {
    type Parse = fn(&str) -> Result<(Trigger, Response), String>;
    let kinds: [(&str, &Vec<String>, Parse); 8] = [
        ("reply", &cli.reply, parse_reply_rule),
        ("delay", &cli.delay, parse_delay_rule),
        ("disconnect", &cli.disconnect, parse_disconnect_rule),
        ("throttle", &cli.throttle, parse_throttle_rule),
        ("cut", &cli.cut, parse_cut_rule),
        ("reset", &cli.reset, parse_reset_rule),
        ("stop_reading", &cli.stop_reading, parse_stop_reading_rule),
        ("silence", &cli.silence, parse_silence_rule),
    ];
    let mut rules = Vec::new();
    for (id, values, parse) in kinds {
        let indices = matches.indices_of(id).into_iter().flatten();
        for (index, value) in indices.zip(values) {
            let flag = id.replace('_', "-");
            let (trigger, response) = parse(value).map_err(|e| format!("--{flag} {value:?}: {e}"))?;
            rules.push((index, trigger, response, None));
        }
    }
    rules.sort_by_key(|rule| rule.0);
    let times = matches.indices_of("times").into_iter().flatten().zip(&cli.times);
    for (index, &n) in times {
        let rule = rules.iter_mut().rev().find(|rule| rule.0 < index);
        match rule {
            Some(rule) if rule.3.is_none() => rule.3 = Some(n),
            Some(_) => return Err("--times given twice for one rule".to_string()),
            None => {
                return Err("--times must follow a rule (--reply, --delay, --disconnect, ...)".to_string())
            }
        }
    }
    Ok(rules
        .into_iter()
        .map(|(_, trigger, response, times)| (trigger, response, times))
        .collect())
}

/// A usage error: the message, the usage line, exit status 2.
fn usage_error(message: String) -> ! {
    Cli::command()
        .error(clap::error::ErrorKind::ValueValidation, message)
        .exit()
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

fn main() -> ExitCode {
    let matches = command_line();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let rules = scripted_rules(&matches, &cli).unwrap_or_else(|error| {
        Cli::command()
            .error(clap::error::ErrorKind::ValueValidation, error)
            .exit()
    });
    #[cfg(feature = "http")]
    let service = cli
        .http
        .map(|_| smtp_fixture::service::Service::new(cli.max_messages));
    #[cfg(feature = "http")]
    let script = service
        .as_ref()
        .map_or_else(|| Arc::new(Script::default()), |service| service.script());
    #[cfg(not(feature = "http"))]
    let script = Arc::new(Script::default());
    for (trigger, response, times) in rules {
        let rule = script.add(trigger, response);
        if let Some(times) = times {
            let _ = rule.times(times);
        }
    }
    let mut users = Vec::new();
    for pair in &cli.auth {
        match pair.split_once(':') {
            Some((user, password)) => users.push((user.to_string(), password.to_string())),
            None => usage_error(format!("--auth {pair:?}: want USER:PASS")),
        }
    }
    let offer_auth = cli.auth_any || !users.is_empty();
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
    let config = if cli.compat {
        config.with_reference_extensions()
    } else {
        config
    };
    let files = cli.tls_cert.as_ref().zip(cli.tls_key.as_ref());
    let tls_on = files.is_some() || cli.tls || cli.smtps || cli.require_tls || cli.tls_faults.any();
    let tls = tls_on.then(|| cli.tls_faults.config(files));
    let tls = match tls.transpose() {
        Ok(tls) => tls,
        Err(error) => {
            eprintln!("smtp-fixture: TLS: {error}");
            return ExitCode::from(2);
        }
    };
    // The reference's default upstream; a name is resolved at each relay.
    let remote = cli
        .remote
        .map_or_else(|| "localhost:25".to_string(), |addr| addr.to_string());
    let handler = CliHandler {
        class: cli.class,
        debug: cli.debug,
        users: (!cli.auth_any).then_some(users),
        proxy: PureProxy::new(remote.as_str()),
        debugging: matches!(cli.class, Class::DebuggingServer).then(DebuggingServer::stdout),
        #[cfg(feature = "http")]
        output: Output {
            json: cli.json,
            eml_dir: cli.eml_dir.clone(),
            written: std::sync::atomic::AtomicU64::new(0),
        },
    };
    #[cfg(feature = "http")]
    if let Some(dir) = &cli.eml_dir {
        if let Err(error) = std::fs::create_dir_all(dir) {
            eprintln!("smtp-fixture: --eml-dir {}: {error}", dir.display());
            return ExitCode::from(2);
        }
    }
    #[cfg(feature = "http")]
    if let (Some(service), Some(http)) = (service, cli.http) {
        let handler = service.handler(handler);
        return serve(&cli, config, handler, tls, &remote, Some((service, http)));
    }
    let handler = Scripted {
        inner: handler,
        script,
    };
    serve(&cli, config, handler, tls, &remote, None)
}

#[cfg(feature = "http")]
type HttpSide = (smtp_fixture::service::Service, SocketAddr);
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
    let mut server = match SmtpServer::new(config, handler) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("smtp-fixture: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(tls) = tls {
        eprint!("{}", cli.tls_faults.banner(&tls, cli.tls_cert.is_some()));
        server = if cli.smtps {
            server.with_implicit_tls(tls)
        } else {
            server.with_starttls(tls)
        };
    }
    if cli.proxy_protocol {
        server = server.with_proxy_protocol(smtp_fixture::server::PROXY_HEADER_TIMEOUT);
    }
    // One thread by default: a test server shares its machine with the client
    // that loads it, and a single-threaded runtime never pays a cross-CPU
    // wake-up per reply (see the README's performance section).
    let mut builder = match cli.threads {
        0 | 1 => tokio::runtime::Builder::new_current_thread(),
        threads => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(threads);
            builder
        }
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("smtp-fixture: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(cli.local).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("smtp-fixture: cannot listen on {}: {error}", cli.local);
                return ExitCode::FAILURE;
            }
        };
        let addr = listener.local_addr().unwrap_or(cli.local);
        println!("smtp-fixture: {:?} listening on {addr}", cli.class);
        if matches!(cli.class, Class::PureProxy) {
            println!("smtp-fixture: relaying to {remote}");
            if !addr.ip().is_loopback() {
                eprintln!(
                    "smtp-fixture: warning: PureProxy on {addr} relays mail for anyone who can connect (an open relay)"
                );
            }
        }
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
            Some(http) => match start_http(http, stopped()).await {
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
        }})
}

/// Binds the HTTP side, says where it is (warning when it is reachable
/// from other machines) and serves it until `stop`.
#[cfg(feature = "http")]
async fn start_http(
    (service, addr): HttpSide,
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
