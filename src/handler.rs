//! The hooks a server calls: one per command, `process_message`, and what
//! happens once a message was accepted or a session ended.
//!
//! The server asks every question through [`Handler::decide`], whose
//! default dispatches to the per-command hooks. A handler that wraps
//! another implements [`Wrapper`] instead of [`Handler`]: it intercepts in
//! `decide` what it wants and the rest reaches the inner handler on its
//! own, so no hook can be forgotten.
//!
//! Every hook has a default that behaves like the reference, so a handler
//! overrides only what it cares about. The session owns syntax and
//! sequencing: a hook is only asked about commands that are valid at that
//! point, and only decides whether to accept them or what to answer.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::protocol::auth::Credentials;
use crate::protocol::{Command, Decision, Message, Question, Reply, Session, SessionInfo};

/// What a server does with sessions and messages (the reference's
/// `SMTPServer` subclass with its `process_message`, plus the channel's
/// per-command methods).
///
/// ```
/// use smtp_fixture::{Handler, Message, Reply};
///
/// /// Refuses mail for one address, accepts the rest.
/// struct NoBob;
///
/// impl Handler for NoBob {
///     async fn process_message(&self, message: &Message) -> Option<Reply> {
///         if message.rcpt_tos().iter().any(|r| r == "bob@example.com") {
///             Some(Reply::new(550, "No Bob here"))
///         } else {
///             None
///         }
///     }
/// }
/// ```
pub trait Handler: Send + Sync + 'static {
    /// The one entry point the server calls: the decision on `question`,
    /// which `session` asks. The default asks the hook that answers it
    /// ([`on_connect`](Handler::on_connect) for [`Question::Connect`], and
    /// so on); a handler rarely overrides it (a [`Wrapper`] does).
    fn decide(&self, session: &Session, question: &Question) -> impl Future<Output = Decision> + Send {
        async move {
            match question {
                Question::Connect => self.on_connect(session).await,
                Question::Command(command) => self.on_command(session, command).await,
                Question::Helo { name, extended } => self.on_helo(session, name, *extended).await,
                Question::Mail { address, params } => self.on_mail_from(session, address, params).await,
                Question::Rcpt { address, params } => self.on_rcpt_to(session, address, params).await,
                Question::Data => self.on_data(session).await,
                Question::Auth(credentials) => self.on_auth(session, credentials).await,
                Question::Message(message) => self.on_message(session, message).await,
            }
        }
    }

    /// A client connected. [`Decision::Reply`] replaces the greeting: 421
    /// closes the session, 554 refuses every command but QUIT.
    fn on_connect(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async { Decision::Proceed }
    }

    /// Any command line, known or unknown, before the server handles it. A
    /// reply here replaces the command: the way to add commands (`XCLIENT`)
    /// or change a reply the server would give.
    fn on_command(&self, session: &Session, command: &Command) -> impl Future<Output = Decision> + Send {
        let _ = (session, command);
        async { Decision::Proceed }
    }

    /// A valid HELO or EHLO (`extended`).
    fn on_helo(
        &self,
        session: &Session,
        name: &str,
        extended: bool,
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, name, extended);
        async { Decision::Proceed }
    }

    /// A valid `MAIL FROM`; `params` are upper-cased.
    fn on_mail_from(
        &self,
        session: &Session,
        address: &str,
        params: &[String],
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, address, params);
        async { Decision::Proceed }
    }

    /// A valid `RCPT TO`. A refusal keeps the recipient out of the envelope.
    fn on_rcpt_to(
        &self,
        session: &Session,
        address: &str,
        params: &[String],
    ) -> impl Future<Output = Decision> + Send {
        let _ = (session, address, params);
        async { Decision::Proceed }
    }

    /// A client presented AUTH credentials. The default refuses them all
    /// (`535`); `Decision::Proceed` accepts them (`235`).
    fn on_auth(&self, session: &Session, credentials: &Credentials) -> impl Future<Output = Decision> + Send {
        let _ = (session, credentials);
        async { Decision::Reply(Reply::new(535, "5.7.8 Authentication credentials invalid")) }
    }

    /// A valid `DATA`, before `354`.
    fn on_data(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async { Decision::Proceed }
    }

    /// The message is complete: decides its final reply. The default asks
    /// [`process_message`](Handler::process_message) and, when that accepts
    /// the message, [`process_recipient`](Handler::process_recipient) for
    /// each recipient; override this one to see the session too, or to
    /// disconnect. [`Decision::PerRecipient`] answers each recipient
    /// (LMTP).
    fn on_message(&self, session: &Session, message: &Message) -> impl Future<Output = Decision> + Send {
        let _ = session;
        async move {
            let mut decision = match self.process_message(message).await {
                Some(reply) => Decision::Reply(reply),
                None => Decision::Proceed,
            };
            let recipients = message.rcpt_tos();
            for (index, recipient) in recipients.iter().enumerate() {
                if !decision.goes_per_recipient() {
                    break;
                }
                if let Some(reply) = self.process_recipient(message, recipient).await {
                    decision = decision.with_recipient_reply(recipients.len(), index, reply);
                }
            }
            decision
        }
    }

    /// The message is complete. `None` answers `250 OK`; a reply is sent
    /// instead (a 2xx reply still accepts the message).
    fn process_message(&self, message: &Message) -> impl Future<Output = Option<Reply>> + Send {
        let _ = message;
        async { None }
    }

    /// The message is complete and `process_message` accepted it: the reply
    /// for one of its recipients, asked for each in RCPT order. `None` (the
    /// default) keeps `process_message`'s reply.
    ///
    /// In LMTP (RFC 2033) each recipient gets its own final reply, and the
    /// message is delivered to those whose reply is a 2xx. SMTP has one
    /// final reply: a refusal here refuses the whole message.
    ///
    /// ```
    /// use smtp_fixture::{Handler, Message, Reply};
    ///
    /// /// An LMTP delivery agent with one full mailbox.
    /// struct Mailboxes;
    ///
    /// impl Handler for Mailboxes {
    ///     async fn process_recipient(&self, _message: &Message, recipient: &str) -> Option<Reply> {
    ///         (recipient == "full@example.com").then(|| Reply::new(452, "4.2.2 Mailbox full"))
    ///     }
    /// }
    /// ```
    fn process_recipient(
        &self,
        message: &Message,
        recipient: &str,
    ) -> impl Future<Output = Option<Reply>> + Send {
        let _ = (message, recipient);
        async { None }
    }

    /// The message was accepted and its final reply has reached the client's
    /// socket. Called once per accepted message, with ownership.
    fn message_accepted(&self, message: Message) {
        let _ = message;
    }

    /// A log for a new session's traffic, if this handler keeps one.
    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        let _ = session;
        None
    }

    /// The session ended, however it ended: QUIT, the client vanishing, a
    /// timeout, an error, or the server shutting down (its task cancelled).
    /// Called exactly once for every session the server started (and whose
    /// [`session_log`](Handler::session_log) it asked for), with what the
    /// session knew at its end; the place to release what a handler keeps
    /// per session. Synchronous, since a cancelled task cannot await: hand
    /// slow work to a task of its own.
    fn on_close(&self, session: &SessionInfo) {
        let _ = session;
    }
}

