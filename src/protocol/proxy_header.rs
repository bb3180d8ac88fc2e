//! The PROXY protocol header (HAProxy's, versions 1 and 2): the line or
//! block a proxy in front of the server sends before the client's first
//! byte, naming the client it relays.
//!
//! Pure: [`ProxyHeader::parse`] is given the bytes received so far and says
//! whether they hold a whole header (and how long it is), need more, or can
//! never be one. It decides as early as the bytes allow, and a later answer
//! never contradicts an earlier one: a prefix judged malformed stays
//! malformed (with the same reason), so a header split across reads gets
//! the answer it gets in one piece.
//!
//! The rules are those of
//! <https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt>; where
//! this parser is stricter or more tolerant, `docs/deviations.md` says so.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest version 1 line, CRLF included (the spec's worst case,
/// `PROXY UNKNOWN` with two full IPv6 addresses and ports).
pub const V1_MAX_LENGTH: usize = 107;

/// The 12 bytes every version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// The longest version 2 header accepted, its 16 fixed bytes included. The
/// length field allows 65 551; real proxies send well under 1 KiB (the
/// addresses, and TLVs such as a TLS cipher or a unique ID of at most 128
/// bytes), so anything longer is treated as malformed rather than buffered.
pub const V2_MAX_LENGTH: usize = 4096;

/// What the version 1 line starts with.
const V1_PREFIX: &[u8] = b"PROXY ";
/// The fixed part of a version 2 header: signature, version and command,
/// family and protocol, length.
const V2_FIXED: usize = 16;
/// Version 2 commands (the low nibble of byte 13).
const LOCAL: u8 = 0x0;
const PROXY: u8 = 0x1;
/// The version 2 TLV type of a CRC32C checksum of the header.
const TLV_CRC32C: u8 = 0x03;

/// The answer for the bytes received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// A valid start: wait for more bytes.
    Incomplete,
    /// A whole, valid header; the bytes after its
    /// [`length`](ProxyHeader::length) are the client's.
    Complete(ProxyHeader),
    /// Not a PROXY header, and no further bytes can make it one: close the
    /// connection without a reply.
    Malformed(ProxyHeaderError),
}

/// A valid PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyHeader {
    /// The protocol version: 1 (the text line) or 2 (the binary block).
    pub version: u8,
    /// Bytes the header takes, from the first byte of the connection.
    pub length: usize,
    /// What it says about the connection.
    pub addresses: ProxiedAddresses,
}

/// What a PROXY header says about the connection it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxiedAddresses {
    /// The proxy relays a TCP connection from `source` (the client) to
    /// `destination` (the address the client connected to).
    Tcp {
        /// The client.
        source: SocketAddr,
        /// Where the client connected (the proxy's listening address).
        destination: SocketAddr,
    },
    /// Version 2 `LOCAL`: the proxy opened the connection itself (a health
    /// check); the connection's own addresses are the real ones.
    Local,
    /// Version 1 `UNKNOWN`, or version 2 `PROXY` for something other than
    /// TCP over IPv4 or IPv6 (unspecified, UDP, a Unix socket): the sender
    /// speaks the protocol but gives no usable client address, so the
    /// connection's own addresses are used.
    Unknown,
}

/// Why bytes are not a PROXY header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyHeaderError {
    /// Neither `PROXY ` (version 1) nor the version 2 signature.
    NotProxyProtocol,
    /// Version 1: no CRLF within the first 107 bytes.
    LineTooLong,
    /// Version 1: a CR or LF that is not the CRLF ending the line.
    BareLineEnd,
    /// Version 1: the protocol is not `TCP4`, `TCP6` or `UNKNOWN`.
    UnknownProtocol,
    /// Version 1: not exactly source, destination and two ports after
    /// `TCP4` or `TCP6`, each after exactly one space.
    WrongFieldCount,
    /// Version 1: an address that is not the protocol family's canonical
    /// form (four decimal numbers 0-255 without leading zeros for `TCP4`,
    /// an IPv6 address for `TCP6`).
    BadAddress,
    /// Version 1: a port that is not a decimal number 0-65535 without
    /// leading zeros.
    BadPort,
    /// Version 2: the version nibble is not 2.
    UnsupportedVersion(u8),
    /// Version 2: the command is neither `LOCAL` (0) nor `PROXY` (1).
    UnknownCommand(u8),
    /// Version 2 `PROXY`: an address family above 3 or a transport
    /// protocol above 2.
    UnknownFamily(u8),
    /// Version 2: the length field is shorter than the family's addresses.
    AddressesTruncated {
        /// The family and protocol byte.
        family: u8,
        /// The length field.
        length: u16,
    },
    /// Version 2: the header would be longer than [`V2_MAX_LENGTH`].
    TooLong(u16),
    /// Version 2: a TLV after the addresses runs past the header's end (or a
    /// CRC32C TLV is not 4 bytes).
    BadTlv,
    /// Version 2: the CRC32C TLV does not match the header.
    ChecksumMismatch,
}

