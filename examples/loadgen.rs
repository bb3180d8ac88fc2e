//! A wire load generator for any SMTP server on this machine.
//!
//! It drives `--sessions` concurrent SMTP sessions that together deliver
//! `--messages` messages of `--size` bytes, checks every reply code, and
//! prints messages/s, MB/s and the latency of each transaction (from
//! sending `MAIL` to reading the final `250` after the dot).
//!
//! ```sh
//! cargo build --release --example loadgen
//! target/release/smtp-fixture -c SmtpServer 127.0.0.1:8025 &
//! target/release/examples/loadgen --addr 127.0.0.1:8025 --sessions 10 \
//!     --messages 20000 --size 1024 --mode keep --server-pid $!
//! ```
//!
//! Why it is built the way it is:
//!
//! * Only loopback targets are accepted: a load generator pointed at
//!   somebody else's mail server by a typo is a denial of service.
//! * Every run is bounded twice, by the message count and by
//!   `--duration-cap` (every read, write and connect shares that deadline),
//!   so it can sit in a script or CI job without hanging.
//! * Every reply code is checked; a run where any message was not accepted,
//!   or any session did not end cleanly, exits with status 1 and lists the
//!   failures, so a fast but wrong server cannot look good.
//! * `--mode keep` sends consecutive transactions on one connection without
//!   RSET (as `smtp-source -d` does); `--mode new` opens a connection per
//!   message (greeting, EHLO, transaction, QUIT).
//! * `--pipeline` sends MAIL, RCPT and DATA in one write, but only when the
//!   server announces PIPELINING (RFC 2920); otherwise it falls back to
//!   lockstep, one command per reply, and says so in the report.
//! * The client runs on a single-threaded runtime by default (`--threads`),
//!   like smtp-source, so it leaves the other cores to the server.
//! * `--server-pid` reads the server's user+system CPU time from
//!   `/proc/PID/stat` before and after the run (all threads of the process)
//!   and reports it per 10 000 messages, the figure that stays comparable
//!   when the machine is busy and wall-clock rates are noisy.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout_at, Instant};

/// Upper bounds on the options: every run stays finite.
const MAX_SESSIONS: u32 = 1000;
const MAX_MESSAGES: u64 = 10_000_000;
const MAX_SIZE: usize = 64 << 20;
const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The longest reply (all lines) we buffer before calling it malformed.
const MAX_REPLY: usize = 64 * 1024;

const MAIL_FROM: &str = "loadgen@example.com";
const RCPT_TO: &str = "sink@example.com";
const HELO_NAME: &str = "loadgen.localhost";

/// SMTP load generator for loopback servers.
#[derive(Parser, Debug)]
#[command(name = "loadgen")]
struct Args {
    /// The server, HOST:PORT; must resolve to a loopback address only.
    #[arg(long, default_value = "127.0.0.1:8025")]
    addr: String,

    /// Concurrent SMTP sessions.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=MAX_SESSIONS as i64))]
    sessions: u32,

    /// Messages in total, shared by all sessions.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(1..=MAX_MESSAGES))]
    messages: u64,

    /// Bytes of message content (headers and body, CRLF line endings),
    /// not counting the terminating dot.
    #[arg(long, default_value_t = 1024, value_parser = parse_size)]
    size: usize,

    /// keep: one connection per session, consecutive transactions without
    /// RSET; new: a new connection per message.
    #[arg(long, value_enum, default_value = "keep")]
    mode: Mode,

    /// Send MAIL, RCPT and DATA in one write when the server announces
    /// PIPELINING; lockstep otherwise.
    #[arg(long)]
    pipeline: bool,

    /// Hard stop for the whole run, e.g. 60s, 500ms, 2m (at most 1h).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    duration_cap: Duration,

    /// Report this process's CPU time (user+system, from /proc) per 10 000
    /// messages.
    #[arg(long, value_name = "PID")]
    server_pid: Option<u32>,

    /// Client runtime worker threads (1 = a single-threaded runtime).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Keep the connection across messages.
    Keep,
    /// A new connection per message.
    New,
}

