//! Decoding the DATA section: the CRLF.CRLF terminator, dot-unstuffing and
//! size accounting, correct for any chunking of the input.
//!
//! Only `<CRLF>.<CRLF>` ends the data. A bare LF or CR followed by a dot
//! (`<LF>.<CRLF>`, `<LF>.<LF>`, `<CR>.<CR>`) is message content, so a client
//! cannot smuggle a second message past a server that reads line endings
//! more loosely than the next hop.

use std::sync::LazyLock;

use memchr::memmem;

/// Built once: `memmem::find` would build a searcher for every call, and a
/// large message is scanned in thousands of reads.
static LINE_THEN_DOT: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b"\r\n."));

/// Reads one message body out of a byte stream.
#[derive(Debug)]
pub struct DataDecoder {
    /// The decoded message; with [`DataDecoder::buffer`], followed by bytes
    /// received but not decoded yet (from `decoded` on).
    message: Vec<u8>,
    decoded: usize,
    limit: usize,
    overflow: bool,
    scan: Scanner,
}

/// Where the scan of the DATA stream is; the same for both ways of feeding
/// it ([`DataDecoder::feed`] and [`DataDecoder::decode_appended`]).
#[derive(Debug)]
struct Scanner {
    at_line_start: bool,
    /// Bytes as sent (dots still stuffed), the terminator's `.CRLF` not
    /// counted: the reference's measure of size.
    raw_len: u64,
    unstuffed_dot_lines: usize,
}

/// The next piece of the stream, as [`Scanner::next`] sees it.
enum Piece {
    /// Nothing can be decided before more input arrives.
    Wait,
    /// The terminator's `.CRLF` (three bytes) at the start of a line.
    End,
    /// Drop `skip` bytes (a stuffed dot), then keep `keep` bytes of content;
    /// `more`: the bytes after them can be scanned at once.
    Content { skip: usize, keep: usize, more: bool },
}

impl Scanner {
    fn next(&mut self, rest: &[u8]) -> Piece {
        let mut skip = 0;
        if self.at_line_start {
            match rest {
                [] | [b'.'] | [b'.', b'\r'] => return Piece::Wait,
                [b'.', b'\r', b'\n', ..] => return Piece::End,
                [b'.', next, ..] => {
                    // A stuffed dot: counted as sent, not kept. A client
                    // that doubles its leading dots sends "..": a single
                    // dot before anything else means one was lost.
                    if *next != b'.' {
                        self.unstuffed_dot_lines += 1;
                    }
                    skip = 1;
                }
                _ => {}
            }
            self.at_line_start = false;
        }
        let content = &rest[skip..];
        let (keep, more) = match LINE_THEN_DOT.find(content) {
            Some(index) => {
                self.at_line_start = true;
                (index + 2, true)
            }
            None if content.ends_with(b"\r\n") => {
                self.at_line_start = true;
                (content.len(), false)
            }
            // A CR at the end may start the terminator: wait for what follows.
            None if content.ends_with(b"\r") => (content.len() - 1, false),
            None => (content.len(), false),
        };
        self.raw_len += (skip + keep) as u64;
        Piece::Content { skip, keep, more }
    }
}
/// What a finished DATA section yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message, dot-unstuffed, CRLF line endings as sent.
    Message(Vec<u8>),
    /// The message was larger than the limit; its bytes were dropped.
    TooLarge,
}

/// The most buffer an oversized message being dropped may hold on to.
const MAX_OVERFLOW_CAPACITY: usize = 4 * 1024 * 1024;

impl DataDecoder {
    /// A decoder for a message of at most `limit` bytes (`0`: no limit).
    ///
    /// The buffer grows with what arrives: a client's SIZE parameter is only
    /// its word, and reserving on it let 31 idle sessions claim 2 GiB.
    pub fn new(limit: usize) -> DataDecoder {
        DataDecoder {
            message: Vec::new(),
            decoded: 0,
            limit,
            overflow: false,
            scan: Scanner {
                at_line_start: true,
                raw_len: 0,
                unstuffed_dot_lines: 0,
            },
        }
    }

