//! Hands a session log whole lines, however the bytes were chunked: a
//! transcript must show one line per line, each byte once, in the order it
//! crossed the socket.

use crate::handler::SessionLog;

/// The most of one line kept for the log (the rest is counted, not kept):
/// a client that never sends a line end cannot make the log grow.
const LINE_KEPT: usize = 64 * 1024;

/// A [`SessionLog`] behind a line assembler.
pub(super) struct LineLog {
    log: Box<dyn SessionLog>,
    /// The start of a line whose end has not arrived (at most `LINE_KEPT`
    /// bytes of it), its length so far, and whether it is message data.
    partial: Vec<u8>,
    partial_len: usize,
    partial_is_data: bool,
}

impl LineLog {
    pub(super) fn new(log: Box<dyn SessionLog>) -> LineLog {
        LineLog {
            log,
            partial: Vec::new(),
            partial_len: 0,
            partial_is_data: false,
        }
    }

    /// Bytes the session used: command lines, or (`data`) the message after
    /// `354`, its terminator included.
    pub(super) fn received(&mut self, bytes: &[u8], data: bool) {
        let mut rest = bytes;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(end + 1);
            if self.partial_len == 0 && line.len() <= LINE_KEPT {
                // The common case: a whole line in one piece, not copied.
                self.emit(line, line.len(), data);
            } else {
                self.keep(line, data);
                self.end_line();
            }
            rest = after;
        }
        if !rest.is_empty() {
            self.keep(rest, data);
        }
    }

    pub(super) fn sent(&mut self, bytes: &[u8]) {
        self.log.sent(bytes);
    }

    pub(super) fn note(&mut self, text: &str) {
        self.log.note(text);
    }

    fn keep(&mut self, piece: &[u8], data: bool) {
        if self.partial_len == 0 {
            self.partial_is_data = data;
        }
        let room = LINE_KEPT.saturating_sub(self.partial.len());
        self.partial.extend_from_slice(&piece[..piece.len().min(room)]);
        self.partial_len += piece.len();
    }

    /// Ends the line being assembled: the message ended without a line
    /// end (a BDAT chunk need not end in CRLF), and what follows is a
    /// command.
    pub(super) fn end_line(&mut self) {
        if self.partial_len == 0 {
            return;
        }
        let line = std::mem::take(&mut self.partial);
        self.emit(&line, self.partial_len, self.partial_is_data);
        self.partial = line;
        self.partial.clear();
        self.partial_len = 0;
    }

    fn emit(&mut self, line: &[u8], length: usize, data: bool) {
        match (length > line.len(), data) {
            (true, _) => self.log.received_cut(line, length, data),
            (false, true) => self.log.received_data(line),
            (false, false) => self.log.received(line),
        }
    }
}

impl Drop for LineLog {
    /// A session that ended in the middle of a line still shows it.
    fn drop(&mut self) {
        self.end_line();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// What a log was told, one entry per call.
    #[derive(Clone, Default)]
    struct Calls(Arc<Mutex<Vec<String>>>);

    impl SessionLog for Calls {
        fn received(&mut self, line: &[u8]) {
            self.push(format!("C {}", String::from_utf8_lossy(line)));
        }
        fn received_data(&mut self, line: &[u8]) {
            self.push(format!("D {}", String::from_utf8_lossy(line)));
        }
        fn received_cut(&mut self, start: &[u8], length: usize, data: bool) {
            self.push(format!("cut {data} {length} {}", start.len()));
        }
        fn sent(&mut self, bytes: &[u8]) {
            self.push(format!("S {}", String::from_utf8_lossy(bytes)));
        }
        fn note(&mut self, text: &str) {
            self.push(format!("-- {text}"));
        }
    }

    impl Calls {
        fn push(&self, call: String) {
            self.0.lock().unwrap().push(call);
        }
        fn taken(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    #[test]
    fn any_chunking_gives_the_same_whole_lines() {
        let stream: &[u8] = b"EHLO x\r\nMAIL FROM:<a@b>\r\nbody line\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let data = 25..stream.len() - 6; // the body, its terminator included
        let expected = {
            let calls = Calls::default();
            let mut log = LineLog::new(Box::new(calls.clone()));
            log.received(&stream[..data.start], false);
            log.received(&stream[data.clone()], true);
            log.received(&stream[data.end..], false);
            drop(log);
            calls.taken()
        };
        assert_eq!(expected[2], "D body line\r\n");
        assert_eq!(expected.last().map(String::as_str), Some("C QUIT\r\n"));
        for chunk in 1..stream.len() {
            let calls = Calls::default();
            let mut log = LineLog::new(Box::new(calls.clone()));
            let mut at = 0;
            while at < stream.len() {
                // A piece never spans the change of mode, as the session
                // never uses bytes of both kinds in one step.
                let boundary = [data.start, data.end]
                    .into_iter()
                    .find(|&b| b > at)
                    .unwrap_or(stream.len());
                let end = (at + chunk).min(boundary);
                log.received(&stream[at..end], data.contains(&at));
                at = end;
            }
            drop(log);
            assert_eq!(calls.taken(), expected, "in pieces of {chunk}");
        }
    }

    #[test]
    fn an_over_long_line_is_one_cut_entry_and_an_unfinished_one_is_kept() {
        let calls = Calls::default();
        let mut log = LineLog::new(Box::new(calls.clone()));
        let long = vec![b'A'; 100_000];
        for piece in long.chunks(7_000) {
            log.received(piece, false);
        }
        log.received(b"\r\nNOOP\r\nNO", false);
        log.sent(b"500 Error: line too long\r\n");
        drop(log);
        assert_eq!(
            calls.taken(),
            [
                format!("cut false 100002 {LINE_KEPT}"),
                "C NOOP\r\n".to_string(),
                "S 500 Error: line too long\r\n".to_string(),
                "C NO".to_string(),
            ]
        );
    }
}