/// Receives one session's traffic, in order, a whole line at a time
/// however the bytes were chunked on the wire: each byte received or sent
/// is logged once.
pub trait SessionLog: Send {
    /// A command line as received, CRLF included.
    fn received(&mut self, line: &[u8]);
    /// A line of the message after `354`, CRLF included (the terminator's
    /// `.` line too).
    fn received_data(&mut self, line: &[u8]);
    /// A line too long to keep whole (over 64 KiB): its first bytes and its
    /// length in all, CRLF included; `data`: a line of the message. By
    /// default logged as if the start were the line.
    fn received_cut(&mut self, start: &[u8], length: usize, data: bool) {
        let _ = length;
        if data {
            self.received_data(start);
        } else {
            self.received(start);
        }
    }
    /// Reply bytes as written.
    fn sent(&mut self, bytes: &[u8]);
    /// Something that is not traffic: a timeout, the connection closing.
    fn note(&mut self, text: &str);
}

/// A handler that wraps another: the one way to build one. Every
/// [`Wrapper`] is a [`Handler`] (a blanket impl), whose every method
/// reaches the inner handler unless the wrapper intercepts it here, so a
/// new hook, or one a wrapper's author did not think of, is never lost.
///
/// Intercept questions in [`decide`](Wrapper::decide) and ask
/// `self.inner().decide(..)` for the rest; the lifecycle methods forward by
/// default, override them to add to what the inner handler does. The
/// per-command hooks of the wrapper (`on_helo`, ...), when called directly,
/// go through its `decide`. `process_message` and `process_recipient` are
/// what the default `on_message` asks, and what a caller without a session
/// asks: the inner handler's unless overridden here.
///
/// The methods share their names with [`Handler`]'s: where both traits are
/// in scope, call a wrapper's as `Handler::decide(&wrapper, ..)`.
///
/// ```
/// use smtp_fixture::handler::{Handler, Wrapper};
/// use smtp_fixture::handlers::Sink;
/// use smtp_fixture::protocol::{Decision, Question, Reply, Session};
///
/// /// Refuses the null sender; otherwise is `H`.
/// struct NoBounces<H>(H);
///
/// impl<H: Handler> Wrapper for NoBounces<H> {
///     type Inner = H;
///     fn inner(&self) -> &H {
///         &self.0
///     }
///     async fn decide(&self, session: &Session, question: &Question) -> Decision {
///         match question {
///             Question::Mail { address, .. } if address == "<>" => {
///                 Decision::Reply(Reply::new(550, "5.7.1 No bounces here"))
///             }
///             _ => self.0.decide(session, question).await,
///         }
///     }
/// }
///
/// fn serve(_: impl Handler) {}
/// serve(NoBounces(Sink));
/// ```
pub trait Wrapper: Send + Sync + 'static {
    /// The wrapped handler.
    type Inner: Handler;

    /// The wrapped handler, asked for whatever the wrapper leaves alone.
    fn inner(&self) -> &Self::Inner;

    /// See [`Handler::decide`]; the default asks the inner handler.
    fn decide(&self, session: &Session, question: &Question) -> impl Future<Output = Decision> + Send {
        self.inner().decide(session, question)
    }

    /// See [`Handler::process_message`], asked when the wrapper is called
    /// without a session; the default asks the inner handler.
    fn process_message(&self, message: &Message) -> impl Future<Output = Option<Reply>> + Send {
        self.inner().process_message(message)
    }

    /// See [`Handler::process_recipient`]; the default asks the inner
    /// handler.
    fn process_recipient(
        &self,
        message: &Message,
        recipient: &str,
    ) -> impl Future<Output = Option<Reply>> + Send {
        self.inner().process_recipient(message, recipient)
    }

    /// See [`Handler::message_accepted`]; the default tells the inner
    /// handler.
    fn message_accepted(&self, message: Message) {
        self.inner().message_accepted(message);
    }

    /// See [`Handler::session_log`]; the default is the inner handler's.
    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        self.inner().session_log(session)
    }

    /// See [`Handler::on_close`]; the default tells the inner handler. An
    /// override that cleans up its own state calls it too.
    fn on_close(&self, session: &SessionInfo) {
        self.inner().on_close(session);
    }
}

