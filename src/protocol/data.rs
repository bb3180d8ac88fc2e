//! Decoding the DATA section: the CRLF.CRLF terminator, dot-unstuffing and
//! size accounting, correct for any chunking of the input.
//!
//! Only `<CRLF>.<CRLF>` ends the data. A bare LF or CR followed by a dot
//! (`<LF>.<CRLF>`, `<LF>.<LF>`, `<CR>.<CR>`) is message content, so a client
//! cannot smuggle a second message past a server that reads line endings
//! more loosely than the next hop.

use memchr::memmem;

/// Reads one message body out of a byte stream.
///
/// ```
/// use smtp_fixture::protocol::data::{DataDecoder, DataOutcome};
/// let mut decoder = DataDecoder::new(0, None);
/// let input = b"Subject: hi\r\n\r\n..dot\r\n.\r\nQUIT\r\n";
/// let (consumed, done) = decoder.feed(input);
/// assert!(done);
/// assert_eq!(&input[consumed..], b"QUIT\r\n");
/// assert_eq!(decoder.finish(), DataOutcome::Message(b"Subject: hi\r\n\r\n.dot\r\n".to_vec()));
/// ```
#[derive(Debug)]
pub struct DataDecoder {
    message: Vec<u8>,
    limit: usize,
    /// Bytes as sent (dots still stuffed), the terminator's `.CRLF` not
    /// counted: the reference's measure of size.
    raw_len: u64,
    overflow: bool,
    at_line_start: bool,
    unstuffed_dot_lines: usize,
}
/// What a finished DATA section yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message, dot-unstuffed, CRLF line endings as sent.
    Message(Vec<u8>),
    /// The message was larger than the limit; its bytes were dropped.
    TooLarge,
}

/// How many bytes to reserve up front at most, whatever SIZE claims.
const MAX_RESERVE: usize = 64 * 1024 * 1024;

impl DataDecoder {
    /// A decoder for a message of at most `limit` bytes (`0`: no limit);
    /// `declared_size` is the SIZE parameter, used to size the buffer.
    pub fn new(limit: usize, declared_size: Option<u64>) -> DataDecoder {
        let mut reserve = declared_size.map_or(0, |s| usize::try_from(s).unwrap_or(usize::MAX));
        if limit > 0 {
            reserve = reserve.min(limit + 2);
        }
        DataDecoder {
            message: Vec::with_capacity(reserve.min(MAX_RESERVE)),
            limit,
            raw_len: 0,
            overflow: false,
            at_line_start: true,
            unstuffed_dot_lines: 0,
        }
    }

    /// Feeds the next bytes. Returns how many were used and whether the
    /// terminator was reached; bytes after it are not used. Fewer than four
    /// unused bytes may remain when they might start the terminator: feed
    /// them again followed by more input.
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        let mut pos = 0;
        loop {
            if self.at_line_start {
                let rest = &input[pos..];
                match rest {
                    [] | [b'.'] | [b'.', b'\r'] => return (pos, false),
                    [b'.', b'\r', b'\n', ..] => return (pos + 3, true),
                    [b'.', next, ..] => {
                        // A stuffed dot: counted as sent, not kept. A client
                        // that doubles its leading dots sends "..": a
                        // single dot before anything else means one was lost.
                        if *next != b'.' {
                            self.unstuffed_dot_lines += 1;
                        }
                        self.raw_len += 1;
                        pos += 1;
                    }
                    _ => {}
                }
                self.at_line_start = false;
            }
            let rest = &input[pos..];
            match memmem::find(rest, b"\r\n.") {
                Some(index) => {
                    self.keep(&rest[..index + 2]);
                    pos += index + 2;
                    self.at_line_start = true;
                }
                None => {
                    let keep = if rest.ends_with(b"\r\n") {
                        self.at_line_start = true;
                        rest.len()
                    } else if rest.ends_with(b"\r") {
                        rest.len() - 1
                    } else {
                        rest.len()
                    };
                    self.keep(&rest[..keep]);
                    return (pos + keep, false);
                }
            }
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        self.raw_len += bytes.len() as u64;
        if self.overflow {
            return;
        }
        // The CRLF before the terminator is kept but not counted, hence + 2.
        if self.limit > 0 && self.message.len() + bytes.len() > self.limit + 2 {
            self.overflow = true;
            self.message = Vec::new();
        } else {
            self.message.extend_from_slice(bytes);
        }
    }

