//! The command line, mirroring `python -m smtpd`.

mod args;
mod config;
mod handler;
mod tls_flags;
mod values;

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::handler::Handler;
use crate::protocol::Config;
use crate::server::{SmtpServer, TlsConfig};
use crate::testing::{Script, Scripted};
use clap::error::{ContextKind, ContextValue};
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use args::{Class, Cli};
use config::{CliError, Settings};
use handler::CliHandler;

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