impl<W: Wrapper> Handler for W {
    fn decide(&self, session: &Session, question: &Question) -> impl Future<Output = Decision> + Send {
        Wrapper::decide(self, session, question)
    }

    // A direct call of a per-command hook asks the wrapper's `decide`, so
    // that it sees what the server would have asked.
    fn on_connect(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        Wrapper::decide(self, session, &Question::Connect)
    }
    async fn on_command(&self, session: &Session, command: &Command) -> Decision {
        Wrapper::decide(self, session, &Question::Command(command.clone())).await
    }
    async fn on_helo(&self, session: &Session, name: &str, extended: bool) -> Decision {
        let question = Question::Helo {
            name: name.to_string(),
            extended,
        };
        Wrapper::decide(self, session, &question).await
    }
    async fn on_mail_from(&self, session: &Session, address: &str, params: &[String]) -> Decision {
        let question = Question::Mail {
            address: address.to_string(),
            params: params.to_vec(),
        };
        Wrapper::decide(self, session, &question).await
    }
    async fn on_rcpt_to(&self, session: &Session, address: &str, params: &[String]) -> Decision {
        let question = Question::Rcpt {
            address: address.to_string(),
            params: params.to_vec(),
        };
        Wrapper::decide(self, session, &question).await
    }
    async fn on_auth(&self, session: &Session, credentials: &Credentials) -> Decision {
        Wrapper::decide(self, session, &Question::Auth(credentials.clone())).await
    }
    fn on_data(&self, session: &Session) -> impl Future<Output = Decision> + Send {
        Wrapper::decide(self, session, &Question::Data)
    }
    async fn on_message(&self, session: &Session, message: &Message) -> Decision {
        Wrapper::decide(self, session, &Question::Message(Box::new(message.clone()))).await
    }

