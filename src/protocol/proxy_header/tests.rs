//! Every rule of the PROXY header parser, table by table; each input is
//! also fed prefix by prefix (the random inputs are in `properties.rs`).

use super::*;
use ProxyHeaderError as E;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

fn tcp(source: &str, destination: &str) -> ProxiedAddresses {
    ProxiedAddresses::Tcp {
        source: addr(source),
        destination: addr(destination),
    }
}

/// A version 2 header: version/command, family/protocol, then `block`
/// (addresses and TLVs) after its length.
pub(super) fn v2(version_command: u8, family: u8, block: &[u8]) -> Vec<u8> {
    let mut header = V2_SIGNATURE.to_vec();
    header.push(version_command);
    header.push(family);
    let length = u16::try_from(block.len()).expect("a block that fits");
    header.extend_from_slice(&length.to_be_bytes());
    header.extend_from_slice(block);
    header
}

/// The TCP over IPv4 block of 192.0.2.7:40123 -> 198.51.100.1:25.
fn v4_block() -> Vec<u8> {
    let mut block = vec![192, 0, 2, 7, 198, 51, 100, 1];
    block.extend_from_slice(&40123u16.to_be_bytes());
    block.extend_from_slice(&25u16.to_be_bytes());
    block
}

/// The TCP over IPv6 block of [2001:db8::7]:40123 -> [2001:db8::1]:25.
fn v6_block() -> Vec<u8> {
    let source: Ipv6Addr = "2001:db8::7".parse().unwrap();
    let destination: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let mut block = source.octets().to_vec();
    block.extend_from_slice(&destination.octets());
    block.extend_from_slice(&40123u16.to_be_bytes());
    block.extend_from_slice(&25u16.to_be_bytes());
    block
}

pub(super) fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut tlv = vec![kind];
    tlv.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
    tlv.extend_from_slice(value);
    tlv
}

/// `header` with a CRC32C TLV appended, its length field updated and the
/// checksum filled in (wrong by `error` when non-zero).
fn with_crc(mut header: Vec<u8>, error: u32) -> Vec<u8> {
    header.extend_from_slice(&tlv(TLV_CRC32C, &[0; 4]));
    let length = u16::try_from(header.len() - V2_FIXED).unwrap();
    header[14..16].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c(header.iter().copied()) ^ error;
    let at = header.len() - 4;
    header[at..].copy_from_slice(&crc.to_be_bytes());
    header
}

fn complete(version: u8, input: &[u8], addresses: ProxiedAddresses) -> Parsed {
    Parsed::Complete(ProxyHeader {
        version,
        length: input.len(),
        addresses,
    })
}

const FULL_V6: &str = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

#[test]
fn valid_v1_lines() {
    let unknown_longest = format!("PROXY UNKNOWN {FULL_V6} {FULL_V6} 65535 65535\r\n");
    assert_eq!(unknown_longest.len(), V1_MAX_LENGTH);
    let tcp6_longest = format!("PROXY TCP6 {FULL_V6} {FULL_V6} 65535 65535\r\n");
    assert_eq!(tcp6_longest.len(), 104);
    let full = format!("[{FULL_V6}]:65535");
    let cases: Vec<(&str, ProxiedAddresses)> = vec![
        (
            "PROXY TCP4 192.0.2.7 198.51.100.1 40123 25\r\n",
            tcp("192.0.2.7:40123", "198.51.100.1:25"),
        ),
        (
            "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
            tcp("0.0.0.0:0", "255.255.255.255:65535"),
        ),
        (
            "PROXY TCP4 10.0.0.1 10.0.0.2 1 9\r\n",
            tcp("10.0.0.1:1", "10.0.0.2:9"),
        ),
        (
            "PROXY TCP6 2001:db8::7 2001:db8::1 40123 25\r\n",
            tcp("[2001:db8::7]:40123", "[2001:db8::1]:25"),
        ),
        (
            "PROXY TCP6 2001:DB8:0:0:0:0:0:A ::1 1 2\r\n",
            tcp("[2001:db8::a]:1", "[::1]:2"),
        ),
        (
            "PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:000a :: 1 2\r\n",
            tcp("[2001:db8::a]:1", "[::]:2"),
        ),
        (
            "PROXY TCP6 ::ffff:192.0.2.7 ::ffff:198.51.100.1 40123 25\r\n",
            tcp("[::ffff:192.0.2.7]:40123", "[::ffff:198.51.100.1]:25"),
        ),
        (&tcp6_longest, tcp(&full, &full)),
        ("PROXY UNKNOWN\r\n", ProxiedAddresses::Unknown),
        ("PROXY UNKNOWN \r\n", ProxiedAddresses::Unknown),
        (
            "PROXY UNKNOWN anything at all, even \x00\r\n",
            ProxiedAddresses::Unknown,
        ),
        (
            "PROXY UNKNOWN 192.0.2.7 198.51.100.1 40123 25\r\n",
            ProxiedAddresses::Unknown,
        ),
        (&unknown_longest, ProxiedAddresses::Unknown),
    ];
    for (line, addresses) in cases {
        let expected = complete(1, line.as_bytes(), addresses);
        assert_eq!(ProxyHeader::parse(line.as_bytes()), expected, "{line:?}");
        let followed = format!("{line}EHLO client\r\n");
        assert_eq!(
            ProxyHeader::parse(followed.as_bytes()),
            expected,
            "{line:?} + SMTP"
        );
    }
}

