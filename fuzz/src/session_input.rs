//! The `session` target's input format.
//!
//! A hand-made format rather than `arbitrary`, so that a reproducer can be
//! written down (see `fuzz/make_seeds.py`) and the client's bytes stay
//! literal for libFuzzer's mutations and dictionary. Every byte string is a
//! valid input; parts cut short take their defaults.
//!
//! ```text
//! config     6 bytes                        see `config()`
//! decisions  1 byte n, then n × 2 bytes     the handler's answers, in turn
//! chunks     1 byte m, then m × 3 bytes     read sizes (u16 LE, 0 = the rest of
//!                                           the segment) and flags (bit 0: read
//!                                           in place, bits 1-7: extra room)
//! stream     the rest                       the client's bytes, where
//!            0xFD                           ends a segment: the client waits for
//!                                           the replies (a read always ends here)
//!            0xFE lo hi b                   byte b, lo + 256 hi times
//! ```

use std::sync::Arc;

use smtp_fixture::fuzzing::DATA_SIZE_DEFAULT;
use smtp_fixture::protocol::Config;
use smtp_fixture::protocol::Decision;
use smtp_fixture::Mechanism;
use smtp_fixture::Reply;

/// Ends a segment of the stream.
pub const SEGMENT_END: u8 = 0xFD;
/// Starts a run of one repeated byte.
pub const REPEAT: u8 = 0xFE;
/// The longest stream a test case expands to: keeps each run fast.
pub const MAX_STREAM: usize = 256 * 1024;

/// One read of the simulated connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Bytes to read; `0`: the rest of the segment.
    pub size: usize,
    /// Read straight into the message (`Session::data_buffer`) when the
    /// session is in DATA and no input is pending, as the connection does
    /// for large messages.
    pub in_place: bool,
    /// Room asked for beyond the bytes read, on an in-place read.
    pub extra_room: usize,
}

/// A decoded test case.
#[derive(Debug, Clone)]
pub struct SessionInput {
    /// The server's configuration (checked by `Config::validate`).
    pub config: Arc<Config>,
    /// The session offers STARTTLS (the driver "runs" the handshake).
    pub starttls: bool,
    /// The handler's answers, used in turn for every question (`Proceed`
    /// when empty).
    pub decisions: Vec<Decision>,
    /// The reads, used in turn (one read per segment when empty).
    pub reads: Vec<Read>,
    /// The client's bytes, in segments.
    pub segments: Vec<Vec<u8>>,
}

/// Reply codes a handler may choose; not 334, so that a 334 on the wire
/// always comes from an AUTH exchange.
const CODES: [u16; 16] = [
    250, 251, 221, 235, 220, 354, 421, 450, 451, 452, 500, 501, 503, 550, 552, 554,
];
/// Texts a handler may choose: none looks like an enhanced status code.
const TEXTS: [&str; 6] = [
    "",
    "custom",
    "line one\nline two",
    "bare\rcr",
    "ünïcödé",
    "x\r\ny\r\n",
];
const RAW: [&[u8]; 4] = [b"", b"250 garbled", b"\r\n", b"999-x\r\n"];

impl SessionInput {
    /// Decodes a test case; `None` when the configuration is one the server
    /// refuses to be built with.
    pub fn parse(data: &[u8]) -> Option<SessionInput> {
        let mut bytes = Bytes(data);
        let config_bytes = bytes.take(6);
        let starttls = config_bytes[0] >> 4 & 1 == 1;
        let config = config(config_bytes);
        config.validate().ok()?;
        let decisions = (0..bytes.byte()).map(|_| decision(bytes.take(2))).collect();
        let reads = (0..bytes.byte()).map(|_| read(bytes.take(3))).collect();
        Some(SessionInput {
            config: Arc::new(config),
            starttls,
            decisions,
            reads,
            segments: segments(bytes.0),
        })
    }

    /// The whole stream, segments joined.
    pub fn stream(&self) -> Vec<u8> {
        self.segments.concat()
    }
}

/// A reader that yields zeros once the input is used up.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let mut taken = self.0[..n.min(self.0.len())].to_vec();
        self.0 = &self.0[taken.len()..];
        taken.resize(n, 0);
        taken
    }

    fn byte(&mut self) -> u8 {
        self.take(1)[0]
    }
}

