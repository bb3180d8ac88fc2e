//! The `proxy_header` target: the PROXY header parser
//! (`protocol::proxy_header`) against a reference written from HAProxy's
//! spec (<https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt>)
//! with the choices `docs/deviations.md` lists (v2 headers of at most
//! 4 096 bytes, IPv6 groups of 1-4 digits with a dotted IPv4 tail, a
//! family/protocol pair outside the spec's list read as UNKNOWN, TLVs that
//! must fit and a CRC32C TLV that must match).
//!
//! Oracles: for every prefix the reads deliver (every prefix of a short
//! input), the parser and the reference agree on "need more", "a header
//! of this length naming these addresses" or "never a header"; a header,
//! once complete, stays the same header and a malformed prefix stays
//! malformed for the same reason, so any split of the header across reads
//! consumes exactly the header.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use smtp_fixture::fuzzing::{ProxiedAddresses, ProxyHeader, ProxyParsed, V2_SIGNATURE};

/// The reference's answer for the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    NeedMore,
    Header {
        version: u8,
        length: usize,
        addresses: Addresses,
    },
    Invalid,
}

/// What a header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addresses {
    Tcp(SocketAddr, SocketAddr),
    Local,
    Unknown,
}

const V1_LONGEST: usize = 107;
const V2_LONGEST: usize = 4096;
const TLV_CRC32C: u8 = 0x03;

/// Judges `bytes`, every byte of the connection so far.
pub fn judge(bytes: &[u8]) -> Judgement {
    match bytes.first() {
        None => Judgement::NeedMore,
        Some(b'P') => v1(bytes),
        Some(b'\r') => v2(bytes),
        Some(_) => Judgement::Invalid,
    }
}

fn v1(bytes: &[u8]) -> Judgement {
    let prefix = b"PROXY ";
    let n = bytes.len().min(prefix.len());
    if bytes[..n] != prefix[..n] {
        return Judgement::Invalid;
    }
    // The line ends at the first CR or LF, which must be a CRLF, within
    // 107 bytes counting the CRLF.
    let mut end = None;
    for (i, &byte) in bytes.iter().enumerate().take(V1_LONGEST) {
        match byte {
            b'\n' => return Judgement::Invalid,
            b'\r' => match bytes.get(i + 1) {
                Some(b'\n') if i + 2 <= V1_LONGEST => {
                    end = Some(i);
                    break;
                }
                Some(_) => return Judgement::Invalid,
                None if i + 2 <= V1_LONGEST => return Judgement::NeedMore,
                None => return Judgement::Invalid,
            },
            _ => {}
        }
    }
    let Some(end) = end else {
        return if bytes.len() >= V1_LONGEST {
            Judgement::Invalid
        } else {
            Judgement::NeedMore
        };
    };
    if end < prefix.len() {
        return Judgement::Invalid;
    }
    let line = &bytes[prefix.len()..end];
    let header = |addresses| Judgement::Header {
        version: 1,
        length: end + 2,
        addresses,
    };
    // "UNKNOWN": the receiver ignores the rest of the line.
    if line == b"UNKNOWN" || line.starts_with(b"UNKNOWN ") {
        return header(Addresses::Unknown);
    }
    let Ok(line) = std::str::from_utf8(line) else {
        return Judgement::Invalid;
    };
    let fields: Vec<&str> = line.split(' ').collect();
    let [protocol, source, destination, source_port, destination_port] = fields[..] else {
        return Judgement::Invalid;
    };
    let address = |text: &str| match protocol {
        "TCP4" => dotted_quad(text).map(IpAddr::V4),
        "TCP6" => ipv6(text).map(IpAddr::V6),
        _ => None,
    };
    let addresses = (|| {
        Some(Addresses::Tcp(
            SocketAddr::new(address(source)?, port(source_port)?),
            SocketAddr::new(address(destination)?, port(destination_port)?),
        ))
    })();
    addresses.map_or(Judgement::Invalid, header)
}

/// A decimal number: digits only, no leading zero (but "0").
fn canonical_number(text: &str, max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if text.len() > 1 && text.starts_with('0') {
        return None;
    }
    let value: u32 = text.parse().ok()?;
    (value <= max).then_some(value)
}

fn port(text: &str) -> Option<u16> {
    canonical_number(text, 65_535).map(|p| p as u16)
}

