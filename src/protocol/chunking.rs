//! CHUNKING (RFC 3030): the `BDAT size [LAST]` argument and the message
//! gathered from its chunks.
//!
//! A chunk is exactly `size` bytes, sent right after the command line, with
//! no dot-stuffing and no terminator: the message is the chunks
//! concatenated. The server reads every chunk it was announced, even one it
//! refuses, so the next command is found where the client put it.

/// What a `BDAT` command asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bdat {
    /// The chunk's length in bytes.
    pub size: u64,
    /// `LAST`: this chunk ends the message.
    pub last: bool,
}

/// Why a `BDAT` argument is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BdatError {
    /// No chunk size could be read: where the chunk ends is unknown, so the
    /// bytes that follow are read as commands.
    NoSize,
    /// The size was read but something else is wrong (an unknown word after
    /// it): the chunk is read and dropped, then refused.
    Syntax {
        /// The chunk's length, to skip it.
        size: u64,
    },
}

impl Bdat {
    /// Reads `size [LAST]` (the argument after `BDAT`, already trimmed).
    pub fn parse(arg: Option<&str>) -> Result<Bdat, BdatError> {
        let mut words = arg.unwrap_or("").split(' ');
        let size = words.next().unwrap_or("");
        // RFC 3030, 2: chunk-size = 1*DIGIT (no sign, no white space).
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BdatError::NoSize);
        }
        let size: u64 = size.parse().map_err(|_| BdatError::NoSize)?;
        match (words.next(), words.next()) {
            (None, _) => Ok(Bdat { size, last: false }),
            (Some(word), None) if word.eq_ignore_ascii_case("LAST") => Ok(Bdat { size, last: true }),
            _ => Err(BdatError::Syntax { size }),
        }
    }

    /// The length of the chunk that a `BDAT` line with this argument
    /// announces, whether the line is valid or not; `None` when no size can
    /// be read. RFC 3030, 2: those octets follow the line whatever the
    /// reply, so whoever answers the line (the server, a handler, a refusal
    /// of the whole session) must read them, or they run as commands.
    pub fn announced_size(arg: Option<&str>) -> Option<u64> {
        match Bdat::parse(arg) {
            Ok(Bdat { size, .. }) | Err(BdatError::Syntax { size }) => Some(size),
            Err(BdatError::NoSize) => None,
        }
    }
}

/// The message of one transaction, gathered chunk by chunk, bounded by the
/// size limit: once the chunks pass it, their bytes are counted and dropped.
#[derive(Debug, Default)]
pub struct ChunkedBody {
    data: Vec<u8>,
    /// How much of `data` was accounted for: bytes after it were appended
    /// to the buffer and wait for [`ChunkedBody::appended`].
    accounted: usize,
    limit: usize,
    received: u64,
    overflow: bool,
}

/// The most buffer a body being dropped keeps between reads.
const MAX_DROPPED_CAPACITY: usize = 1 << 20;

impl ChunkedBody {
    /// An empty body of at most `limit` bytes (`0`: no limit).
    pub fn new(limit: usize) -> ChunkedBody {
        ChunkedBody {
            limit,
            ..ChunkedBody::default()
        }
    }

    /// Adds chunk bytes.
    pub fn append(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        self.appended();
    }

    /// The buffer to read the next chunk bytes into, with room for at least
    /// `room` more (a large chunk is then copied once, by the kernel).
    /// Append to it, then call [`ChunkedBody::appended`].
    pub fn buffer(&mut self, room: usize) -> &mut Vec<u8> {
        self.data.reserve(room);
        &mut self.data
    }

    /// Accounts for the bytes appended to [`ChunkedBody::buffer`].
    pub fn appended(&mut self) {
        self.received += (self.data.len() - self.accounted) as u64;
        if self.limit > 0 && self.received > self.limit as u64 {
            self.overflow = true;
        }
        if self.overflow {
            self.data.clear();
            if self.data.capacity() > MAX_DROPPED_CAPACITY {
                self.data = Vec::new();
            }
        }
        self.accounted = self.data.len();
    }

    /// The length of the part accounted for; appended bytes come after it.
    pub(crate) fn accounted(&self) -> usize {
        self.accounted
    }

