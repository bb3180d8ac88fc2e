//! Shared by the integration tests: the one raw SMTP client over a real
//! socket, the one port helper, the `expand` notation of long lines, the
//! Python runner and the skips, and the command-line binary started on a
//! free port.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod tls_clients;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
#[cfg(feature = "cli")]
use std::process::{Child, ChildStderr, ChildStdout};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a read waits by default.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// A reply that may not come, as [`Client::read_reply`] tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// Nothing was expected (a data line after a 354).
    Nothing,
    /// The reply lines, CRLF removed.
    Reply(Vec<String>),
    /// The server closed the connection.
    Closed,
    /// No reply within the time allowed.
    Silent,
}

impl Got {
    /// The reply code of the last line, if a reply came.
    pub fn code(&self) -> Option<u16> {
        match self {
            Got::Reply(lines) => lines.last()?.get(..3)?.parse().ok(),
            _ => None,
        }
    }
}

/// A line-at-a-time SMTP client: bytes exactly as given, replies as text.
pub struct Client {
    reader: BufReader<TcpStream>,
    /// The socket, for writes the helpers do not cover (half-close, ...).
    pub writer: TcpStream,
    /// The greeting, when [`Client::greeted`] read it.
    pub greeting: String,
}

impl Client {
    /// Connects without reading the greeting.
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|error| panic!("connect to {addr}: {error}"));
        Client::from_stream(stream)
    }

    /// A client on a socket already connected (the greeting unread).
    pub fn from_stream(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("a read timeout");
        let _ = stream.set_nodelay(true);
        let reader = BufReader::new(stream.try_clone().expect("clone the socket"));
        Client {
            reader,
            writer: stream,
            greeting: String::new(),
        }
    }

    /// Sends `piece` in one write and returns once the server has read all
    /// of it (see [`wait_until_read`]): whatever is sent next reaches the
    /// server in a later read. How a test cuts a stream into the reads a
    /// server sees, without sleeping and hoping.
    pub fn send_apart(&mut self, piece: &[u8]) {
        self.writer.write_all(piece).expect("send");
        wait_until_read(&self.writer);
    }

    /// Connects and reads the greeting, which must be a 220.
    pub fn greeted(addr: SocketAddr) -> Client {
        let mut client = Client::connect(addr);
        client.greeting = client.reply();
        assert!(
            client.greeting.starts_with("220"),
            "greeting: {:?}",
            client.greeting
        );
        client
    }

    /// Connects, reads the 220 greeting and says `EHLO client.test`, which
    /// must get a 250.
    pub fn ehloed(addr: SocketAddr) -> Client {
        let mut client = Client::greeted(addr);
        let ehlo = client.command("EHLO client.test");
        assert!(ehlo.starts_with("250"), "EHLO: {ehlo:?}");
        client
    }

    /// Connects and goes as far as a message's body: `HELO client`, a
    /// sender `a@example.com`, a recipient `b@example.com` and `DATA`, each
    /// of which must be accepted (the `354` read).
    pub fn in_data(addr: SocketAddr) -> Client {
        let mut client = Client::greeted(addr);
        assert_eq!(client.code("HELO client"), 250);
        assert_eq!(client.code("MAIL FROM:<a@example.com>"), 250);
        assert_eq!(client.code("RCPT TO:<b@example.com>"), 250);
        assert_eq!(client.code("DATA"), 354);
        client
    }

    /// How long each read waits from now on (default 20 s).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.writer
            .set_read_timeout(Some(timeout))
            .expect("a read timeout");
    }

    /// One line, CRLF included (bytes that are not UTF-8 shown as U+FFFD);
    /// empty once the server has closed or the read timed out.
    pub fn line(&mut self) -> String {
        let mut line = Vec::new();
        let _ = self.reader.read_until(b'\n', &mut line);
        String::from_utf8_lossy(&line).into_owned()
    }

    /// One reply with its continuation lines; `None` if the server closed.
    pub fn try_reply(&mut self) -> Option<String> {
        let mut all = String::new();
        // A reply of more than 200 lines is not one a server under test sends.
        for _ in 0..200 {
            let line = self.line();
            if line.is_empty() {
                return None;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return Some(all);
            }
        }
        panic!("endless reply: {all:?}");
    }

    /// One reply with its continuation lines.
    pub fn reply(&mut self) -> String {
        self.try_reply()
            .expect("a reply, but the server closed the connection")
    }

    /// One reply as its lines, CRLF removed.
    pub fn reply_lines(&mut self) -> Vec<String> {
        self.reply().lines().map(str::to_string).collect()
    }

    /// One reply within `timeout`, telling a closed connection (or a last
    /// line without its LF) from a silent server.
    pub fn read_reply(&mut self, timeout: Duration) -> Got {
        self.set_timeout(timeout);
        let mut lines = Vec::new();
        for _ in 0..200 {
            let mut line = Vec::new();
            match self.reader.read_until(b'\n', &mut line) {
                Ok(0) => return Got::Closed,
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Got::Silent
                }
                Err(_) => return Got::Closed,
            }
            if !line.ends_with(b"\n") {
                return Got::Closed;
            }
            let text = String::from_utf8_lossy(&line)
                .trim_end_matches(['\r', '\n'])
                .to_string();
            let last = text.as_bytes().get(3) != Some(&b'-');
            lines.push(text);
            if last {
                return Got::Reply(lines);
            }
        }
        panic!("endless reply: {lines:?}");
    }

    /// Writes `bytes` as they are.
    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    /// Writes `bytes` as they are; `false` when the connection is gone.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).is_ok()
    }

    /// Sends `line` with CRLF and returns the reply.
    pub fn command(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Sends `line` with CRLF and returns the reply, or `None` if the server
    /// closed (or the read timed out).
    pub fn try_command(&mut self, line: &str) -> Option<String> {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).ok()?;
        self.try_reply()
    }

    /// Sends `line` with CRLF and returns the reply code.
    pub fn code(&mut self, line: &str) -> u16 {
        self.command(line)[..3].parse().expect("a reply code")
    }

    /// One reply's code (of its last line).
    pub fn reply_code(&mut self) -> u16 {
        let reply = self.reply();
        let last = reply.lines().last().unwrap_or_default();
        last.get(..3)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no reply code in {reply:?}"))
    }

    /// Writes `bytes` as they are and returns the code of the reply.
    pub fn send_code(&mut self, bytes: &[u8]) -> u16 {
        self.send(bytes);
        self.reply_code()
    }

    /// Sends `line` with CRLF and returns the reply's code (of its last
    /// line) and lines, CRLF removed.
    pub fn code_and_lines(&mut self, line: &str) -> (u16, Vec<String>) {
        self.send(format!("{line}\r\n").as_bytes());
        let lines = self.reply_lines();
        let code = lines
            .last()
            .and_then(|l| l.get(..3))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (code, lines)
    }

    /// Sends `line` with CRLF and returns the reply as text: its lines
    /// joined with `\n`, CRLF removed.
    pub fn text(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply_lines().join("\n")
    }

    /// DATA, which must get 354, then `wire` as it is (dot-stuffed, with
    /// the final dot): the final reply as [`text`](Client::text).
    pub fn data(&mut self, wire: &[u8]) -> String {
        let go = self.text("DATA");
        assert!(go.starts_with("354"), "{go}");
        self.send(wire);
        self.reply_lines().join("\n")
    }

    /// Everything until the server closes.
    pub fn rest(&mut self) -> String {
        let mut rest = Vec::new();
        let _ = self.reader.read_to_end(&mut rest);
        String::from_utf8_lossy(&rest).into_owned()
    }

    /// Whether the server has closed: the next read finds the end of the
    /// stream (or a reset). A line instead, or no answer within the read
    /// timeout, is `false`.
    pub fn closed(&mut self) -> bool {
        let mut line = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        }
    }

    /// EHLO, MAIL, RCPT, DATA, then `body` as is (it must end the data);
    /// returns the final reply.
    pub fn send_message(&mut self, from: &str, to: &str, body: &[u8]) -> String {
        assert_eq!(self.code("EHLO client.test"), 250);
        assert_eq!(self.code(&format!("MAIL FROM:<{from}>")), 250);
        assert_eq!(self.code(&format!("RCPT TO:<{to}>")), 250);
        assert_eq!(self.code("DATA"), 354);
        self.send(body);
        self.reply()
    }
}