fn pick<T: Copy>(table: &[T], byte: u8) -> T {
    table[usize::from(byte) % table.len()]
}

/// byte 0: bit 0 smtputf8, 1 decode_data, 2 enhanced status codes,
///         3 require_auth, 4 starttls (offered by the session), 5 require_tls, 6 auth_requires_tls,
///         7 pipelining off
/// byte 1: bits 0-3 AUTH mechanisms (PLAIN, LOGIN, CRAM-MD5, XOAUTH2),
///         bits 4-7 max_invalid_commands
/// byte 2: data_size_limit, byte 3: command_size_limit,
/// byte 4: max_recipients (bit 7: CHUNKING off), byte 5: hostname
fn config(c: Vec<u8>) -> Config {
    let bit = |byte: u8, n: u8| byte >> n & 1 == 1;
    let auth_mechanisms = Mechanism::ALL
        .into_iter()
        .enumerate()
        .filter(|(n, _)| bit(c[1], *n as u8))
        .map(|(_, m)| m)
        .collect();
    // The large values test saturating arithmetic; `validate` may refuse them.
    let size_limits = [
        DATA_SIZE_DEFAULT,
        0,
        1,
        10,
        100,
        1024,
        65_536,
        1 << 20,
        usize::MAX,
        usize::MAX - 1,
        u32::MAX as usize,
        isize::MAX as usize,
    ];
    let command_limits = [
        512,
        513,
        600,
        1000,
        12_288,
        20_000,
        usize::MAX,
        usize::MAX - 35,
        1 << 20,
    ];
    Config {
        hostname: pick(&["localhost", "mx.example.com", "h"], c[5]).to_string(),
        enable_smtputf8: bit(c[0], 0),
        decode_data: bit(c[0], 1),
        enhanced_status_codes: bit(c[0], 2),
        require_auth: bit(c[0], 3),
        require_tls: bit(c[0], 5),
        auth_requires_tls: bit(c[0], 6),
        pipelining: !bit(c[0], 7),
        chunking: !bit(c[4], 7),
        auth_mechanisms,
        max_invalid_commands: pick(&[100, 0, 1, 3, 10], c[1] >> 4),
        data_size_limit: pick(&size_limits, c[2]),
        command_size_limit: pick(&command_limits, c[3]),
        max_recipients: pick(&[1000, 0, 1, 2, 3], c[4]),
        ..Config::default()
    }
}

/// byte 0 % 8: 0-3 Proceed, 4-5 Reply, 6 Disconnect, 7 Raw; byte 1 picks
/// the code and text (or the raw bytes).
fn decision(d: Vec<u8>) -> Decision {
    let reply = || Reply::new(pick(&CODES, d[1]), pick(&TEXTS, d[1] / 16));
    match d[0] % 8 {
        0..=3 => Decision::Proceed,
        4 | 5 => Decision::Reply(reply()),
        6 if d[1].is_multiple_of(2) => Decision::Disconnect(None),
        6 => Decision::Disconnect(Some(reply())),
        _ => Decision::Raw(pick(&RAW, d[1]).to_vec()),
    }
}

fn read(r: Vec<u8>) -> Read {
    Read {
        size: usize::from(u16::from_le_bytes([r[0], r[1]])),
        in_place: r[2] & 1 == 1,
        extra_room: usize::from(r[2] >> 1),
    }
}

fn segments(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut segments = vec![Vec::new()];
    let mut total = 0;
    while let Some((&byte, rest)) = data.split_first() {
        data = rest;
        let current = segments.last_mut().expect("at least one segment");
        match byte {
            SEGMENT_END => segments.push(Vec::new()),
            REPEAT => {
                let run = Bytes(data).take(3);
                data = &data[data.len().min(3)..];
                let count = usize::from(u16::from_le_bytes([run[0], run[1]]));
                let count = count.min(MAX_STREAM - total);
                current.resize(current.len() + count, run[2]);
                total += count;
            }
            _ if total < MAX_STREAM => {
                current.push(byte);
                total += 1;
            }
            _ => {}
        }
    }
    segments
}