fn dotted_quad(text: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = text.split('.').collect();
    let [a, b, c, d] = parts[..] else {
        return None;
    };
    let octet = |t: &str| canonical_number(t, 255).map(|v| v as u8);
    Some(Ipv4Addr::new(octet(a)?, octet(b)?, octet(c)?, octet(d)?))
}

/// RFC 4291's text form: eight groups of 1-4 hex digits, or fewer with
/// one `::` standing for at least one zero group; the last two groups may
/// be a dotted quad.
fn ipv6(text: &str) -> Option<Ipv6Addr> {
    let hex_only;
    let text = if text.contains('.') {
        let (head, quad) = text.rsplit_once(':')?;
        let [a, b, c, d] = dotted_quad(quad)?.octets();
        hex_only = format!(
            "{head}:{:x}:{:x}",
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d])
        );
        hex_only.as_str()
    } else {
        text
    };
    let groups = |part: &str| -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|group| {
                let ok = (1..=4).contains(&group.len()) && group.bytes().all(|b| b.is_ascii_hexdigit());
                ok.then(|| u16::from_str_radix(group, 16).ok()).flatten()
            })
            .collect()
    };
    let all: Vec<u16> = match text.split_once("::") {
        None => {
            let all = groups(text)?;
            (all.len() == 8 && !text.is_empty()).then_some(all)?
        }
        Some((head, tail)) => {
            if tail.contains("::") {
                return None;
            }
            let (head, tail) = (groups(head)?, groups(tail)?);
            if head.len() + tail.len() > 7 {
                return None;
            }
            let zeros = vec![0; 8 - head.len() - tail.len()];
            [head, zeros, tail].concat()
        }
    };
    let mut segments = [0u16; 8];
    segments.copy_from_slice(&all);
    Some(Ipv6Addr::from(segments))
}

