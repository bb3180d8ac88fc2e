//! A small client for directed checks: sends lines to a `Session` in pieces
//! of a chosen size and collects what the server answered, resolving every
//! question with `Proceed`.

use std::net::SocketAddr;
use std::sync::Arc;

use smtp_fixture::protocol::Config;
use smtp_fixture::protocol::{Decision, Question, Session, Step};
use smtp_fixture::Reply;

use crate::wire::check_reply;

/// What came back for one send.
#[derive(Debug, Default)]
pub struct Answer {
    /// The replies, in order (each checked to be well formed).
    pub replies: Vec<Reply>,
    /// The questions the handler was asked.
    pub questions: Vec<Question>,
}

/// A session after its greeting.
pub struct Conversation {
    session: Session,
    pending: Vec<u8>,
}

impl Conversation {
    /// Connects (the greeting is checked and dropped).
    pub fn new(config: Config) -> Conversation {
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        let mut conversation = Conversation {
            session: Session::new(Arc::new(config), 1, peer),
            pending: Vec::new(),
        };
        let start = conversation.session.start();
        let greeting = conversation.act(start);
        assert_eq!(greeting.replies.first().map(Reply::code), Some(220));
        conversation
    }

    /// Sends `bytes` in pieces of `piece` bytes (as many TCP reads).
    pub fn send(&mut self, bytes: &[u8], piece: usize) -> Answer {
        let mut answer = Answer::default();
        for chunk in bytes.chunks(piece.max(1)) {
            self.pending.extend_from_slice(chunk);
            loop {
                let progress = self.session.receive(&self.pending);
                self.pending.drain(..progress.used);
                let Some(step) = progress.step else { break };
                let more = self.act(step);
                answer.replies.extend(more.replies);
                answer.questions.extend(more.questions);
            }
        }
        answer
    }

    fn act(&mut self, mut step: Step) -> Answer {
        let mut answer = Answer::default();
        loop {
            let reply = match step {
                Step::Ask => {
                    let question = self.session.question().expect("Step::Ask comes with a question");
                    answer.questions.push(question.clone());
                    step = self.session.resolve(Decision::Proceed);
                    continue;
                }
                Step::Reply(reply) | Step::StartTls(reply) | Step::Accepted(reply, _) => Some(reply),
                Step::Close(reply) => reply,
                Step::Raw(_) => None,
                // A link fault only changes how the inner step goes out.
                Step::Fault(_, inner) => {
                    step = *inner;
                    continue;
                }
                other => panic!("a step the fuzz driver does not know: {other:?}"),
            };
            if let Some(reply) = reply {
                if let Err(problem) = check_reply(&reply, usize::MAX) {
                    panic!("{problem}");
                }
                answer.replies.push(reply);
            }
            return answer;
        }
    }
}
