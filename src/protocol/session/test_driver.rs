//! The one driver of the session's unit tests: it feeds input as a
//! connection would (whole, in pieces, or read in place into the message),
//! answers every question with the test's handler closure, and records what
//! the session sent and delivered.

use std::sync::Arc;

use super::{Decision, Question, Session, Step};
use crate::protocol::config::Config;
use crate::protocol::envelope::Message;

/// How the input reaches the session.
#[derive(Debug, Clone, Copy)]
pub(super) enum Feed {
    /// All of it at once.
    Whole,
    /// To [`Session::receive`], this many bytes at a time.
    Pieces(usize),
    /// This many bytes at a time, appended to the session's own buffer
    /// while it reads a message (through `receive` otherwise).
    InPlace(usize),
}

/// What a session answered, after its greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Outcome {
    /// Each reply as text (lines joined by `\n`), raw bytes as sent.
    pub(super) replies: Vec<String>,
    /// The messages delivered, in order.
    pub(super) messages: Vec<Message>,
}

/// Every question answered as a handler that lets everything through.
pub(super) fn proceed(_: &Question) -> Decision {
    Decision::Proceed
}

/// The session's answers to `lines`, CRLF added to each.
pub(super) fn lines_input(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|line| [line.as_bytes(), b"\r\n"].concat())
        .collect()
}

/// Runs a session with `config` over `input`, fed as `feed` says, with
/// `answer` deciding every question.
pub(super) fn run(
    config: &Config,
    input: &[u8],
    feed: Feed,
    answer: &dyn Fn(&Question) -> Decision,
) -> Outcome {
    let mut session = Session::new(Arc::new(config.clone()), 1, "127.0.0.1:2525".parse().unwrap());
    let piece = match feed {
        Feed::Whole => input.len().max(1),
        Feed::Pieces(size) | Feed::InPlace(size) => size.max(1),
    };
    let mut chunks = input.chunks(piece);
    let mut pending: Vec<u8> = Vec::new();
    let mut outcome = Outcome {
        replies: Vec::new(),
        messages: Vec::new(),
    };
    let mut step = Some(session.start());
    // Every round answers a step, uses input or takes a piece: bounded.
    for _ in 0..4 * input.len() + 8 {
        match step.take() {
            Some(Step::Ask) => {
                let question = session.question().expect("Step::Ask comes with a question");
                let decision = answer(question);
                step = Some(session.resolve(decision));
            }
            Some(Step::Fault(_, inner)) => step = Some(*inner),
            Some(Step::Raw(bytes)) => outcome.replies.push(String::from_utf8_lossy(&bytes).into_owned()),
            Some(Step::Reply(reply) | Step::StartTls(reply)) => outcome.replies.push(reply.to_string()),
            Some(Step::Accepted(reply, message)) => {
                outcome.replies.push(reply.to_string());
                outcome.messages.push(*message);
            }
            Some(Step::PerRecipient(replies, message)) => {
                outcome.replies.extend(replies.iter().map(ToString::to_string));
                outcome.messages.extend(message.map(|message| *message));
            }
            Some(Step::Close(reply)) => {
                outcome.replies.extend(reply.map(|reply| reply.to_string()));
                break;
            }
            Some(Step::Continue) | None => {
                let progress = session.receive(&pending);
                pending.drain(..progress.used);
                step = progress.step;
                if step.is_some() || progress.used > 0 {
                    continue;
                }
                let Some(chunk) = chunks.next() else { break };
                match (feed, session.data_buffer(chunk.len())) {
                    (Feed::InPlace(_), Some(buffer)) if pending.is_empty() => {
                        buffer.extend_from_slice(chunk);
                        if let Some((done, rest)) = session.data_appended() {
                            step = Some(done);
                            pending = rest;
                        }
                    }
                    _ => pending.extend_from_slice(chunk),
                }
            }
        }
    }
    outcome.replies.remove(0);
    outcome
}