fn parse_size(text: &str) -> Result<usize, String> {
    let size: usize = text.parse().map_err(|_| format!("not a byte count: {text}"))?;
    if size > MAX_SIZE {
        return Err(format!("at most {MAX_SIZE} bytes"));
    }
    Ok(size)
}

/// `60s`, `1.5s`, `500ms`, `2m`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {text}"))?;
    let duration =
        Duration::try_from_secs_f64(value * scale).map_err(|_| format!("not a duration: {text}"))?;
    if duration.is_zero() || duration > MAX_DURATION {
        return Err(format!("between 1ms and {}s", MAX_DURATION.as_secs()));
    }
    Ok(duration)
}

/// Resolves `text` and refuses anything that is not loopback.
fn loopback_addr(text: &str) -> Result<SocketAddr, String> {
    let addrs: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {text}: {error}"))?
        .collect();
    match addrs.iter().find(|addr| !addr.ip().is_loopback()) {
        Some(other) => Err(format!(
            "refusing {text}: it resolves to {other}, which is not a loopback address"
        )),
        None => addrs
            .first()
            .copied()
            .ok_or_else(|| format!("{text} resolves to nothing")),
    }
}

/// The message content: a few headers, then lines of `x` up to `size`
/// bytes, each line CRLF-terminated; no line starts with a dot, so nothing
/// needs dot-stuffing. Followed by the terminator `.\r\n`.
fn build_payload(size: usize) -> Vec<u8> {
    let header = format!("From: <{MAIL_FROM}>\r\nTo: <{RCPT_TO}>\r\nSubject: loadgen\r\n\r\n");
    let mut content = header.into_bytes();
    let target = size.max(content.len());
    while content.len() + 2 < target {
        let n = (target - 2 - content.len()).min(78);
        content.extend(std::iter::repeat_n(b'x', n));
        content.extend_from_slice(b"\r\n");
    }
    match target - content.len() {
        0 => {}
        1 => {
            // One byte left over: lengthen the last line.
            let at = content.len() - 2;
            content.insert(at, b'x');
        }
        _ => content.extend_from_slice(b"\r\n"),
    }
    content.extend_from_slice(b".\r\n");
    content
}

/// Why a message or session failed: the step, and the reply or error.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Failure {
    stage: &'static str,
    detail: String,
    /// The connection cannot be used any more.
    fatal: bool,
    /// The run's deadline passed.
    capped: bool,
}

impl Failure {
    fn io(stage: &'static str, error: impl fmt::Display) -> Failure {
        Failure {
            stage,
            detail: format!("I/O error: {error}"),
            fatal: true,
            capped: false,
        }
    }

    fn capped(stage: &'static str) -> Failure {
        Failure {
            stage,
            detail: "duration cap reached".into(),
            fatal: true,
            capped: true,
        }
    }

    fn reply(stage: &'static str, expected: u16, reply: &Reply) -> Failure {
        Failure {
            stage,
            detail: format!("expected {expected}, got {reply}"),
            // 421 means the server is closing the connection.
            fatal: reply.code == 421,
            capped: false,
        }
    }

    /// The key failures are counted under: the stage and the reply code
    /// (or the error), without per-message details.
    fn key(&self) -> String {
        let short: String = self.detail.chars().take(60).collect();
        format!("{}: {short}", self.stage)
    }
}

struct Reply {
    code: u16,
    text: String,
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text.trim_end())
    }
}

/// One SMTP client connection with a bounded reply buffer.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    deadline: Instant,
    pipelining: bool,
}

