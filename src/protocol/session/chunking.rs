//! BDAT (RFC 3030): reading chunks into the open transaction's message.
//!
//! Every chunk announced by a BDAT line is read, also one that does not
//! add to the message (no transaction, a size past the limit, bad syntax
//! after the size, a handler's own answer to the line, a session that
//! serves only QUIT): its answer goes out once its bytes are gone, so the
//! next command is read from where the client sent it.

use super::{Phase, Progress, Session, Step};
use crate::protocol::chunking::{Bdat, BdatError, ChunkedBody};
use crate::protocol::command::{Command, Verb};
use crate::protocol::reply::{replies, Reply};

/// A chunk being read.
#[derive(Debug)]
pub(super) struct ChunkRead {
    size: u64,
    remaining: u64,
    last: bool,
    /// For a chunk that does not add to the message: what goes out once
    /// its bytes are dropped.
    dropped: Option<AfterDrop>,
    /// Where the bytes of a dropped chunk are read into (emptied whenever
    /// they are accounted for).
    scratch: Vec<u8>,
}

/// What answers a BDAT line whose chunk is dropped, once it is read.
#[derive(Debug)]
pub(super) enum AfterDrop {
    /// The server refuses it (counted towards the session's limit of
    /// invalid commands).
    Refuse(Reply),
    /// The handler's answer to the line, as it gave it: a reply or raw
    /// bytes.
    Handler(Step),
}

impl Session {
    pub(super) fn bdat(&mut self, arg: Option<&str>) -> Step {
        if !self.config.chunking {
            return self.refuse(replies::unknown_command(Verb::Bdat.name()));
        }
        match Bdat::parse(arg) {
            Ok(bdat) => {
                let refusal = self.bdat_refusal().map(AfterDrop::Refuse);
                self.read_chunk(bdat, refusal)
            }
            Err(BdatError::NoSize) => self.syntax_error(Verb::Bdat),
            Err(BdatError::Syntax { size }) => {
                let usage = Verb::Bdat.usage(self.info.extended).unwrap_or_default();
                let refusal = AfterDrop::Refuse(replies::syntax(&usage));
                self.read_chunk(Bdat { size, last: false }, Some(refusal))
            }
        }
    }

    /// Answers `command` without carrying it out. When it is a BDAT line
    /// that announces a chunk (valid or not, see [`Bdat::announced_size`]),
    /// the chunk is read and dropped first and `answer` goes out at its
    /// end; any other line gets `answer` now. Without CHUNKING, BDAT is an
    /// unknown command and what follows it is commands.
    pub(super) fn answer_without_chunk(&mut self, command: &Command, answer: AfterDrop) -> Step {
        let announced = (command.verb() == Some(Verb::Bdat) && self.config.chunking)
            .then(|| Bdat::announced_size(command.arg()))
            .flatten();
        match (announced, answer) {
            (Some(size), answer) => self.read_chunk(Bdat { size, last: false }, Some(answer)),
            (None, AfterDrop::Refuse(reply)) => self.refuse(reply),
            (None, AfterDrop::Handler(step)) => step,
        }
    }

    /// Why a well-formed BDAT cannot add to a message now, if it cannot.
    fn bdat_refusal(&self) -> Option<Reply> {
        if self.info.helo.is_empty() {
            return Some(replies::need_helo());
        }
        match self.envelope() {
            None => Some(replies::need_mail()),
            Some(envelope) if envelope.rcpt_to.is_empty() => Some(replies::need_rcpt()),
            Some(_) => None,
        }
    }

    /// Starts reading a chunk of `bdat.size` bytes, kept for the message
    /// unless it is `dropped` (then that answers it at its end).
    fn read_chunk(&mut self, bdat: Bdat, dropped: Option<AfterDrop>) -> Step {
        if dropped.is_none() {
            let limit = self.config.data_size_limit;
            if let Some(transaction) = &mut self.transaction {
                transaction.body.get_or_insert_with(|| ChunkedBody::new(limit));
            }
        }
        self.phase = Phase::Chunk(ChunkRead {
            size: bdat.size,
            remaining: bdat.size,
            last: bdat.last,
            dropped,
            scratch: Vec::new(),
        });
        if bdat.size == 0 {
            self.end_chunk()
        } else {
            Step::Continue
        }
    }