impl fmt::Display for ProxyHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyHeaderError::NotProxyProtocol => f.write_str("not a PROXY protocol header"),
            ProxyHeaderError::LineTooLong => f.write_str("v1: no CRLF within 107 bytes"),
            ProxyHeaderError::BareLineEnd => f.write_str("v1: a bare CR or LF in the line"),
            ProxyHeaderError::UnknownProtocol => f.write_str("v1: protocol not TCP4, TCP6 or UNKNOWN"),
            ProxyHeaderError::WrongFieldCount => {
                f.write_str("v1: not exactly two addresses and two ports, single-spaced")
            }
            ProxyHeaderError::BadAddress => f.write_str("v1: an address not in canonical form"),
            ProxyHeaderError::BadPort => f.write_str("v1: a port not in 0-65535 without leading zeros"),
            ProxyHeaderError::UnsupportedVersion(v) => write!(f, "v2: unsupported version {v}"),
            ProxyHeaderError::UnknownCommand(c) => write!(f, "v2: unknown command {c:#x}"),
            ProxyHeaderError::UnknownFamily(b) => write!(f, "v2: unknown family/protocol {b:#04x}"),
            ProxyHeaderError::AddressesTruncated { family, length } => {
                write!(
                    f,
                    "v2: length {length} too short for family/protocol {family:#04x}"
                )
            }
            ProxyHeaderError::TooLong(length) => {
                write!(
                    f,
                    "v2: length {length} over the limit of {}",
                    V2_MAX_LENGTH - V2_FIXED
                )
            }
            ProxyHeaderError::BadTlv => f.write_str("v2: a TLV runs past the header"),
            ProxyHeaderError::ChecksumMismatch => f.write_str("v2: CRC32C mismatch"),
        }
    }
}

impl std::error::Error for ProxyHeaderError {}

impl ProxyHeader {
    /// Judges `received`, every byte of the connection so far (and perhaps
    /// some of the client's after the header).
    pub fn parse(received: &[u8]) -> Parsed {
        match received.first() {
            None => Parsed::Incomplete,
            Some(b'P') => parse_v1(received),
            Some(b'\r') => parse_v2(received),
            Some(_) => Parsed::Malformed(ProxyHeaderError::NotProxyProtocol),
        }
    }

    /// The client the proxy relays, if the header names one.
    #[cfg(test)]
    pub fn source(&self) -> Option<SocketAddr> {
        match self.addresses {
            ProxiedAddresses::Tcp { source, .. } => Some(source),
            ProxiedAddresses::Local | ProxiedAddresses::Unknown => None,
        }
    }
}

/// Whether `received` agrees with `expected` as far as both go.
fn starts_like(received: &[u8], expected: &[u8]) -> bool {
    let n = received.len().min(expected.len());
    received[..n] == expected[..n]
}

fn parse_v1(received: &[u8]) -> Parsed {
    use ProxyHeaderError as E;
    if !starts_like(received, V1_PREFIX) {
        return Parsed::Malformed(E::NotProxyProtocol);
    }
    let window = &received[..received.len().min(V1_MAX_LENGTH)];
    let Some(end) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
        return if window.len() == V1_MAX_LENGTH {
            Parsed::Malformed(E::LineTooLong)
        } else {
            Parsed::Incomplete
        };
    };
    match window.get(end..end + 2) {
        Some(b"\r\n") => {}
        // The window ends with the CR: the LF is still to come, or (at the
        // limit) would make the line too long.
        None if window[end] == b'\r' && window.len() < V1_MAX_LENGTH => return Parsed::Incomplete,
        None if window[end] == b'\r' => return Parsed::Malformed(E::LineTooLong),
        _ => return Parsed::Malformed(E::BareLineEnd),
    }
    match v1_fields(&window[V1_PREFIX.len()..end]) {
        Ok(addresses) => Parsed::Complete(ProxyHeader {
            version: 1,
            length: end + 2,
            addresses,
        }),
        Err(error) => Parsed::Malformed(error),
    }
}