impl Client {
    /// Connects, reads the greeting, says EHLO (HELO if EHLO is refused).
    async fn open(addr: SocketAddr, deadline: Instant) -> Result<Client, Failure> {
        let stream = match timeout_at(deadline, TcpStream::connect(addr)).await {
            Err(_) => return Err(Failure::capped("connect")),
            Ok(Err(error)) => return Err(Failure::io("connect", error)),
            Ok(Ok(stream)) => stream,
        };
        // Lockstep SMTP writes one small command and waits: Nagle would only
        // add delay.
        let _ = stream.set_nodelay(true);
        let mut client = Client {
            stream,
            buf: vec![0; 4096],
            start: 0,
            end: 0,
            deadline,
            pipelining: false,
        };
        client.expect("greeting", 220).await?;
        client
            .send("EHLO", format!("EHLO {HELO_NAME}\r\n").as_bytes())
            .await?;
        let reply = client.reply("EHLO").await?;
        match reply.code {
            250 => {
                client.pipelining = reply.text.lines().skip(1).any(|line| {
                    line.get(4..)
                        .and_then(|k| k.split_whitespace().next())
                        .is_some_and(|k| k.eq_ignore_ascii_case("PIPELINING"))
                });
            }
            500 | 502 => {
                client
                    .send("HELO", format!("HELO {HELO_NAME}\r\n").as_bytes())
                    .await?;
                client.expect("HELO", 250).await?;
            }
            _ => {
                let mut failure = Failure::reply("EHLO", 250, &reply);
                failure.fatal = true;
                return Err(failure);
            }
        }
        Ok(client)
    }