    /// The size so far by the reference's measure: bytes as sent, without
    /// the CRLF that starts the terminator.
    pub fn size(&self) -> u64 {
        self.raw_len.saturating_sub(2)
    }

    /// Lines that began with a single dot followed by something else: the
    /// client did not double a leading dot (RFC 5321, 4.5.2), so the dot was
    /// removed as if it had.
    pub fn unstuffed_dot_lines(&self) -> usize {
        self.unstuffed_dot_lines
    }

    /// Ends the section (after `feed` reported the terminator).
    pub fn finish(self) -> DataOutcome {
        let too_large = self.limit > 0 && self.size() > self.limit as u64;
        if self.overflow || too_large {
            DataOutcome::TooLarge
        } else {
            DataOutcome::Message(self.message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in pieces of `chunk` bytes, carrying unused bytes over
    /// as a server does.
    fn decode(input: &[u8], chunk: usize, limit: usize) -> (DataOutcome, Vec<u8>) {
        let mut decoder = DataDecoder::new(limit, None);
        let mut pending: Vec<u8> = Vec::new();
        let mut chunks = input.chunks(chunk.max(1));
        loop {
            let (used, done) = decoder.feed(&pending);
            pending.drain(..used);
            if done {
                let mut rest = pending;
                for c in chunks {
                    rest.extend_from_slice(c);
                }
                return (decoder.finish(), rest);
            }
            match chunks.next() {
                Some(c) => pending.extend_from_slice(c),
                None => panic!("no terminator in {input:?}"),
            }
        }
    }

    #[test]
    fn terminator_transparency_and_smuggling() {
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b".\r\n", b"", b""),
            (b"\r\n.\r\n", b"\r\n", b""),
            (b"data\r\nmore\r\n.\r\nNOOP\r\n", b"data\r\nmore\r\n", b"NOOP\r\n"),
            (b"..\r\n.\r\n", b".\r\n", b""),
            (b"...\r\n..x\r\n.\r\n", b"..\r\n.x\r\n", b""),
            (b"a\n.\r\nb\r\n.\r\n", b"a\n.\r\nb\r\n", b""),
            (b"a\r.\rb\r\n.\r\n", b"a\r.\rb\r\n", b""),
            (b"a\n.\nb\r\n.\r\n", b"a\n.\nb\r\n", b""),
            (b"a\r\n.\nb\r\n.\r\n", b"a\r\n\nb\r\n", b""),
            (b"a\r\n.x\r\n.\r\n", b"a\r\nx\r\n", b""),
            (b"x\r\n.\r\n.\r\n", b"x\r\n", b".\r\n"),
            (b"\xc5\xbc\r\n.\r\n", b"\xc5\xbc\r\n", b""),
        ];
        for (input, message, rest) in cases {
            for chunk in 1..=input.len() {
                let (outcome, left) = decode(input, chunk, 0);
                assert_eq!(
                    outcome,
                    DataOutcome::Message(message.to_vec()),
                    "{input:?} by {chunk}"
                );
                assert_eq!(left, rest.to_vec(), "{input:?} by {chunk}");
            }
        }
    }

    #[test]
    fn size_limit_counts_as_the_reference_does() {
        // 32 bytes exactly is accepted, 33 is not; stuffed dots count.
        let exact = [b"a".repeat(32).as_slice(), b"\r\n.\r\n"].concat();
        assert!(matches!(decode(&exact, 7, 32).0, DataOutcome::Message(m) if m.len() == 34));
        let over = [b"a".repeat(33).as_slice(), b"\r\n.\r\n"].concat();
        assert_eq!(decode(&over, 7, 32).0, DataOutcome::TooLarge);
        let stuffed = [b"..".as_slice(), &b"a".repeat(31), b"\r\n.\r\n"].concat();
        assert_eq!(decode(&stuffed, 5, 32).0, DataOutcome::TooLarge);
    }

    #[test]
    fn oversized_data_is_dropped_as_it_arrives() {
        let mut decoder = DataDecoder::new(1024, None);
        let block = b"x".repeat(4096);
        for _ in 0..100 {
            let (used, done) = decoder.feed(&block);
            assert_eq!((used, done), (block.len(), false));
            assert!(decoder.message.capacity() <= 1024 + 2 + 4096);
        }
        assert_eq!(decoder.feed(b"\r\n.\r\n"), (5, true));
        assert_eq!(decoder.finish(), DataOutcome::TooLarge);
    }
}