#[test]
fn malformed_v1_lines() {
    let too_long = format!("PROXY UNKNOWN {}\r\n", "a".repeat(V1_MAX_LENGTH - 15));
    assert_eq!(too_long.len(), V1_MAX_LENGTH + 1);
    let unterminated = format!("PROXY UNKNOWN {}", "a".repeat(V1_MAX_LENGTH));
    let cr_at_the_limit = format!("PROXY UNKNOWN {}\r", "a".repeat(V1_MAX_LENGTH - 15));
    let cases: Vec<(&str, ProxyHeaderError)> = vec![
        // Not the protocol at all.
        ("EHLO client\r\n", E::NotProxyProtocol),
        ("proxy TCP4 192.0.2.7 198.51.100.1 1 2\r\n", E::NotProxyProtocol),
        ("PROXY\r\n", E::NotProxyProtocol),
        ("PROXYTCP4\r\n", E::NotProxyProtocol),
        ("PROXY\tTCP4 192.0.2.7 198.51.100.1 1 2\r\n", E::NotProxyProtocol),
        // The protocol.
        ("PROXY \r\n", E::UnknownProtocol),
        ("PROXY  TCP4 192.0.2.7 198.51.100.1 1 2\r\n", E::UnknownProtocol),
        ("PROXY tcp4 192.0.2.7 198.51.100.1 1 2\r\n", E::UnknownProtocol),
        ("PROXY TCP5 192.0.2.7 198.51.100.1 1 2\r\n", E::UnknownProtocol),
        ("PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n", E::UnknownProtocol),
        ("PROXY UNKNOWNX\r\n", E::UnknownProtocol),
        ("PROXY unknown\r\n", E::UnknownProtocol),
        // Fields and spaces.
        ("PROXY TCP4\r\n", E::WrongFieldCount),
        ("PROXY TCP4 \r\n", E::WrongFieldCount),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n", E::WrongFieldCount),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n", E::WrongFieldCount),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 2 \r\n", E::WrongFieldCount),
        ("PROXY TCP4 192.0.2.7  198.51.100.1 1 2\r\n", E::WrongFieldCount),
        ("PROXY TCP4 192.0.2.7\t198.51.100.1 1 2\r\n", E::WrongFieldCount),
        // Addresses.
        ("PROXY TCP4 01.0.2.7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.07 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.007 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.7.1 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 256.0.2.7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0..7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.7. 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 .192.0.2.7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.+7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.-7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 0x7f.0.0.1 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 3221225991 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 localhost 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 ::1 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.7 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 192.0.2.7 198.51.100.1000 1 2\r\n", E::BadAddress),
        ("PROXY TCP4 \u{e9}.0.2.7 198.51.100.1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 192.0.2.7 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 ::1 192.0.2.7 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 2001:db8:::1 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 2001::db8::1 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 12345::1 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 g::1 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 [::1] ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 ::ffff:01.2.3.4 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 ::ffff:1.2.3 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 ::1.2.3.4:1 ::1 1 2\r\n", E::BadAddress),
        ("PROXY TCP6 :1 ::1 1 2\r\n", E::BadAddress),
        // Ports.
        ("PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 99999 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 123456 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 025\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 00 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 -1 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 +1 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1a 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 0x19 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 smtp 2\r\n", E::BadPort),
        ("PROXY TCP4 192.0.2.7 198.51.100.1  2\r\n", E::BadPort),
        // Line ends.
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\n", E::BareLineEnd),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\rX", E::BareLineEnd),
        ("PROXY TCP4 192.0.2.7 198.51.100.1 1 2\r\r\n", E::BareLineEnd),
        ("PROXY TCP4 192.0.2.7\r198.51.100.1 1 2\r\n", E::BareLineEnd),
        ("PROXY UNKNOWN \n\r\n", E::BareLineEnd),
        ("PROXY \n", E::BareLineEnd),
        // Length.
        (&too_long, E::LineTooLong),
        (&unterminated, E::LineTooLong),
        (&cr_at_the_limit, E::LineTooLong),
    ];
    for (line, error) in cases {
        assert_eq!(
            ProxyHeader::parse(line.as_bytes()),
            Parsed::Malformed(error),
            "{line:?}"
        );
        assert_split_invariant(line.as_bytes());
    }
}