/// The line after `PROXY `, CRLF removed.
fn v1_fields(line: &[u8]) -> Result<ProxiedAddresses, ProxyHeaderError> {
    use ProxyHeaderError as E;
    let mut fields = line.split(|&b| b == b' ');
    let protocol = fields.next().unwrap_or_default();
    let ip: fn(&[u8]) -> Option<IpAddr> = match protocol {
        // The sender may add anything before the CRLF; it is ignored.
        b"UNKNOWN" => return Ok(ProxiedAddresses::Unknown),
        b"TCP4" => |text| ipv4(text).map(IpAddr::V4),
        b"TCP6" => |text| ipv6(text).map(IpAddr::V6),
        _ => return Err(E::UnknownProtocol),
    };
    let fields: Vec<&[u8]> = fields.collect();
    let [source, destination, source_port, destination_port] = fields[..] else {
        return Err(E::WrongFieldCount);
    };
    let source = ip(source).ok_or(E::BadAddress)?;
    let destination = ip(destination).ok_or(E::BadAddress)?;
    let port = |text| decimal(text, u16::MAX.into()).and_then(|n| u16::try_from(n).ok());
    let source_port = port(source_port).ok_or(E::BadPort)?;
    let destination_port = port(destination_port).ok_or(E::BadPort)?;
    Ok(ProxiedAddresses::Tcp {
        source: SocketAddr::new(source, source_port),
        destination: SocketAddr::new(destination, destination_port),
    })
}

/// A decimal number up to `max`, without sign or leading zeros.
fn decimal(text: &[u8], max: u32) -> Option<u32> {
    let digits_ok = !text.is_empty() && text.len() <= 5 && text.iter().all(u8::is_ascii_digit);
    if !digits_ok || (text.len() > 1 && text[0] == b'0') {
        return None;
    }
    let value = text
        .iter()
        .fold(0u32, |value, &digit| value * 10 + u32::from(digit - b'0'));
    (value <= max).then_some(value)
}

