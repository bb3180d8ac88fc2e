//! Scripted replies through the command line (`--reply`, `--delay`,
//! `--disconnect`, `--times`), so suites in other languages can use them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pretty_assertions::assert_eq;

/// The binary, killed when the test ends.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(rules: &[&str]) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(["-c", "SmtpServer", &format!("127.0.0.1:{port}")])
            .args(rules)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let mut server = Server { child, port };
        // It prints one line once it listens.
        let mut line = String::new();
        let stdout = server.child.stdout.as_mut().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the listening line");
        assert!(line.contains("listening on"), "{line}");
        server
    }

    fn client(&self) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a reply");
            assert!(!line.is_empty(), "closed while waiting for a reply");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    fn command(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        self.reply()
    }
}

#[test]
fn reply_rules_with_times() {
    let server = Server::start(&[
        "--reply",
        "RCPT TO:bounce@example.com=550 5.1.1 No such user",
        "--reply",
        "MESSAGE=451 4.3.0 Try later",
        "--times",
        "1",
    ]);
    let mut client = server.client();
    assert!(client.reply().starts_with("220 "));
    client.command("EHLO me");
    assert_eq!(client.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
    assert_eq!(
        client.command("RCPT TO:<bounce@example.com>"),
        "550 5.1.1 No such user\r\n"
    );
    assert_eq!(client.command("RCPT TO:<ok@example.com>"), "250 OK\r\n");
    for expected in ["451 4.3.0 Try later\r\n", "250 OK\r\n"] {
        assert_eq!(client.command("DATA"), "354 End data with <CR><LF>.<CR><LF>\r\n");
        assert_eq!(client.command("Subject: x\r\n\r\nhi\r\n."), expected);
        client.command("MAIL FROM:<a@example.com>");
        client.command("RCPT TO:<ok@example.com>");
    }
}

#[test]
fn delay_and_disconnect_rules() {
    let server = Server::start(&["--delay", "MAIL=300ms", "--disconnect", "DATA"]);
    let mut client = server.client();
    client.reply();
    client.command("HELO me");
    let started = Instant::now();
    assert_eq!(client.command("MAIL FROM:<a@example.com>"), "250 OK\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "the reply came after the delay"
    );
    client.command("RCPT TO:<b@example.com>");
    client.writer.write_all(b"DATA\r\n").expect("write");
    let mut rest = Vec::new();
    client.reader.read_to_end(&mut rest).expect("the server hangs up");
    assert!(rest.is_empty(), "no reply before the disconnect: {rest:?}");
}

#[test]
fn malformed_rules_are_refused_with_usage() {
    for args in [
        vec!["--reply", "DATA"],
        vec!["--reply", "DATA=hello"],
        vec!["--reply", "MAIL TO:x=550 no"],
        vec!["--delay", "MAIL=soon"],
        vec!["--times", "1"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_smtp-fixture"))
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("error:") && stderr.contains("Usage:"),
            "{args:?}: {stderr}"
        );
    }
}
