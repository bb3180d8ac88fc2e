//! The handler the command line runs: one of the stock classes, AUTH
//! against the `--auth` users, `--json`/`--eml-dir` output and the `-d`
//! log.

use std::io::Write;

use crate::handler::{Handler, SessionLog};
use crate::handlers::{DebuggingServer, PureProxy, Sink};
use crate::protocol::{Decision, Message};
use crate::protocol::{Session, SessionInfo};
use crate::Credentials;
use crate::Reply;

use super::args::{Class, Cli};
use super::config::Settings;

/// The handler the command line runs: one of the stock kinds, plus the
/// `-d` log.
pub(crate) struct CliHandler {
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
    async fn on_auth(&self, session: &Session, credentials: &Credentials) -> Decision {
        let accepted = match &self.users {
            None => true,
            Some(users) => users.iter().any(|(user, password)| {
                user == credentials.username() && credentials.check_password(password)
            }),
        };
        if accepted {
            Decision::Proceed
        } else {
            // The library's own refusal (`535 5.7.8`), not a copy of its text.
            Sink.on_auth(session, credentials).await
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
    /// The handler for this command line.
    pub(crate) fn new(cli: &Cli, settings: &Settings) -> CliHandler {
        CliHandler {
            class: cli.class,
            debug: cli.debug,
            users: settings.users.clone(),
            proxy: PureProxy::new(settings.remote.as_str()),
            debugging: matches!(cli.class, Class::DebuggingServer).then(DebuggingServer::stdout),
            #[cfg(feature = "http")]
            output: Output {
                json: cli.json,
                eml_dir: cli.eml_dir.clone(),
                written: std::sync::atomic::AtomicU64::new(0),
            },
        }
    }

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