/// Exactly four decimal numbers 0-255 without leading zeros, dot-separated.
fn ipv4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut parts = text.split(|&b| b == b'.');
    let mut octets = [0u8; 4];
    for octet in &mut octets {
        *octet = u8::try_from(decimal(parts.next()?, 255)?).ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// An IPv6 address: groups of one to four hex digits, at most one `::`,
/// 128 bits in all; a dotted IPv4 tail (`::ffff:192.0.2.7`, as HAProxy
/// writes a mapped address) is allowed, under the same rules as
/// [`ipv4`]. No zone (`%eth0`), no brackets.
fn ipv6(text: &[u8]) -> Option<Ipv6Addr> {
    if let Some(dot) = text.iter().position(|&b| b == b'.') {
        let colon = text[..dot].iter().rposition(|&b| b == b':')?;
        ipv4(&text[colon + 1..])?;
    }
    let allowed = |b: &u8| b.is_ascii_hexdigit() || *b == b':' || *b == b'.';
    if !text.iter().all(allowed) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn parse_v2(received: &[u8]) -> Parsed {
    use ProxyHeaderError as E;
    if !starts_like(received, &V2_SIGNATURE) {
        return Parsed::Malformed(E::NotProxyProtocol);
    }
    let Some(&version_command) = received.get(12) else {
        return Parsed::Incomplete;
    };
    let (version, command) = (version_command >> 4, version_command & 0x0F);
    if version != 2 {
        return Parsed::Malformed(E::UnsupportedVersion(version));
    }
    if command != LOCAL && command != PROXY {
        return Parsed::Malformed(E::UnknownCommand(command));
    }
    let Some(&family) = received.get(13) else {
        return Parsed::Incomplete;
    };
    // LOCAL ignores the family (and the whole address block).
    if command == PROXY && (family >> 4 > 3 || family & 0x0F > 2) {
        return Parsed::Malformed(E::UnknownFamily(family));
    }
    let Some(&[high, low]) = received.get(14..16) else {
        return Parsed::Incomplete;
    };
    let length = u16::from_be_bytes([high, low]);
    let total = V2_FIXED + usize::from(length);
    if total > V2_MAX_LENGTH {
        return Parsed::Malformed(E::TooLong(length));
    }
    // The addresses' size where the family is known; elsewhere the whole
    // block is skipped unread.
    let addresses_size = match (command, family) {
        (PROXY, 0x11 | 0x12) => Some(12),
        (PROXY, 0x21 | 0x22) => Some(36),
        (PROXY, 0x31 | 0x32) => Some(216),
        _ => None,
    };
    if addresses_size.is_some_and(|size| usize::from(length) < size) {
        return Parsed::Malformed(E::AddressesTruncated { family, length });
    }
    let Some(header) = received.get(..total) else {
        return Parsed::Incomplete;
    };
    if let Some(size) = addresses_size {
        if let Err(error) = check_tlvs(header, V2_FIXED + size) {
            return Parsed::Malformed(error);
        }
    }
    let block = &header[V2_FIXED..];
    let addresses = match (command, family) {
        (PROXY, 0x11) => {
            let ip = |at: usize| IpAddr::from(<[u8; 4]>::try_from(&block[at..at + 4]).unwrap_or_default());
            v2_tcp(ip(0), ip(4), &block[8..12])
        }
        (PROXY, 0x21) => {
            let ip = |at: usize| IpAddr::from(<[u8; 16]>::try_from(&block[at..at + 16]).unwrap_or_default());
            v2_tcp(ip(0), ip(16), &block[32..36])
        }
        (LOCAL, _) => ProxiedAddresses::Local,
        _ => ProxiedAddresses::Unknown,
    };
    Parsed::Complete(ProxyHeader {
        version: 2,
        length: total,
        addresses,
    })
}

/// TCP addresses from two IPs and the four bytes of the two ports.
fn v2_tcp(source: IpAddr, destination: IpAddr, ports: &[u8]) -> ProxiedAddresses {
    let port = |at: usize| u16::from_be_bytes([ports[at], ports[at + 1]]);
    ProxiedAddresses::Tcp {
        source: SocketAddr::new(source, port(0)),
        destination: SocketAddr::new(destination, port(2)),
    }
}

/// Walks the TLVs from `start` to the end of `header` (each one type byte,
/// two length bytes, the value), checking that each fits, and a CRC32C
/// TLV's checksum (the spec's MUST for receivers that know the type).
fn check_tlvs(header: &[u8], start: usize) -> Result<(), ProxyHeaderError> {
    let mut at = start;
    while at < header.len() {
        let Some(&[kind, high, low]) = header.get(at..at + 3) else {
            return Err(ProxyHeaderError::BadTlv);
        };
        let value = at + 3;
        let end = value + usize::from(u16::from_be_bytes([high, low]));
        if end > header.len() {
            return Err(ProxyHeaderError::BadTlv);
        }
        if kind == TLV_CRC32C {
            let Ok(expected) = <[u8; 4]>::try_from(&header[value..end]) else {
                return Err(ProxyHeaderError::BadTlv);
            };
            // The checksum is computed with its own field zeroed.
            let zeroed = header
                .iter()
                .enumerate()
                .map(|(i, &b)| if (value..end).contains(&i) { 0 } else { b });
            if crc32c(zeroed) != u32::from_be_bytes(expected) {
                return Err(ProxyHeaderError::ChecksumMismatch);
            }
        }
        at = end;
    }
    Ok(())
}

/// CRC-32C (Castagnoli, RFC 4960 appendix B), bit by bit: headers are
/// short and rarely carry one.
fn crc32c(bytes: impl IntoIterator<Item = u8>) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn proxy_header() {
        use crate::protocol::proxy_header::{Parsed, ProxyHeader};

        let input = b"PROXY TCP4 192.0.2.7 198.51.100.1 40123 25\r\nEHLO client\r\n";
        let Parsed::Complete(header) = ProxyHeader::parse(input) else {
            panic!()
        };
        assert_eq!(header.version, 1);
        assert_eq!(&input[header.length..], b"EHLO client\r\n");
        assert_eq!(header.source(), Some("192.0.2.7:40123".parse().unwrap()));

        assert_eq!(ProxyHeader::parse(b"PROXY TCP4 192.0.2"), Parsed::Incomplete);
        assert!(matches!(
            ProxyHeader::parse(b"EHLO client\r\n"),
            Parsed::Malformed(_)
        ));
    }
}
