use std::sync::{Arc, Mutex};

use super::*;
use crate::protocol::Config;

/// Counts the sessions that ended.
#[derive(Default)]
struct Inner {
    closed: Mutex<Vec<u64>>,
}

impl Handler for Inner {
    fn on_close(&self, session: &SessionInfo) {
        self.closed.lock().unwrap().push(session.id);
    }
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
    let session = Session::new(Arc::new(Config::default()), 7, "127.0.0.1:40000".parse().unwrap());
    assert_eq!(
        wrapper.on_mail_from(&session, "<>", &[]).await,
        Decision::Reply(Reply::new(550, "5.7.1 No bounces"))
    );
    assert_eq!(
        wrapper.on_mail_from(&session, "ann@example.com", &[]).await,
        Decision::Proceed
    );
    // What the wrapper leaves alone is the inner handler's (through the Arc
    // too): the default refusal of AUTH, the lifecycle.
    let credentials = crate::protocol::auth::Credentials::Plain {
        authzid: String::new(),
        username: "u".into(),
        password: "p".into(),
    };
    assert!(matches!(
        wrapper.on_auth(&session, &credentials).await,
        Decision::Reply(reply) if reply.code() == 535
    ));
    Handler::on_close(&wrapper, session.info());
    assert_eq!(*inner.closed.lock().unwrap(), [7]);
}