#[test]
fn partial_v1_lines_wait() {
    for line in [
        "P",
        "PROX",
        "PROXY ",
        "PROXY TCP4 192.0.2.7",
        "PROXY TCP4 192.0.2.7 198.51.100.1 40123 25",
        "PROXY TCP4 192.0.2.7 198.51.100.1 40123 25\r",
        // Nothing is judged before the CRLF, bad fields included.
        "PROXY TCP9 nonsense",
    ] {
        assert_eq!(
            ProxyHeader::parse(line.as_bytes()),
            Parsed::Incomplete,
            "{line:?}"
        );
    }
    assert_eq!(ProxyHeader::parse(b""), Parsed::Incomplete);
}

#[test]
fn valid_v2_headers() {
    let v4 = v4_block();
    let v6 = v6_block();
    let v4_tcp = tcp("192.0.2.7:40123", "198.51.100.1:25");
    let v6_tcp = tcp("[2001:db8::7]:40123", "[2001:db8::1]:25");
    let with = |block: &[u8], tlvs: &[Vec<u8>]| {
        let mut all = block.to_vec();
        for tlv in tlvs {
            all.extend_from_slice(tlv);
        }
        all
    };
    let filler = V2_MAX_LENGTH - V2_FIXED - v4.len() - 3;
    let cases: Vec<(&str, Vec<u8>, ProxiedAddresses)> = vec![
        ("TCP over IPv4", v2(0x21, 0x11, &v4), v4_tcp),
        ("TCP over IPv6", v2(0x21, 0x21, &v6), v6_tcp),
        (
            "TLVs skipped",
            v2(
                0x21,
                0x11,
                &with(
                    &v4,
                    &[
                        tlv(0x01, b"smtp"),
                        tlv(0x04, &[]),
                        tlv(0x05, &[7; 128]),
                        tlv(0xE0, b"x"),
                    ],
                ),
            ),
            v4_tcp,
        ),
        (
            "an SSL TLV with sub-TLVs",
            v2(
                0x21,
                0x21,
                &with(
                    &v6,
                    &[tlv(
                        0x20,
                        &[&[1, 0, 0, 0, 0][..], &tlv(0x21, b"TLSv1.3")].concat(),
                    )],
                ),
            ),
            v6_tcp,
        ),
        ("a good CRC32C", with_crc(v2(0x21, 0x11, &v4), 0), v4_tcp),
        (
            "the longest accepted",
            v2(0x21, 0x11, &with(&v4, &[tlv(0x04, &vec![0; filler])])),
            v4_tcp,
        ),
        ("LOCAL", v2(0x20, 0x00, &[]), ProxiedAddresses::Local),
        (
            "LOCAL with addresses",
            v2(0x20, 0x11, &v4),
            ProxiedAddresses::Local,
        ),
        (
            "LOCAL ignores the family",
            v2(0x20, 0xFF, b"anything"),
            ProxiedAddresses::Local,
        ),
        ("PROXY UNSPEC", v2(0x21, 0x00, &[]), ProxiedAddresses::Unknown),
        (
            "PROXY UNSPEC with bytes",
            v2(0x21, 0x00, b"ignored"),
            ProxiedAddresses::Unknown,
        ),
        ("UDP over IPv4", v2(0x21, 0x12, &v4), ProxiedAddresses::Unknown),
        ("UDP over IPv6", v2(0x21, 0x22, &v6), ProxiedAddresses::Unknown),
        (
            "UNIX stream",
            v2(0x21, 0x31, &[0; 216]),
            ProxiedAddresses::Unknown,
        ),
        (
            "UNIX datagram",
            v2(0x21, 0x32, &[0; 216]),
            ProxiedAddresses::Unknown,
        ),
        (
            "IPv4, protocol unspecified",
            v2(0x21, 0x10, &[1; 8]),
            ProxiedAddresses::Unknown,
        ),
    ];
    for (name, header, addresses) in cases {
        let expected = complete(2, &header, addresses);
        assert_eq!(ProxyHeader::parse(&header), expected, "{name}");
        let mut followed = header.clone();
        followed.extend_from_slice(b"EHLO client\r\n");
        assert_eq!(ProxyHeader::parse(&followed), expected, "{name} + SMTP");
        assert_split_invariant(&followed);
    }
}