fn v2(bytes: &[u8]) -> Judgement {
    let n = bytes.len().min(V2_SIGNATURE.len());
    if bytes[..n] != V2_SIGNATURE[..n] {
        return Judgement::Invalid;
    }
    let Some(&version_command) = bytes.get(12) else {
        return Judgement::NeedMore;
    };
    if version_command >> 4 != 2 {
        return Judgement::Invalid;
    }
    let proxy = match version_command & 0x0F {
        0 => false,
        1 => true,
        _ => return Judgement::Invalid,
    };
    let Some(&family) = bytes.get(13) else {
        return Judgement::NeedMore;
    };
    // Address families 0-3 (UNSPEC, INET, INET6, UNIX), transports 0-2
    // (UNSPEC, STREAM, DGRAM); LOCAL ignores the byte.
    if proxy && (family >> 4 > 3 || family & 0x0F > 2) {
        return Judgement::Invalid;
    }
    let Some(length) = bytes.get(14..16) else {
        return Judgement::NeedMore;
    };
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    let total = 16 + length;
    if total > V2_LONGEST {
        return Judgement::Invalid;
    }
    let addresses_length = match family {
        _ if !proxy => None,
        0x11 | 0x12 => Some(12),
        0x21 | 0x22 => Some(36),
        0x31 | 0x32 => Some(216),
        _ => None,
    };
    if addresses_length.is_some_and(|needed| length < needed) {
        return Judgement::Invalid;
    }
    let Some(header) = bytes.get(..total) else {
        return Judgement::NeedMore;
    };
    if let Some(addresses_length) = addresses_length {
        if !tlvs_fit_and_check(header, 16 + addresses_length) {
            return Judgement::Invalid;
        }
    }
    let block = &header[16..];
    let port = |at: usize| u16::from_be_bytes([block[at], block[at + 1]]);
    let addresses = match family {
        _ if !proxy => Addresses::Local,
        0x11 => {
            let ip = |at: usize| {
                IpAddr::V4(Ipv4Addr::new(
                    block[at],
                    block[at + 1],
                    block[at + 2],
                    block[at + 3],
                ))
            };
            Addresses::Tcp(SocketAddr::new(ip(0), port(8)), SocketAddr::new(ip(4), port(10)))
        }
        0x21 => {
            let ip = |at: usize| {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(&block[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(octets))
            };
            Addresses::Tcp(
                SocketAddr::new(ip(0), port(32)),
                SocketAddr::new(ip(16), port(34)),
            )
        }
        _ => Addresses::Unknown,
    };
    Judgement::Header {
        version: 2,
        length: total,
        addresses,
    }
}

/// The TLVs from `start` to the header's end: each type, a two-byte
/// length and that many bytes, within the header; a CRC32C one has 4
/// bytes that match the header's checksum with them zeroed.
fn tlvs_fit_and_check(header: &[u8], start: usize) -> bool {
    let mut at = start;
    while at < header.len() {
        if at + 3 > header.len() {
            return false;
        }
        let length = usize::from(u16::from_be_bytes([header[at + 1], header[at + 2]]));
        let (value, end) = (at + 3, at + 3 + length);
        if end > header.len() {
            return false;
        }
        if header[at] == TLV_CRC32C {
            if length != 4 {
                return false;
            }
            let mut zeroed = header.to_vec();
            zeroed[value..end].fill(0);
            let sent = u32::from_be_bytes([
                header[value],
                header[value + 1],
                header[value + 2],
                header[value + 3],
            ]);
            if crc32c(&zeroed) != sent {
                return false;
            }
        }
        at = end;
    }
    true
}

/// CRC-32C (Castagnoli), table-driven (the crate computes it bit by bit).
pub fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u32;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0x82F6_3B78
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The parser's answer in the reference's terms.
fn parser(bytes: &[u8]) -> (Judgement, ProxyParsed) {
    let parsed = ProxyHeader::parse(bytes);
    let judgement = match parsed {
        ProxyParsed::Incomplete => Judgement::NeedMore,
        ProxyParsed::Malformed(_) => Judgement::Invalid,
        ProxyParsed::Complete(header) => Judgement::Header {
            version: header.version,
            length: header.length,
            addresses: match header.addresses {
                ProxiedAddresses::Tcp { source, destination } => Addresses::Tcp(source, destination),
                ProxiedAddresses::Local => Addresses::Local,
                ProxiedAddresses::Unknown => Addresses::Unknown,
            },
        },
    };
    (judgement, parsed)
}

/// Makes a v2 header's length field (and a CRC32C TLV, if one fits) right
/// for a header that ends `trailing` bytes before the end: valid headers
/// are then reachable by mutation.
fn fix_up_v2(stream: &mut [u8], trailing: usize) {
    if stream.len() < 16 || stream[..12] != V2_SIGNATURE {
        return;
    }
    let length = (stream.len() - 16).saturating_sub(trailing).min(V2_LONGEST - 16);
    stream[14..16].copy_from_slice(&(length as u16).to_be_bytes());
    let start = 16
        + match stream[13] {
            0x11 | 0x12 => 12,
            0x21 | 0x22 => 36,
            0x31 | 0x32 => 216,
            _ => return,
        };
    let end = 16 + length;
    let mut at = start;
    while at + 3 <= end {
        let tlv_length = usize::from(u16::from_be_bytes([stream[at + 1], stream[at + 2]]));
        if at + 3 + tlv_length > end {
            return;
        }
        if stream[at] == TLV_CRC32C && tlv_length == 4 {
            stream[at + 3..at + 7].fill(0);
            let crc = crc32c(&stream[..end]);
            stream[at + 3..at + 7].copy_from_slice(&crc.to_be_bytes());
            return;
        }
        at += 3 + tlv_length;
    }
}

/// Runs the test case: byte 0 says whether to fix up a v2 header, byte 1
/// the read size (0: one read), byte 2 how many bytes follow the header;
/// the rest is what the connection receives.
pub fn check(data: &[u8]) {
    let [flags, step, trailing, stream @ ..] = data else {
        return;
    };
    let mut stream = stream.to_vec();
    if flags & 1 == 1 {
        fix_up_v2(&mut stream, usize::from(*trailing));
    }
    let ends: Vec<usize> = if stream.len() <= 256 {
        (0..=stream.len()).collect()
    } else {
        let step = usize::from(*step).max(1);
        let mut ends: Vec<usize> = (0..stream.len()).step_by(step).collect();
        ends.push(stream.len());
        ends
    };
    let mut settled: Option<ProxyParsed> = None;
    for end in ends {
        let received = &stream[..end];
        let (got, parsed) = parser(received);
        let expected = judge(received);
        if got != expected {
            panic!(
                "after {end} bytes {:?}: the parser says {parsed:?}, the reference {expected:?}",
                String::from_utf8_lossy(received)
            );
        }
        if let Judgement::Header { length, .. } = got {
            assert!(length <= end, "a header of {length} bytes after only {end}");
        }
        match settled {
            Some(before) => assert_eq!(parsed, before, "the answer changed after {end} bytes"),
            None if got != Judgement::NeedMore => settled = Some(parsed),
            None => {}
        }
    }
}
