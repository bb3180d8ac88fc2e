//! The command line's flags: what `--help` shows, in clap's derive form.
//! `config.rs` turns them into the server's settings.

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};

use super::tls_flags;
#[cfg(all(feature = "http", feature = "dkim"))]
use super::values::parse_dns_txt;
use super::values::parse_host_port;

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
pub(super) struct Cli {
    /// Accepted and ignored (the reference's "do not setuid nobody").
    #[arg(short = 'n', long = "nosetuid")]
    pub(super) nosetuid: bool,

    /// The server kind.
    #[arg(
        short = 'c',
        long = "class",
        value_enum,
        default_value = "DebuggingServer",
        ignore_case = true
    )]
    pub(super) class: Class,

    /// Largest message in bytes, announced with SIZE; without it there is
    /// no limit and SIZE is not announced (as in the reference).
    #[arg(short = 's', long = "size", value_name = "LIMIT")]
    pub(super) size: Option<usize>,

    /// Enable SMTPUTF8 (RFC 6531).
    #[arg(short = 'u', long = "smtputf8")]
    pub(super) smtputf8: bool,

    /// Announce exactly the reference's EHLO extensions (no PIPELINING,
    /// DSN, CHUNKING or REQUIRETLS), to compare with python -m smtpd reply
    /// for reply.
    #[arg(long = "compat")]
    pub(super) compat: bool,

    /// Do not announce CHUNKING/BINARYMIME; BDAT is then an unknown command.
    #[arg(long = "no-chunking")]
    pub(super) no_chunking: bool,

    /// Do not announce DSN; its parameters then get 555.
    #[arg(long = "no-dsn")]
    pub(super) no_dsn: bool,

    /// Print every line received and sent to standard error.
    #[arg(short = 'd', long = "debug")]
    pub(super) debug: bool,

    /// Scripted reply, repeatable: 'TRIGGER=CODE TEXT', e.g.
    /// 'RCPT TO:bounce@example.com=550 5.1.1 No such user' or
    /// 'DATA=451 4.3.0 Try later'. TRIGGER is CONNECT, HELO, MAIL,
    /// 'MAIL FROM:addr', RCPT, 'RCPT TO:addr', DATA, MESSAGE (the reply
    /// after the final dot), 'MESSAGE TO:addr' (that recipient's final
    /// reply, for --lmtp) or any other verb. \n in the text starts a new
    /// line. Rules are checked in the order given.
    #[arg(long = "reply", value_name = "TRIGGER=REPLY")]
    pub(super) reply: Vec<String>,

    /// Wait before the normal reply, repeatable: 'TRIGGER=DURATION', e.g.
    /// 'MAIL=2s' or 'DATA=500ms'.
    #[arg(long = "delay", value_name = "TRIGGER=DURATION")]
    pub(super) delay: Vec<String>,

    /// Close the connection instead of replying to TRIGGER, repeatable.
    #[arg(long = "disconnect", value_name = "TRIGGER")]
    pub(super) disconnect: Vec<String>,

    /// The normal reply to TRIGGER trickles out, repeatable:
    /// 'TRIGGER=BYTES_PER_SECOND', e.g. 'CONNECT=5' (a slow greeting).
    #[arg(long = "throttle", value_name = "TRIGGER=RATE")]
    pub(super) throttle: Vec<String>,

    /// Only the first BYTES of the reply to TRIGGER, then close:
    /// 'TRIGGER=BYTES', e.g. 'MESSAGE=3'.
    #[arg(long = "cut", value_name = "TRIGGER=BYTES")]
    pub(super) cut: Vec<String>,

    /// A TCP reset instead of the reply to TRIGGER, repeatable.
    #[arg(long = "reset", value_name = "TRIGGER")]
    pub(super) reset: Vec<String>,

    /// The reply to TRIGGER, then read nothing more (the client's writes
    /// stall), repeatable.
    #[arg(long = "stop-reading", value_name = "TRIGGER")]
    pub(super) stop_reading: Vec<String>,

    /// Neither reply to TRIGGER nor read again ('--silence CONNECT': a
    /// connection accepted but never greeted), repeatable.
    #[arg(long = "silence", value_name = "TRIGGER")]
    pub(super) silence: Vec<String>,

    /// Greylisting (451 4.7.1 until a client, sender and recipient retry
    /// DURATION or more after the first attempt), repeatable:
    /// '[TRIGGER=]DURATION', e.g. 5m (every recipient) or
    /// 'RCPT TO:addr=1h'.
    #[arg(long = "greylist", value_name = "[TRIGGER=]DURATION")]
    pub(super) greylist: Vec<String>,

    /// A rate limit: the first MAX matches in any WINDOW proceed, the rest
    /// get 451 4.7.1 (CONNECT: 421 4.7.0 and close), repeatable:
    /// 'TRIGGER=MAX/WINDOW', e.g. MESSAGE=10/1m, CONNECT=5/1m, RCPT=100/1h.
    #[arg(long = "rate", value_name = "TRIGGER=MAX/WINDOW")]
    pub(super) rate: Vec<String>,

    /// A quota per recipient: a message that would take one past LIMIT
    /// gets 452 4.2.2 (with ,552: 552 5.2.2), repeatable:
    /// '[MESSAGE=]LIMIT[,CODE]', e.g. 1MB, 500KB, 10messages, '1MB,552'.
    #[arg(long = "quota", value_name = "LIMIT[,CODE]")]
    pub(super) quota: Vec<String>,

    /// At most MAX matches per connection, then 421 4.7.0 and close,
    /// repeatable: '[TRIGGER=]MAX', e.g. 10 (messages: MAIL per
    /// connection).
    #[arg(long = "per-connection", value_name = "[TRIGGER=]MAX")]
    pub(super) per_connection: Vec<String>,

    /// Store the message, then close before the reply to TRIGGER reaches
    /// the client (it believes delivery failed and retries: a duplicate),
    /// repeatable, e.g. MESSAGE.
    #[arg(long = "lose-reply", value_name = "TRIGGER")]
    pub(super) lose_reply: Vec<String>,

    /// Limit the rule given just before to N uses; after that the server
    /// behaves normally.
    #[arg(long = "times", value_name = "N")]
    pub(super) times: Vec<usize>,

    /// The rule given just before fires on PERCENT % of its matches,
    /// drawn from SEED (default 0): the same seed fails the same attempts
    /// in every run, e.g. '--reply MESSAGE=451 Later --chance 30@42'.
    #[arg(long = "chance", value_name = "PERCENT[@SEED]")]
    pub(super) chance: Vec<String>,

    /// Offer STARTTLS with a fresh certificate for localhost, issued by a
    /// test CA made at start (the CA's PEM, to trust, is printed to
    /// standard error).
    #[arg(long = "tls")]
    pub(super) tls: bool,

    /// Offer STARTTLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long = "tls-cert", value_name = "FILE", requires = "tls_key")]
    pub(super) tls_cert: Option<std::path::PathBuf>,

    /// The private key (PEM) for --tls-cert.
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    pub(super) tls_key: Option<std::path::PathBuf>,

    /// Implicit TLS ("SMTPS", RFC 8314): TLS from the first byte.
    #[arg(long = "smtps")]
    pub(super) smtps: bool,

    /// Take HAProxy's PROXY protocol (v1 and v2): each connection starts
    /// with a PROXY header (within 5 s, else it is closed without a reply),
    /// and the client it names is the peer (X-Peer). Only behind a proxy.
    #[arg(long = "proxy-protocol")]
    pub(super) proxy_protocol: bool,

    /// Refuse MAIL and AUTH with 530 until STARTTLS.
    #[arg(long = "require-tls")]
    pub(super) require_tls: bool,

    /// Offer AUTH and accept USER with PASS, repeatable ('user:pass').
    #[arg(long = "auth", value_name = "USER:PASS")]
    pub(super) auth: Vec<String>,

    /// Offer AUTH and accept any credentials.
    #[arg(long = "auth-any")]
    pub(super) auth_any: bool,

    /// Threads serving connections (1: a single-threaded runtime, the
    /// fastest when the clients run on the same machine).
    #[arg(long = "threads", value_name = "N", default_value_t = 1)]
    pub(super) threads: usize,

    /// Announce ENHANCEDSTATUSCODES and put RFC 3463 codes on replies.
    #[arg(long = "enhanced-status-codes")]
    pub(super) enhanced_status_codes: bool,

    /// Speak LMTP (RFC 2033): LHLO instead of HELO/EHLO, and one final
    /// reply per recipient after the message ('--reply MESSAGE TO:addr=..'
    /// fails one); with ENHANCEDSTATUSCODES and PIPELINING, as LMTP
    /// requires.
    #[arg(long = "lmtp")]
    pub(super) lmtp: bool,
    /// Service mode: serve Mailpit's HTTP API (v1), scripted rules over
    /// HTTP and a web page on ADDR (e.g. 127.0.0.1:8026), from the messages
    /// this server accepts. Give a loopback address unless the API should be
    /// reachable from other machines (it has no authentication).
    #[cfg(feature = "http")]
    #[arg(long = "http", value_name = "ADDR", value_parser = parse_host_port)]
    pub(super) http: Option<SocketAddr>,

    /// With --http: the rules' clock (greylisting, rate limits) stands
    /// still until 'POST /api/v1/clock {"advance": "5m"}' moves it.
    #[cfg(feature = "http")]
    #[arg(long = "manual-clock", requires = "http")]
    pub(super) manual_clock: bool,

    /// With --http (and feature dkim): a DNS TXT record the DKIM, SPF and
    /// DMARC checks of /api/v1/message/{ID}/authentication see, as
    /// NAME=VALUE (e.g. 'mail._domainkey.example.com=v=DKIM1; k=rsa; p=...');
    /// repeat it for more. Nothing is looked up in real DNS.
    #[cfg(all(feature = "http", feature = "dkim"))]
    #[arg(long = "dns-txt", value_name = "NAME=VALUE", requires = "http", value_parser = parse_dns_txt)]
    pub(super) dns_txt: Vec<(String, String)>,

    /// With --http: messages kept in memory; beyond it the oldest are dropped.
    #[cfg(feature = "http")]
    #[arg(long = "max-messages", value_name = "N", default_value_t = crate::service::DEFAULT_MAX_MESSAGES)]
    pub(super) max_messages: usize,

    /// With --http: turn off automatic tags, comma separated: x-tags (the
    /// X-Tags header), plus-addresses (ann+news@example.com tags "news");
    /// Mailpit's flag.
    #[cfg(feature = "http")]
    #[arg(long = "tags-disable", value_name = "SOURCES", value_parser = crate::service::TagSources::disabling)]
    pub(super) tags_disable: Option<crate::service::TagSources>,

    /// Print one JSON line per accepted message on standard output (From,
    /// To, Subject, MessageID, Size, Peer, Helo) instead of the
    /// DebuggingServer block: for scripts.
    #[cfg(feature = "http")]
    #[arg(long = "json")]
    pub(super) json: bool,

    /// Write each accepted message to DIR as an .eml file (the exact bytes).
    #[cfg(feature = "http")]
    #[arg(long = "eml-dir", value_name = "DIR")]
    pub(super) eml_dir: Option<std::path::PathBuf>,

    /// Print the version and exit.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    pub(super) version: (),

    /// Where to listen.
    #[arg(value_name = "LOCALHOST:PORT", default_value = "127.0.0.1:8025", value_parser = parse_host_port)]
    pub(super) local: SocketAddr,

    /// The upstream server (used by relaying classes).
    #[arg(value_name = "REMOTEHOST:PORT", value_parser = parse_host_port)]
    pub(super) remote: Option<SocketAddr>,

    /// Last: the flags under their own heading in --help.
    #[command(flatten)]
    pub(super) tls_faults: tls_flags::TlsFaultFlags,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(super) enum Class {
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
