//! A handler's lifecycle: `on_close` once for every session, also when
//! shutdown cancels one stuck in a hook. (That the fixture's rules reach
//! every hook of the handler they wrap is a unit test of
//! `src/testing/scripting/rules`.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smtp_fixture::handler::Handler;
use smtp_fixture::protocol::{Config, Decision, SessionInfo};
use smtp_fixture::server::SmtpServer;

use crate::support;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Never answers DATA; records the sessions it saw end.
#[derive(Default)]
struct Inner {
    at_data: AtomicBool,
    closed: Mutex<Vec<u64>>,
}

impl Handler for Inner {
    async fn on_data(&self, _session: &smtp_fixture::protocol::Session) -> Decision {
        self.at_data.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
    fn on_close(&self, session: &SessionInfo) {
        self.closed.lock().unwrap().push(session.id);
    }
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
    let server = SmtpServer::new(Config::default(), Inner::default())
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
        support::holds(handler.at_data.load(Ordering::SeqCst))
    })
    .await;

    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    let closed = handler.closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 2, "{closed:?}");
    assert_ne!(closed[0], closed[1], "each session once: {closed:?}");
}