#[test]
fn malformed_v2_headers() {
    let v4 = v4_block();
    let v6 = v6_block();
    let mut bad_signature = v2(0x21, 0x11, &v4);
    bad_signature[10] = b'X';
    let mut overrun = v4.clone();
    overrun.extend_from_slice(&[0x04, 0x00, 0x05, 1, 2]);
    let mut short_crc = v4.clone();
    short_crc.extend_from_slice(&tlv(TLV_CRC32C, &[0; 3]));
    let length_over = |length: u16| {
        let mut header = v2(0x21, 0x11, &v4);
        header[14..16].copy_from_slice(&length.to_be_bytes());
        header
    };
    let max_field = u16::try_from(V2_MAX_LENGTH - V2_FIXED).unwrap();
    let cases: Vec<(&str, Vec<u8>, ProxyHeaderError)> = vec![
        ("a signature byte wrong", bad_signature, E::NotProxyProtocol),
        (
            "CRLF then SMTP",
            b"\r\nEHLO client\r\n".to_vec(),
            E::NotProxyProtocol,
        ),
        ("a blank line", b"\r\n\r\n\r\n".to_vec(), E::NotProxyProtocol),
        ("version 1 nibble", v2(0x11, 0x11, &v4), E::UnsupportedVersion(1)),
        ("version 3", v2(0x31, 0x11, &v4), E::UnsupportedVersion(3)),
        ("version 0", v2(0x01, 0x11, &v4), E::UnsupportedVersion(0)),
        ("version 15", v2(0xF1, 0x11, &v4), E::UnsupportedVersion(15)),
        ("command 2", v2(0x22, 0x11, &v4), E::UnknownCommand(2)),
        ("command 15", v2(0x2F, 0x11, &v4), E::UnknownCommand(15)),
        ("family 4", v2(0x21, 0x41, &v4), E::UnknownFamily(0x41)),
        ("family 15", v2(0x21, 0xF1, &v4), E::UnknownFamily(0xF1)),
        ("protocol 3", v2(0x21, 0x13, &v4), E::UnknownFamily(0x13)),
        (
            "IPv4 too short",
            v2(0x21, 0x11, &v4[..11]),
            E::AddressesTruncated {
                family: 0x11,
                length: 11,
            },
        ),
        (
            "IPv4 empty",
            v2(0x21, 0x11, &[]),
            E::AddressesTruncated {
                family: 0x11,
                length: 0,
            },
        ),
        (
            "IPv4 addresses in an IPv6 header",
            v2(0x21, 0x21, &v4),
            E::AddressesTruncated {
                family: 0x21,
                length: 12,
            },
        ),
        (
            "IPv6 too short",
            v2(0x21, 0x21, &v6[..35]),
            E::AddressesTruncated {
                family: 0x21,
                length: 35,
            },
        ),
        (
            "UDP over IPv4 too short",
            v2(0x21, 0x12, &v4[..4]),
            E::AddressesTruncated {
                family: 0x12,
                length: 4,
            },
        ),
        (
            "UNIX too short",
            v2(0x21, 0x31, &[0; 215]),
            E::AddressesTruncated {
                family: 0x31,
                length: 215,
            },
        ),
        (
            "the largest length field",
            length_over(u16::MAX),
            E::TooLong(u16::MAX),
        ),
        (
            "one byte over the limit",
            length_over(max_field + 1),
            E::TooLong(max_field + 1),
        ),
        ("a TLV overrunning", v2(0x21, 0x11, &overrun), E::BadTlv),
        (
            "one stray byte",
            v2(0x21, 0x11, &[&v4[..], &[0x04]].concat()),
            E::BadTlv,
        ),
        (
            "two stray bytes",
            v2(0x21, 0x21, &[&v6[..], &[0x04, 0]].concat()),
            E::BadTlv,
        ),
        ("a CRC32C of 3 bytes", v2(0x21, 0x11, &short_crc), E::BadTlv),
        (
            "a wrong CRC32C",
            with_crc(v2(0x21, 0x11, &v4), 1),
            E::ChecksumMismatch,
        ),
        (
            "a CRC32C over other addresses",
            {
                let mut header = with_crc(v2(0x21, 0x11, &v4), 0);
                header[V2_FIXED] ^= 1;
                header
            },
            E::ChecksumMismatch,
        ),
    ];
    for (name, header, error) in cases {
        assert_eq!(ProxyHeader::parse(&header), Parsed::Malformed(error), "{name}");
        assert_split_invariant(&header);
    }
}