    /// Bytes received in all chunks so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// The chunks passed the size limit (their bytes were dropped).
    pub fn too_large(&self) -> bool {
        self.overflow
    }

    /// The message: every chunk, concatenated.
    pub fn into_data(mut self) -> Vec<u8> {
        if self.data.capacity() - self.data.len() > self.data.len() / 8 + 4096 {
            self.data.shrink_to_fit();
        }
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bdat_arguments() {
        let ok = |size, last| Ok(Bdat { size, last });
        let cases = [
            ("0", ok(0, false)),
            ("0 LAST", ok(0, true)),
            ("007 Last", ok(7, true)),
            ("18446744073709551615", ok(u64::MAX, false)),
            ("18446744073709551616", Err(BdatError::NoSize)),
            ("", Err(BdatError::NoSize)),
            ("LAST", Err(BdatError::NoSize)),
            ("+5", Err(BdatError::NoSize)),
            ("5x", Err(BdatError::NoSize)),
            ("1e3 LAST", Err(BdatError::NoSize)),
            ("5 LAST LAST", Err(BdatError::Syntax { size: 5 })),
            ("5 LASTLY", Err(BdatError::Syntax { size: 5 })),
            ("5  LAST", Err(BdatError::Syntax { size: 5 })),
            ("5\tLAST", Err(BdatError::NoSize)),
        ];
        for (arg, expected) in cases {
            assert_eq!(Bdat::parse(Some(arg)), expected, "BDAT {arg:?}");
        }
        assert_eq!(Bdat::parse(None), Err(BdatError::NoSize));
    }

    #[test]
    fn every_line_with_a_size_announces_a_chunk() {
        let cases = [
            ("34 LAST", Some(34)),
            ("34 LASTX", Some(34)),
            ("34 LAST LAST", Some(34)),
            ("0 NOW", Some(0)),
            ("18446744073709551615 x y z", Some(u64::MAX)),
            ("18446744073709551616 LAST", None),
            ("x34", None),
            ("-1", None),
            ("", None),
        ];
        for (arg, expected) in cases {
            assert_eq!(Bdat::announced_size(Some(arg)), expected, "BDAT {arg:?}");
        }
        assert_eq!(Bdat::announced_size(None), None);
    }

    #[test]
    fn a_body_past_its_limit_keeps_counting_and_holds_nothing() {
        let mut body = ChunkedBody::new(4);
        body.append(b"abcd");
        assert!(!body.too_large());
        body.append(b"e");
        assert!(body.too_large());
        body.buffer(2 << 20).extend_from_slice(&[b'x'; 1000]);
        body.appended();
        assert_eq!(body.received(), 1005);
        assert!(body.buffer(0).capacity() <= MAX_DROPPED_CAPACITY);
        assert_eq!(body.into_data(), b"");
    }

    #[test]
    fn no_limit_keeps_everything_in_order() {
        let mut body = ChunkedBody::new(0);
        for piece in [&b"one "[..], b"", b"two\r\n.", b"\r\n"] {
            body.append(piece);
        }
        assert_eq!(body.into_data(), b"one two\r\n.\r\n");
    }
}

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn parse() {
        use crate::protocol::chunking::{Bdat, BdatError};
        assert_eq!(
            Bdat::parse(Some("100 LAST")),
            Ok(Bdat {
                size: 100,
                last: true
            })
        );
        assert_eq!(Bdat::parse(Some("0 last")), Ok(Bdat { size: 0, last: true }));
        assert_eq!(
            Bdat::parse(Some("12")),
            Ok(Bdat {
                size: 12,
                last: false
            })
        );
        assert_eq!(Bdat::parse(Some("12 FIRST")), Err(BdatError::Syntax { size: 12 }));
        assert_eq!(Bdat::parse(Some("-1")), Err(BdatError::NoSize));
        assert_eq!(Bdat::parse(None), Err(BdatError::NoSize));
    }

    #[test]
    fn chunked_body() {
        use crate::protocol::chunking::ChunkedBody;
        let mut body = ChunkedBody::new(10);
        body.append(b"Subject: ");
        body.append(b"x");
        assert!(!body.too_large());
        body.append(b"\r\n");
        assert!(body.too_large());
        assert_eq!(body.received(), 12);
    }
}
