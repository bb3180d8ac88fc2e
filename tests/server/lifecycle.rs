//! A handler's lifecycle: `on_close` once for every session, also when
//! shutdown cancels one stuck in a hook; and a handler wrapped in the
//! fixture's `Scripted` reached in every hook (`process_message`,
//! `process_recipient`, `on_close`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support;
use smtp_fixture::testing::{Script, Scripted};
use smtp_fixture::{Config, Decision, Envelope, Handler, Message, Reply, SessionInfo, SmtpServer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Never answers DATA; records which of its other hooks were reached.
#[derive(Default)]
struct Inner {
    at_data: AtomicBool,
    processed: AtomicUsize,
    recipients: Mutex<Vec<String>>,
    closed: Mutex<Vec<u64>>,
}

impl Handler for Inner {
    async fn on_data(&self, _session: &smtp_fixture::protocol::Session) -> Decision {
        self.at_data.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
    async fn process_message(&self, _message: &Message) -> Option<Reply> {
        self.processed.fetch_add(1, Ordering::SeqCst);
        None
    }
    async fn process_recipient(&self, _message: &Message, recipient: &str) -> Option<Reply> {
        self.recipients.lock().unwrap().push(recipient.to_string());
        (recipient == "full@example.com").then(|| Reply::new(452, "4.2.2 Mailbox full"))
    }
    fn on_close(&self, session: &SessionInfo) {
        self.closed.lock().unwrap().push(session.id);
    }
}

fn scripted() -> Scripted<Inner> {
    Scripted {
        inner: Inner::default(),
        script: Arc::new(Script::default()),
    }
}

fn session_info(id: u64) -> SessionInfo {
    SessionInfo {
        id,
        peer: "127.0.0.1:40000".parse().unwrap(),
        proxy: None,
        hostname: "localhost".into(),
        helo: "client".into(),
        extended: true,
        tls: None,
        auth: None,
    }
}

#[tokio::test]
async fn scripted_reaches_every_hook_of_the_handler_it_wraps() {
    let scripted = scripted();
    let message = Message {
        session: session_info(7),
        envelope: Envelope {
            mail_from: "ann@example.com".into(),
            rcpt_to: vec!["bob@example.com".into(), "full@example.com".into()],
            ..Envelope::default()
        },
        data: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
        unstuffed_dot_lines: 0,
    };
    // As a routing proxy without a session asks.
    assert_eq!(scripted.process_message(&message).await, None);
    assert_eq!(scripted.inner.processed.load(Ordering::SeqCst), 1);
    assert_eq!(
        scripted.process_recipient(&message, "full@example.com").await,
        Some(Reply::new(452, "4.2.2 Mailbox full"))
    );
    assert_eq!(*scripted.inner.recipients.lock().unwrap(), ["full@example.com"]);
    scripted.on_close(&message.session);
    assert_eq!(*scripted.inner.closed.lock().unwrap(), [7]);
}

async fn command(lines: &mut BufReader<TcpStream>, command: &str) -> String {
    lines
        .get_mut()
        .write_all(format!("{command}\r\n").as_bytes())
        .await
        .unwrap();
    let mut reply = String::new();
    lines.read_line(&mut reply).await.unwrap();
    reply
}

#[tokio::test]
async fn on_close_runs_once_per_session_also_when_shutdown_cancels_it() {
    let server = SmtpServer::new(Config::default(), scripted())
        .unwrap()
        .with_shutdown_grace(Duration::from_millis(50));
    let handler = Arc::clone(server.handler());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));

    let mut ended = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let mut greeting = String::new();
    ended.read_line(&mut greeting).await.unwrap();
    assert!(command(&mut ended, "QUIT").await.starts_with("221"));

    let mut stuck = BufReader::new(TcpStream::connect(addr).await.unwrap());
    stuck.read_line(&mut greeting).await.unwrap();
    for line in [
        "HELO client",
        "MAIL FROM:<a@example.com>",
        "RCPT TO:<b@example.com>",
    ] {
        assert!(command(&mut stuck, line).await.starts_with("250"), "{line}");
    }
    stuck.get_mut().write_all(b"DATA\r\n").await.unwrap();
    support::eventually_async("the session is in on_data", || async {
        support::holds(handler.inner.at_data.load(Ordering::SeqCst))
    })
    .await;

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let closed = handler.inner.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 2, "{closed:?}");
    assert_ne!(closed[0], closed[1], "each session once: {closed:?}");
}