#[test]
fn partial_v2_headers_wait() {
    let header = v2(0x21, 0x11, &v4_block());
    for end in 1..header.len() {
        assert_eq!(
            ProxyHeader::parse(&header[..end]),
            Parsed::Incomplete,
            "{end} bytes"
        );
    }
    // The length field is judged as soon as it is there, not once the
    // header is: a huge one is refused at once.
    let mut huge = header[..V2_FIXED].to_vec();
    huge[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(ProxyHeader::parse(&huge), Parsed::Malformed(E::TooLong(u16::MAX)));
    assert_eq!(ProxyHeader::parse(&huge[..13]), Parsed::Incomplete);
}

#[test]
fn the_first_byte_decides() {
    for byte in 0..=255u8 {
        let expected = match byte {
            b'P' | b'\r' => Parsed::Incomplete,
            _ => Parsed::Malformed(E::NotProxyProtocol),
        };
        assert_eq!(ProxyHeader::parse(&[byte]), expected, "{byte:#04x}");
    }
}

#[test]
fn crc32c_known_value() {
    // The check value of CRC-32C (RFC 3720, B.4 and the CRC catalogue).
    assert_eq!(crc32c(*b"123456789"), 0xE306_9283);
    assert_eq!(crc32c([0u8; 32]), 0x8A91_36AA);
}

#[test]
fn errors_say_what_is_wrong() {
    assert_eq!(E::NotProxyProtocol.to_string(), "not a PROXY protocol header");
    assert_eq!(
        E::UnknownFamily(0x41).to_string(),
        "v2: unknown family/protocol 0x41"
    );
    assert_eq!(
        E::TooLong(65535).to_string(),
        "v2: length 65535 over the limit of 4080"
    );
}

/// Feeds `input` as a receiver would, a prefix at a time: each answer
/// before the last is `Incomplete`, or already the answer for the whole.
fn assert_split_invariant(input: &[u8]) {
    let whole = ProxyHeader::parse(input);
    for end in 0..input.len() {
        let early = ProxyHeader::parse(&input[..end]);
        assert!(
            early == Parsed::Incomplete || early == whole,
            "{end} of {input:?}: {early:?}, but {whole:?} for the whole"
        );
    }
}