    /// Feeds the next bytes. Returns how many were used and whether the
    /// terminator was reached; bytes after it are not used. Fewer than four
    /// unused bytes may remain when they might start the terminator: feed
    /// them again followed by more input.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        if self.decoded < self.message.len() {
            return self.feed_after_held_bytes(input);
        }
        let mut pos = 0;
        loop {
            match self.scan.next(&input[pos..]) {
                Piece::Wait => return (pos, false),
                Piece::End => return (pos + 3, true),
                Piece::Content { skip, keep, more } => {
                    pos += skip;
                    self.keep(&input[pos..pos + keep]);
                    pos += keep;
                    if !more {
                        return (pos, false);
                    }
                }
            }
        }
    }

    /// [`DataDecoder::decode_appended`] held back bytes that may start the
    /// terminator (a CR at the end of a read): they come before `input`, so
    /// `input` is decoded behind them, in the buffer. Marking them decoded
    /// instead would miss a terminator split after the CR.
    fn feed_after_held_bytes(&mut self, input: &[u8]) -> (usize, bool) {
        self.message.extend_from_slice(input);
        match self.decode_appended() {
            // What follows the terminator came from `input`: the held bytes
            // could not end the message on their own.
            Some(rest) => (input.len() - rest.len(), true),
            None => (input.len(), false),
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        // The CRLF before the terminator is kept but not counted, hence + 2.
        if self.limit > 0 && self.message.len() + bytes.len() > self.limit.saturating_add(2) {
            self.overflow = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
        self.decoded = self.message.len();
    }

    /// The buffer to read the message's next bytes into, with room for at
    /// least `room` more: received bytes land in the message itself instead
    /// of passing through an input buffer first (a large message is then
    /// copied once, by the kernel). Append to it, then call
    /// [`DataDecoder::decode_appended`]. Do not mix with [`DataDecoder::feed`]
    /// while appended bytes wait to be decoded.
    pub fn buffer(&mut self, room: usize) -> &mut Vec<u8> {
        self.message.reserve(room);
        &mut self.message
    }

    /// Decodes, in place, the bytes appended to [`DataDecoder::buffer`]:
    /// removes stuffed dots, finds the terminator. `Some(rest)` when the
    /// terminator was reached, with the bytes that followed it (the next
    /// commands); `None` when more of the message is to come.
    pub fn decode_appended(&mut self) -> Option<Vec<u8>> {
        let mut read = self.decoded;
        let mut write = self.decoded;
        let end = self.message.len();
        let mut done = false;
        loop {
            match self.scan.next(&self.message[read..end]) {
                Piece::Wait => break,
                Piece::End => {
                    read += 3;
                    done = true;
                    break;
                }
                Piece::Content { skip, keep, more } => {
                    read += skip;
                    write = self.keep_in_place(read, keep, write);
                    read += keep;
                    if !more {
                        break;
                    }
                }
            }
        }
        // What is left (bytes that may start the terminator, or what came
        // after it) moves to the end of the decoded bytes.
        self.message.copy_within(read..end, write);
        self.message.truncate(write + (end - read));
        self.decoded = write;
        if self.overflow && self.message.capacity() > MAX_OVERFLOW_CAPACITY {
            // Dropping an oversized message as it comes: keep memory bounded.
            self.message = self.message.split_off(write);
            self.decoded = 0;
        }
        done.then(|| self.message.split_off(self.decoded))
    }

    /// Keeps `len` received bytes at `from` as message content, moved down
    /// to `write` when stuffed dots were removed before them. Returns the
    /// new end of the decoded bytes.
    fn keep_in_place(&mut self, from: usize, len: usize, write: usize) -> usize {
        if self.overflow {
            return write;
        }
        if self.limit > 0 && write + len > self.limit.saturating_add(2) {
            self.overflow = true;
            return 0;
        }
        if write != from {
            self.message.copy_within(from..from + len, write);
        }
        write + len
    }

    /// The size so far by the reference's measure: bytes as sent, without
    /// the CRLF that starts the terminator.
    pub fn size(&self) -> u64 {
        self.scan.raw_len.saturating_sub(2)
    }

    /// Lines that began with a single dot followed by something else: the
    /// client did not double a leading dot (RFC 5321, 4.5.2), so the dot was
    /// removed as if it had.
    pub fn unstuffed_dot_lines(&self) -> usize {
        self.scan.unstuffed_dot_lines
    }

    /// Ends the section (after `feed` reported the terminator).
    pub fn finish(mut self) -> DataOutcome {
        let too_large = self.limit > 0 && self.size() > self.limit as u64;
        if self.overflow || too_large {
            return DataOutcome::TooLarge;
        }
        self.message.truncate(self.decoded);
        // Reading in place reserves ahead; a kept message should not hold
        // on to much more memory than it needs.
        if self.message.capacity() - self.message.len() > self.message.len() / 8 + 4096 {
            self.message.shrink_to_fit();
        }
        DataOutcome::Message(self.message)
    }
}

#[cfg(test)]
mod tests;

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn data_decoder() {
        use crate::protocol::data::{DataDecoder, DataOutcome};
        let mut decoder = DataDecoder::new(0);
        let input = b"Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
        let (consumed, done) = decoder.feed(input);
        assert!(done);
        assert_eq!(&input[consumed..], b"QUIT\r\n");
        assert_eq!(
            decoder.finish(),
            DataOutcome::Message(b"Subject: hi\r\n\r\n.dot\r\n".to_vec())
        );
    }

    #[test]
    fn buffer() {
        use crate::protocol::data::{DataDecoder, DataOutcome};
        let mut decoder = DataDecoder::new(0);
        decoder.buffer(64).extend_from_slice(b"line\r\n..dot\r\n.");
        assert_eq!(decoder.decode_appended(), None); // "." may start the end
        decoder.buffer(64).extend_from_slice(b"\r\nQUIT\r\n");
        assert_eq!(decoder.decode_appended(), Some(b"QUIT\r\n".to_vec()));
        assert_eq!(
            decoder.finish(),
            DataOutcome::Message(b"line\r\n.dot\r\n".to_vec())
        );
    }
}