    async fn send(&mut self, stage: &'static str, bytes: &[u8]) -> Result<(), Failure> {
        match timeout_at(self.deadline, self.stream.write_all(bytes)).await {
            Err(_) => Err(Failure::capped(stage)),
            Ok(Err(error)) => Err(Failure::io(stage, error)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Reads one complete reply (all continuation lines).
    async fn reply(&mut self, stage: &'static str) -> Result<Reply, Failure> {
        let mut text = String::new();
        let mut code = None;
        loop {
            let line = self.line(stage).await?;
            let malformed = || Failure {
                stage,
                detail: format!("malformed reply line {:?}", String::from_utf8_lossy(&line)),
                fatal: true,
                capped: false,
            };
            if line.len() < 3 || !line[..3].iter().all(u8::is_ascii_digit) {
                return Err(malformed());
            }
            let this: u16 = std::str::from_utf8(&line[..3])
                .ok()
                .and_then(|c| c.parse().ok())
                .ok_or_else(malformed)?;
            if code.is_some_and(|code| code != this) {
                return Err(malformed());
            }
            code = Some(this);
            text.push_str(&String::from_utf8_lossy(&line));
            text.push('\n');
            if text.len() > MAX_REPLY {
                return Err(malformed());
            }
            match line.get(3) {
                None | Some(b' ') => return Ok(Reply { code: this, text }),
                Some(b'-') => {} // a continuation line: read the next
                Some(_) => return Err(malformed()),
            }
        }
    }

    /// One line without its CRLF (or bare LF).
    async fn line(&mut self, stage: &'static str) -> Result<Vec<u8>, Failure> {
        loop {
            let window = &self.buf[self.start..self.end];
            if let Some(at) = window.iter().position(|&b| b == b'\n') {
                let mut line = window[..at].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.start += at + 1;
                return Ok(line);
            }
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                if self.buf.len() >= MAX_REPLY {
                    return Err(Failure {
                        stage,
                        detail: "reply line too long".into(),
                        fatal: true,
                        capped: false,
                    });
                }
                self.buf.resize(self.buf.len() * 2, 0);
            }
            match timeout_at(self.deadline, self.stream.read(&mut self.buf[self.end..])).await {
                Err(_) => return Err(Failure::capped(stage)),
                Ok(Err(error)) => return Err(Failure::io(stage, error)),
                Ok(Ok(0)) => return Err(Failure::io(stage, "server closed the connection")),
                Ok(Ok(n)) => self.end += n,
            }
        }
    }

    async fn expect(&mut self, stage: &'static str, code: u16) -> Result<(), Failure> {
        let reply = self.reply(stage).await?;
        if reply.code == code {
            Ok(())
        } else {
            Err(Failure::reply(stage, code, &reply))
        }
    }

    /// One mail transaction: MAIL, RCPT, DATA, content, final reply.
    async fn transaction(&mut self, commands: &[u8], payload: &[u8], pipeline: bool) -> Result<(), Failure> {
        if pipeline && self.pipelining {
            // RFC 2920: MAIL, RCPT and DATA in one write; read all three
            // replies before judging any of them.
            self.send("MAIL+RCPT+DATA", commands).await?;
            let mail = self.reply("MAIL").await?;
            let rcpt = self.reply("RCPT").await?;
            let data = self.reply("DATA").await?;
            if data.code == 354 {
                // The server wants the content even if MAIL or RCPT failed.
                self.send("content", payload).await?;
                let done = self.reply("final dot").await?;
                check("MAIL", 250, &mail)?;
                check("RCPT", 250, &rcpt)?;
                return check("final dot", 250, &done);
            }
            check("MAIL", 250, &mail)?;
            check("RCPT", 250, &rcpt)?;
            return check("DATA", 354, &data);
        }
        let mut lines = commands.split_inclusive(|&b| b == b'\n');
        for (stage, code) in [("MAIL", 250), ("RCPT", 250), ("DATA", 354)] {
            let line = lines.next().unwrap_or_default();
            self.send(stage, line).await?;
            self.expect(stage, code).await?;
        }
        self.send("content", payload).await?;
        self.expect("final dot", 250).await
    }

    async fn quit(&mut self) -> Result<(), Failure> {
        self.send("QUIT", b"QUIT\r\n").await?;
        self.expect("QUIT", 221).await
    }
}

fn check(stage: &'static str, code: u16, reply: &Reply) -> Result<(), Failure> {
    if reply.code == code {
        Ok(())
    } else {
        Err(Failure::reply(stage, code, reply))
    }
}

/// What every session task shares.
struct Plan {
    addr: SocketAddr,
    mode: Mode,
    pipeline: bool,
    total: u64,
    next: AtomicU64,
    deadline: Instant,
    commands: Vec<u8>,
    payload: Vec<u8>,
}

/// What one session task brings back.
#[derive(Default)]
struct Tally {
    accepted: u64,
    /// Messages claimed but not accepted, by failure.
    failed: BTreeMap<String, u64>,
    /// Session-level errors that did not cost a message (QUIT, RSET).
    session_errors: BTreeMap<String, u64>,
    /// One full example per failure key.
    examples: BTreeMap<String, String>,
    latencies_us: Vec<u32>,
    connections: u64,
    /// Connections whose server announced PIPELINING.
    pipelined_connections: u64,
    capped: bool,
}

impl Tally {
    fn fail(&mut self, failure: &Failure, message: bool) {
        let key = failure.key();
        self.examples
            .entry(key.clone())
            .or_insert_with(|| format!("{}: {}", failure.stage, failure.detail));
        let map = if message {
            &mut self.failed
        } else {
            &mut self.session_errors
        };
        *map.entry(key).or_default() += 1;
        self.capped |= failure.capped;
    }

    fn merge(&mut self, other: Tally) {
        self.accepted += other.accepted;
        for (k, v) in other.failed {
            *self.failed.entry(k).or_default() += v;
        }
        for (k, v) in other.session_errors {
            *self.session_errors.entry(k).or_default() += v;
        }
        for (k, v) in other.examples {
            self.examples.entry(k).or_insert(v);
        }
        self.latencies_us.extend(other.latencies_us);
        self.connections += other.connections;
        self.pipelined_connections += other.pipelined_connections;
        self.capped |= other.capped;
    }
}

/// One session: claims messages from the shared counter until none are
/// left or the deadline passes.
async fn session(plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    let mut client: Option<Client> = None;
    while !tally.capped && Instant::now() < plan.deadline {
        if plan.next.fetch_add(1, Ordering::Relaxed) >= plan.total {
            break;
        }
        if client.is_none() {
            match Client::open(plan.addr, plan.deadline).await {
                Ok(c) => {
                    tally.connections += 1;
                    tally.pipelined_connections += u64::from(c.pipelining);
                    client = Some(c);
                }
                Err(failure) => {
                    tally.fail(&failure, true);
                    continue;
                }
            }
        }
        let Some(c) = client.as_mut() else { continue };
        let started = Instant::now();
        match c.transaction(&plan.commands, &plan.payload, plan.pipeline).await {
            Ok(()) => {
                let micros = started.elapsed().as_micros();
                tally.latencies_us.push(u32::try_from(micros).unwrap_or(u32::MAX));
                tally.accepted += 1;
            }
            Err(failure) => {
                tally.fail(&failure, true);
                if failure.fatal {
                    client = None;
                } else if let Err(failure) = reset(c).await {
                    // Refused transaction: RSET to start clean on this
                    // connection; if even that fails, drop it.
                    tally.fail(&failure, false);
                    client = None;
                }
            }
        }
        if plan.mode == Mode::New {
            if let Some(mut c) = client.take() {
                if let Err(failure) = c.quit().await {
                    tally.fail(&failure, false);
                }
            }
        }
    }
    if let Some(mut c) = client.take() {
        if let Err(failure) = c.quit().await {
            tally.fail(&failure, false);
        }
    }
    tally
}

async fn reset(client: &mut Client) -> Result<(), Failure> {
    client.send("RSET", b"RSET\r\n").await?;
    client.expect("RSET", 250).await
}

/// user+system CPU seconds of a whole process, from `/proc/PID/stat`.
fn cpu_seconds(pid: &str, ticks_per_second: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: count fields from
    // the last ')'. utime and stime are fields 14 and 15 of the whole line.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / ticks_per_second)
}

/// The kernel's USER_HZ, the unit of `/proc/PID/stat` times (100 on
/// Linux unless `getconf` says otherwise).
fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Nearest-rank percentile of sorted samples, in milliseconds.
fn percentile_ms(sorted_us: &[u32], p: f64) -> Option<f64> {
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let micros = *sorted_us.get(rank.clamp(1, sorted_us.len().max(1)) - 1)?;
    Some(f64::from(micros) / 1000.0)
}

/// A figure with three decimals, or `-` when there is none.
fn show(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.3}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let addr = match loopback_addr(&args.addr) {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("loadgen: {error}");
            return ExitCode::from(2);
        }
    };
    let ticks = clock_ticks();
    let server_pid = args.server_pid.map(|pid| pid.to_string());
    let server_cpu_before = match &server_pid {
        Some(pid) => match cpu_seconds(pid, ticks) {
            Some(cpu) => Some(cpu),
            None => {
                eprintln!("loadgen: cannot read /proc/{pid}/stat");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(args.threads))
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let payload = build_payload(args.size);
    let content_size = payload.len() - 3;
    let commands = format!("MAIL FROM:<{MAIL_FROM}>\r\nRCPT TO:<{RCPT_TO}>\r\nDATA\r\n").into_bytes();
    let client_cpu_before = cpu_seconds("self", ticks);

    let started = Instant::now();
    let plan = Arc::new(Plan {
        addr,
        mode: args.mode,
        pipeline: args.pipeline,
        total: args.messages,
        next: AtomicU64::new(0),
        deadline: started + args.duration_cap,
        commands,
        payload,
    });
    let mut tally = runtime.block_on(async {
        let tasks: Vec<_> = (0..args.sessions)
            .map(|_| tokio::spawn(session(plan.clone())))
            .collect();
        let mut tally = Tally::default();
        for task in tasks {
            match task.await {
                Ok(part) => tally.merge(part),
                Err(error) => {
                    let failure = Failure::io("session task", error);
                    tally.fail(&failure, false);
                }
            }
        }
        tally
    });
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = server_pid
        .as_deref()
        .zip(server_cpu_before)
        .and_then(|(pid, before)| Some(cpu_seconds(pid, ticks)? - before));
    let client_cpu = client_cpu_before.and_then(|before| Some(cpu_seconds("self", ticks)? - before));

    // Messages never even attempted because the cap stopped the run.
    let claimed = plan.next.load(Ordering::Relaxed).min(args.messages);
    let unsent = args.messages - claimed;
    if unsent > 0 {
        *tally
            .failed
            .entry("not sent: duration cap reached".into())
            .or_default() += unsent;
    }

    tally.latencies_us.sort_unstable();
    let lat = &tally.latencies_us;
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| show(percentile_ms(lat, p)));
    let rate = tally.accepted as f64 / wall;
    let mbps = tally.accepted as f64 * content_size as f64 / wall / 1e6;
    let accepted = tally.accepted;
    let per_10k = |cpu: Option<f64>| {
        show(
            cpu.filter(|_| accepted > 0)
                .map(|cpu| cpu / accepted as f64 * 1e4),
        )
    };
    let pipelining = match (args.pipeline, tally.pipelined_connections) {
        (false, _) => "off".to_string(),
        (true, 0) => "requested, server does not announce PIPELINING: lockstep".to_string(),
        (true, n) => format!("on ({n} of {} connections)", tally.connections),
    };
    println!(
        "loadgen: {addr} mode={:?} sessions={} messages={} size={content_size} pipelining: {pipelining}",
        args.mode, args.sessions, args.messages
    );
    let capped = if tally.capped {
        " (duration cap reached)"
    } else {
        ""
    };
    println!(
        "accepted {accepted}/{} in {wall:.3} s over {} connections{capped}",
        args.messages, tally.connections,
    );
    println!("throughput: {rate:.0} msg/s, {mbps:.2} MB/s");
    println!("latency MAIL..250, ms: p50 {p50} p90 {p90} p99 {p99} max {max}");
    if let Some(cpu) = server_cpu {
        let per = per_10k(Some(cpu));
        println!("server cpu: {cpu:.2} s user+sys, {per} s per 10k messages");
    }
    if let Some(cpu) = client_cpu {
        let per = per_10k(Some(cpu));
        println!("client cpu: {cpu:.2} s user+sys, {per} s per 10k messages");
    }
    let failed: u64 = tally.failed.values().sum();
    let errors: u64 = tally.session_errors.values().sum();
    if failed == 0 && errors == 0 {
        println!("failures: none");
    } else {
        println!("failures: {failed} messages not accepted, {errors} session errors");
        for (key, count) in tally.failed.iter().chain(&tally.session_errors) {
            let example = tally.examples.get(key).map(String::as_str).unwrap_or(key);
            println!("  {count:>8} × {example}");
        }
    }
    // One line for scripts.
    println!(
        "RESULT mode={:?} sessions={} pipeline={} accepted={accepted} failed={failed} \
         session_errors={errors} wall_s={wall:.3} msg_per_s={rate:.0} mb_per_s={mbps:.2} p50_ms={p50} \
         p90_ms={p90} p99_ms={p99} max_ms={max} server_cpu_per_10k={} client_cpu_per_10k={}",
        args.mode,
        args.sessions,
        args.pipeline && tally.pipelined_connections > 0,
        per_10k(server_cpu),
        per_10k(client_cpu),
    );
    if failed == 0 && errors == 0 && tally.accepted == args.messages {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_requested_size_and_crlf_lines() {
        for size in [0, 10, 70, 71, 72, 73, 100, 1024, 1025, 4096, 100_000] {
            let payload = build_payload(size);
            let content = &payload[..payload.len() - 3];
            assert!(payload.ends_with(b"\r\n.\r\n"));
            if size >= 80 {
                assert_eq!(content.len(), size, "size {size}");
            }
            assert!(!content.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
            assert!(!content.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n'));
            assert!(content.split(|&b| b == b'\n').all(|line| !line.starts_with(b".")));
        }
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("10000s").is_err());
    }

    #[test]
    fn only_loopback_targets() {
        assert!(loopback_addr("127.0.0.1:25").is_ok());
        assert!(loopback_addr("[::1]:25").is_ok());
        assert!(loopback_addr("10.0.0.1:25").is_err());
        assert!(loopback_addr("192.0.2.1:25").is_err());
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile_ms(&samples, 50.0), Some(50.0));
        assert_eq!(percentile_ms(&samples, 99.0), Some(99.0));
        assert_eq!(percentile_ms(&samples, 100.0), Some(100.0));
        assert_eq!(percentile_ms(&[], 50.0), None);
    }
}