    fn process_message(&self, message: &Message) -> impl Future<Output = Option<Reply>> + Send {
        Wrapper::process_message(self, message)
    }
    fn process_recipient(
        &self,
        message: &Message,
        recipient: &str,
    ) -> impl Future<Output = Option<Reply>> + Send {
        Wrapper::process_recipient(self, message, recipient)
    }

    fn message_accepted(&self, message: Message) {
        Wrapper::message_accepted(self, message);
    }
    fn session_log(&self, session: &SessionInfo) -> Option<Box<dyn SessionLog>> {
        Wrapper::session_log(self, session)
    }
    fn on_close(&self, session: &SessionInfo) {
        Wrapper::on_close(self, session);
    }
}

/// A shared handler is the handler.
impl<H: Handler> Wrapper for Arc<H> {
    type Inner = H;
    fn inner(&self) -> &H {
        self
    }
}

/// A session that tells its handler when it ends: the server's drop guard.
/// Dropped with the connection task however that ends (returned, failed,
/// or cancelled at shutdown), so [`Handler::on_close`] runs exactly once.
pub(crate) struct Closing<'h, H: Handler> {
    handler: &'h H,
    session: Session,
}

impl<'h, H: Handler> Closing<'h, H> {
    /// Guards `session`; from here on, `handler` hears of its end.
    pub(crate) fn new(handler: &'h H, session: Session) -> Closing<'h, H> {
        Closing { handler, session }
    }
}

impl<H: Handler> Deref for Closing<'_, H> {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl<H: Handler> DerefMut for Closing<'_, H> {
    fn deref_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}

impl<H: Handler> Drop for Closing<'_, H> {
    fn drop(&mut self) {
        self.handler.on_close(self.session.info());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::protocol::{Config, Envelope};
    use crate::testing::{Script, Scripted};
    use crate::SmtpServer;

    /// Records which of its hooks were reached.
    #[derive(Default)]
    struct Inner {
        processed: AtomicUsize,
        recipients: Mutex<Vec<String>>,
        closed: Mutex<Vec<u64>>,
    }

    impl Handler for Inner {
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

    fn lmtp_session() -> Session {
        let config = Config {
            lmtp: true,
            ..Config::default()
        };
        Session::new(Arc::new(config), 7, "127.0.0.1:40000".parse().unwrap())
    }

    fn message(session: &Session) -> Message {
        Message {
            session: session.info().clone(),
            envelope: Envelope {
                mail_from: "ann@example.com".into(),
                rcpt_to: vec!["bob@example.com".into(), "full@example.com".into()],
                ..Envelope::default()
            },
            data: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
            unstuffed_dot_lines: 0,
        }
    }

    #[tokio::test]
    async fn scripted_reaches_every_hook_of_the_handler_it_wraps() {
        let scripted = Scripted {
            inner: Inner::default(),
            script: Arc::new(Script::default()),
        };
        let session = lmtp_session();
        let message = message(&session);

        // Called directly, as a routing proxy without a session does.
        assert_eq!(Handler::process_message(&scripted, &message).await, None);
        assert_eq!(
            Handler::process_recipient(&scripted, &message, "full@example.com").await,
            Some(Reply::new(452, "4.2.2 Mailbox full"))
        );
        assert_eq!(scripted.inner.processed.load(Ordering::SeqCst), 1);

        // Asked as the server asks: the inner handler's default on_message
        // asks both.
        let question = Question::Message(Box::new(message.clone()));
        let decision = Handler::decide(&scripted, &session, &question).await;
        assert_eq!(
            decision,
            Decision::PerRecipient(vec![
                crate::protocol::replies::ok(),
                Reply::new(452, "4.2.2 Mailbox full")
            ])
        );
        assert_eq!(scripted.inner.processed.load(Ordering::SeqCst), 2);
        assert_eq!(
            *scripted.inner.recipients.lock().unwrap(),
            ["full@example.com", "bob@example.com", "full@example.com"]
        );

        Handler::on_close(&scripted, session.info());
        assert_eq!(*scripted.inner.closed.lock().unwrap(), [7]);
    }

    /// Refuses the null sender, and nothing else of its own.
    struct NoBounces(Arc<Inner>);

    impl Wrapper for NoBounces {
        type Inner = Arc<Inner>;
        fn inner(&self) -> &Arc<Inner> {
            &self.0
        }
        async fn decide(&self, session: &Session, question: &Question) -> Decision {
            match question {
                Question::Mail { address, .. } if address == "<>" => {
                    Decision::Reply(Reply::new(550, "5.7.1 No bounces"))
                }
                _ => Handler::decide(&self.0, session, question).await,
            }
        }
    }

    #[tokio::test]
    async fn a_wrappers_hooks_called_directly_go_through_its_decide() {
        let inner = Arc::new(Inner::default());
        let wrapper = NoBounces(Arc::clone(&inner));
        let session = lmtp_session();
        assert_eq!(
            wrapper.on_mail_from(&session, "<>", &[]).await,
            Decision::Reply(Reply::new(550, "5.7.1 No bounces"))
        );
        assert_eq!(
            wrapper.on_mail_from(&session, "ann@example.com", &[]).await,
            Decision::Proceed
        );
        // Through the wrapper and the Arc, the lifecycle reaches `Inner`.
        Handler::on_close(&wrapper, session.info());
        assert_eq!(*inner.closed.lock().unwrap(), [7]);
    }

    /// Never answers DATA; counts the sessions that ended.
    #[derive(Default)]
    struct StuckAtData {
        at_data: AtomicBool,
        closed: Mutex<Vec<u64>>,
    }

    impl Handler for StuckAtData {
        async fn on_data(&self, _session: &Session) -> Decision {
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
        let config = Config {
            shutdown_grace: Duration::from_millis(50),
            ..Config::default()
        };
        let server = SmtpServer::new(config, StuckAtData::default()).unwrap();
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
        for _ in 0..500 {
            if handler.at_data.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            handler.at_data.load(Ordering::SeqCst),
            "the session is in on_data"
        );

        stop.send(()).unwrap();
        running.await.unwrap().unwrap();
        let mut closed = handler.closed.lock().unwrap().clone();
        closed.sort_unstable();
        assert_eq!(closed.len(), 2, "{closed:?}");
        assert_ne!(closed[0], closed[1], "each session once: {closed:?}");
    }
}