/// The tables' notation for long lines: `{a*492}` stands for 492 `a`s (any
/// one byte before the `*`; anything else is kept as it is).
pub fn expand(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        if let Some((byte, count, len)) = repeat_at(rest) {
            out.extend(std::iter::repeat_n(byte, count));
            rest = &rest[len..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out
}

/// [`expand`] of UTF-8 text.
pub fn expand_str(text: &str) -> String {
    String::from_utf8(expand(text.as_bytes())).expect("UTF-8 stays UTF-8")
}

/// `{x*N}` at the start of `text`: (x, N, length of the pattern).
fn repeat_at(text: &[u8]) -> Option<(u8, usize, usize)> {
    let [b'{', byte, b'*', rest @ ..] = text else {
        return None;
    };
    let close = rest.iter().position(|&b| b == b'}')?;
    let count = std::str::from_utf8(&rest[..close]).ok()?.parse().ok()?;
    Some((*byte, count, 3 + close + 1))
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

/// The `smtp-fixture` binary, killed when dropped (built with feature `cli`).
#[cfg(feature = "cli")]
pub struct Binary {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Its standard output after the "listening on" line.
    pub stdout: BufReader<ChildStdout>,
    /// Its standard error.
    pub stderr: Option<ChildStderr>,
}

#[cfg(feature = "cli")]
impl Binary {
    /// Starts `smtp-fixture BEFORE.. 127.0.0.1:PORT AFTER..` and waits for
    /// its "listening on" line.
    pub fn start(before: &[&str], after: &[&str]) -> Binary {
        Binary::start_on("127.0.0.1", before, after)
    }

    /// The same, listening on `host`.
    pub fn start_on(host: &str, before: &[&str], after: &[&str]) -> Binary {
        Binary::spawn(
            Command::new(env!("CARGO_BIN_EXE_smtp-fixture")),
            host,
            before,
            after,
        )
    }

    /// The same on 127.0.0.1, with the process's address space limited to
    /// `bytes` (`ulimit -v`), so that an allocation past it aborts it.
    pub fn start_with_memory_limit(bytes: u64, before: &[&str], after: &[&str]) -> Binary {
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", bytes / 1024))
            .arg(env!("CARGO_BIN_EXE_smtp-fixture"));
        Binary::spawn(shell, "127.0.0.1", before, after)
    }

    fn spawn(mut command: Command, host: &str, before: &[&str], after: &[&str]) -> Binary {
        let port = free_port();
        let mut child = command
            .args(before)
            .arg(format!("{host}:{port}"))
            .args(after)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let stderr = child.stderr.take();
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the listening line");
        assert!(line.contains("listening on"), "{line:?}");
        Binary {
            child,
            port,
            stdout,
            stderr,
        }
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

#[cfg(feature = "cli")]
impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a `python3 -c` script did.
#[derive(Debug)]
pub struct PythonRun {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl PythonRun {
    /// Standard output, then standard error.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `script` with `python3 -c`, `args` as its arguments and nothing on
/// standard input. Call [`needs_python!`] first.
pub fn python<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> PythonRun {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("python3 runs");
    PythonRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`python`], which must succeed: its standard output.
#[track_caller]
pub fn python_ok<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> String {
    let run = python(script, args);
    assert!(run.success, "the Python script failed:\n{}", run.output());
    run.stdout
}

/// Waits until the peer of `stream` (a server on loopback, in this
/// process or another) has received and read every byte sent on it so far
/// (or has closed the connection): its socket has received as many bytes
/// as were written to this one, and has none left unread, as `ss`
/// (iproute2) reports both sockets. Acknowledgements are not waited for (a
/// server that has replied once delays its ACKs). Panics after [`patience`]; without `ss`
/// it cannot tell, says so, and pauses instead.
pub fn wait_until_read(stream: &TcpStream) {
    let local = stream.local_addr().expect("the local address");
    let Ok(peer) = stream.peer_addr() else {
        return; // closed: nothing more reaches the server
    };
    if read_by_server(local, peer).is_none() {
        skip("`ss` (iproute2) is missing: a split read is likely but not checked");
        std::thread::sleep(Duration::from_millis(300));
        return;
    }
    eventually_within(
        Duration::from_secs(20),
        "the server received and read everything sent so far",
        || read_by_server(local, peer)?.then_some(()),
    );
}

/// Whether the server end of the connection from `client` to `server` has
/// received and read all the client sent, or is closing or gone, by
/// `ss -tni`; `None` if `ss` cannot be run.
fn read_by_server(client: SocketAddr, server: SocketAddr) -> Option<bool> {
    let filter = format!(
        "( sport = :{a} and dport = :{b} ) or ( sport = :{b} and dport = :{a} )",
        a = client.port(),
        b = server.port()
    );
    let output = Command::new("ss").args(["-tanH", "-i", &filter]).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let counter = |info: &str, name: &str| -> u64 {
        info.split_whitespace()
            .find_map(|field| field.strip_prefix(name)?.parse().ok())
            .unwrap_or(0)
    };
    let (mut client_sent, mut server_side) = (0, None);
    let mut lines = text.lines();
    // Each socket: "STATE RECV-Q SEND-Q LOCAL PEER", then a line of counters.
    while let Some(line) = lines.next() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let info = lines.next().unwrap_or_default();
        let [state, unread, _queued, from, to, ..] = fields[..] else {
            continue;
        };
        if from == client.to_string() && to == server.to_string() {
            // Every byte written: acknowledged (less the SYN's one) or
            // still queued. Not bytes_sent, which counts retransmissions
            // and leaves out what is not sent yet.
            let queued: u64 = fields[2].parse().unwrap_or(0);
            client_sent = counter(info, "bytes_acked:").saturating_sub(1) + queued;
        } else if from == server.to_string() && to == client.to_string() {
            server_side = Some((
                state == "ESTAB",
                counter(info, "bytes_received:"),
                unread.parse().unwrap_or(0),
            ));
        }
    }
    Some(match server_side {
        None | Some((false, _, _)) => true,
        Some((true, received, unread)) => unread == 0 && received >= client_sent,
    })
}

/// How long a test waits for something that should happen soon: the
/// fixture's default wait, 5 s, or `SMTP_FIXTURE_TIMEOUT`'s seconds (as the
/// fixture reads it) on a slow machine.
pub fn patience() -> Duration {
    let from_env = std::env::var("SMTP_FIXTURE_TIMEOUT")
        .ok()
        .and_then(|value| value.trim().trim_end_matches('s').parse::<f64>().ok())
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok());
    from_env.unwrap_or(Duration::from_secs(5))
}

/// `limit`, stretched as [`patience`] stretches the default 5 s (never
/// shortened): a wait that needs more than the default, e.g. a real MTA's
/// delivery, keeps its margin on a slow machine.
pub fn scaled(limit: Duration) -> Duration {
    limit.mul_f64((patience().as_secs_f64() / 5.0).max(1.0))
}

/// Polls `check` until it gives `Some`, for at most [`patience`]; then
/// panics saying what never happened. The one polling loop of the suite:
/// a test waits for what it needs, never sleeps and hopes.
#[track_caller]
pub fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    eventually_within(Duration::from_secs(5), what, check)
}

/// [`eventually`] with a longer limit than the default 5 s, [`scaled`].
#[track_caller]
pub fn eventually_within<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let limit = scaled(limit);
    let deadline = std::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?} (SMTP_FIXTURE_TIMEOUT scales it)"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// [`eventually`] for async tests: the check is awaited, and the pauses
/// between tries do not block the runtime.
pub async fn eventually_async<T, F>(what: &str, mut check: impl FnMut() -> F) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let limit = patience();
    let deadline = std::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?} (SMTP_FIXTURE_TIMEOUT scales it)"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Whether `condition` holds, as [`eventually`]'s check: `Some(())` or
/// `None`.
pub fn holds(condition: bool) -> Option<()> {
    condition.then_some(())
}

/// Says that the running test is skipped, and why: `SKIPPED <test>: <why>`,
/// written straight to the process's standard error. libtest captures only
/// what `print!`/`eprint!` write, and shows it only for a failing test, so
/// an `eprintln!` skip would be silent in a plain `cargo test`.
pub fn skip(why: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {test}: {why}");
}

/// Set by `.ci/run`: a test that needs Python fails instead of skipping.
pub const REQUIRE_PYTHON_ENV: &str = "SMTP_FIXTURE_REQUIRE_PYTHON";

/// Whether `python3` can import `modules`; `Err` says why not. Checked once
/// per test binary and module list.
pub fn python_with(modules: &'static str) -> Result<(), String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CHECKED: OnceLock<Mutex<HashMap<&'static str, Result<(), String>>>> = OnceLock::new();
    let mut checked = CHECKED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    checked
        .entry(modules)
        .or_insert_with(|| {
            let output = Command::new("python3")
                .args(["-W", "ignore", "-c", &format!("import {modules}")])
                .stdin(Stdio::null())
                .output();
            match output {
                Ok(output) if output.status.success() => Ok(()),
                Ok(output) => {
                    Err(format!(
                    "python3 cannot import {modules} ({}); smtpd is in Python 3.11 and was removed in 3.12",
                    String::from_utf8_lossy(&output.stderr).trim().lines().last().unwrap_or("")
                ))
                }
                Err(error) => Err(format!("no python3 on PATH ({error})")),
            }
        })
        .clone()
}

/// Returns from the test, saying why, when `python3` cannot import the
/// modules, unless `.ci/run` asked for Python to be required.
#[macro_export]
macro_rules! needs_python {
    ($modules:expr) => {
        if let Err(why) = $crate::support::python_with($modules) {
            if std::env::var_os($crate::support::REQUIRE_PYTHON_ENV).is_some() {
                panic!("{why}, and {} is set", $crate::support::REQUIRE_PYTHON_ENV);
            }
            $crate::support::skip(&why);
            return;
        }
    };
}

/// Set by `.ci/run`: a test whose external tool (exim, postfix, swaks,
/// haproxy...) is missing fails instead of skipping.
pub const REQUIRE_TOOLS_ENV: &str = "SMTP_FIXTURE_REQUIRE_TOOLS";

/// Where `name` is: on `PATH`, in the sbin directories (which a non-root
/// `PATH` may lack), or unpacked under `target/tools/*/usr/{sbin,bin}` or
/// `/usr/local/lib/smtp-fixture-tools/*/usr/{sbin,bin}` (how
/// `.ci/run` brings Exim beside Postfix: both cannot be installed as the
/// system MTA). `Err` says where it looked.
pub fn tool(name: &str) -> Result<std::path::PathBuf, String> {
    use std::path::PathBuf;
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from));
    let unpacked = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools");
    // Where .ci/run unpacks Exim: outside the checkout, reachable for the
    // user Exim re-executes itself as.
    for place in [
        unpacked.as_path(),
        std::path::Path::new("/usr/local/lib/smtp-fixture-tools"),
    ] {
        if let Ok(entries) = std::fs::read_dir(place) {
            for entry in entries.flatten() {
                dirs.push(entry.path().join("usr/sbin"));
                dirs.push(entry.path().join("usr/bin"));
            }
        }
    }
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            format!(
                "{name} not installed (not on PATH, in /usr/sbin or under {})",
                unpacked.display()
            )
        })
}

/// The tool's path, or returns from the test saying `SKIPPED <test>: <why>`, unless
/// `.ci/run` asked for tools to be required. Takes a program name, or any
/// `Result<T, String>` (a tool found and usable, or why not):
/// `let swaks = needs_tool!("swaks");`.
#[macro_export]
macro_rules! needs_tool {
    ($name:literal) => {
        $crate::needs_tool!($crate::support::tool($name))
    };
    ($found:expr) => {
        match $found {
            Ok(found) => found,
            Err(why) => {
                if std::env::var_os($crate::support::REQUIRE_TOOLS_ENV).is_some() {
                    panic!("{why}, and {} is set", $crate::support::REQUIRE_TOOLS_ENV);
                }
                $crate::support::skip(&why);
                return;
            }
        }
    };
}
