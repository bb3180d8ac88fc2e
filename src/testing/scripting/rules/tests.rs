//! The rules reach every hook of the handler they wrap.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{Script, Scripted};
use crate::handler::Handler;
use crate::protocol::{Decision, Envelope, Message, Session, SessionInfo};
use crate::Reply;

/// Never answers DATA; records which of its other hooks were reached.
#[derive(Default)]
struct Inner {
    at_data: AtomicBool,
    processed: AtomicUsize,
    recipients: Mutex<Vec<String>>,
    closed: Mutex<Vec<u64>>,
}

impl Handler for Inner {
    async fn on_data(&self, _session: &Session) -> Decision {
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