    /// Takes up to the rest of the chunk from `input`.
    pub(super) fn receive_chunk(&mut self, input: &[u8]) -> Progress {
        let Phase::Chunk(chunk) = &mut self.phase else {
            return Progress { used: 0, step: None };
        };
        let used = usize::try_from(chunk.remaining).map_or(input.len(), |left| left.min(input.len()));
        if chunk.dropped.is_none() {
            if let Some(body) = self.transaction.as_mut().and_then(|t| t.body.as_mut()) {
                body.append(&input[..used]);
            }
        }
        chunk.remaining -= used as u64;
        let step = (chunk.remaining == 0).then(|| self.end_chunk());
        Progress { used, step }
    }

    /// The buffer to read the chunk's next bytes into (see
    /// [`Session::data_buffer`]).
    pub(super) fn chunk_buffer(&mut self, room: usize) -> Option<&mut Vec<u8>> {
        let Phase::Chunk(chunk) = &mut self.phase else {
            return None;
        };
        let body = self.transaction.as_mut().and_then(|t| t.body.as_mut());
        match body {
            Some(body) if chunk.dropped.is_none() => Some(body.buffer(room)),
            _ => {
                chunk.scratch.reserve(room);
                Some(&mut chunk.scratch)
            }
        }
    }

    /// Accounts for the bytes appended to [`Session::chunk_buffer`]; at the
    /// chunk's end, its step and the bytes that came after it.
    pub(super) fn chunk_appended(&mut self) -> Option<(Step, Vec<u8>)> {
        let Phase::Chunk(chunk) = &mut self.phase else {
            return None;
        };
        let body = self.transaction.as_mut().and_then(|t| t.body.as_mut());
        let (used, rest) = match body {
            Some(body) if chunk.dropped.is_none() => {
                let from = body.accounted();
                let taken = split_appended(body.buffer(0), from, chunk.remaining);
                body.appended();
                taken
            }
            _ => {
                let taken = split_appended(&mut chunk.scratch, 0, chunk.remaining);
                chunk.scratch.clear();
                taken
            }
        };
        chunk.remaining -= used as u64;
        if chunk.remaining > 0 {
            return None;
        }
        Some((self.end_chunk(), rest))
    }

    /// Bytes of the transaction's chunks received so far.
    pub(super) fn chunks_received(&self) -> u64 {
        let body = self.transaction.as_ref().and_then(|t| t.body.as_ref());
        body.map_or(0, ChunkedBody::received)
    }

    /// The chunk is read: refuse it, acknowledge it, or (LAST) complete the
    /// message.
    fn end_chunk(&mut self) -> Step {
        let phase = std::mem::replace(&mut self.phase, Phase::commands());
        let Phase::Chunk(chunk) = phase else {
            return Step::Continue;
        };
        match chunk.dropped {
            Some(AfterDrop::Refuse(reply)) => return self.refuse(reply),
            Some(AfterDrop::Handler(step)) => return step,
            None => {}
        }
        let too_large = self
            .transaction
            .as_ref()
            .and_then(|t| t.body.as_ref())
            .is_some_and(ChunkedBody::too_large);
        if too_large {
            // RFC 3030, 2: a failed BDAT fails the transaction. Its last
            // chunk's reply is the final one: in LMTP one per recipient
            // (RFC 2033, 4.2); an earlier chunk gets one reply.
            self.transaction = None;
            if chunk.last {
                return self.final_refusal(replies::too_much_data());
            }
            return Step::Reply(replies::too_much_data());
        }
        if !chunk.last {
            return Step::Reply(replies::chunk_received(chunk.size));
        }
        let Some(mut transaction) = self.transaction.take() else {
            return Step::Reply(replies::need_mail());
        };
        let data = transaction
            .body
            .take()
            .map(ChunkedBody::into_data)
            .unwrap_or_default();
        self.complete_message(transaction.envelope, data, 0)
    }
}

/// Of the bytes appended to `buffer` after `from`, the chunk's (at most
/// `remaining`) stay; returns how many, and the bytes after them.
fn split_appended(buffer: &mut Vec<u8>, from: usize, remaining: u64) -> (usize, Vec<u8>) {
    let appended = buffer.len() - from;
    let used = usize::try_from(remaining).map_or(appended, |left| left.min(appended));
    (used, buffer.split_off(from + used))
}
