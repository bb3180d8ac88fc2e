//! The one way to wrap a handler: [`Wrapper`], and the blanket impl that
//! makes every wrapper a [`Handler`] reaching its inner handler.

use std::future::Future;
use std::sync::Arc;

use super::{Handler, SessionLog};
use crate::protocol::auth::Credentials;
use crate::protocol::{Command, Decision, Message, Question, Reply, Session, SessionInfo};

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
/// use smtp_fixture::Reply;
/// use smtp_fixture::protocol::{Decision, Question, Session};
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
