//! The properties of the PROXY header parser: any split of a header into
//! reads, anything after it, and no prefix contradicting the whole.

use super::tests::{tlv, v2};
use super::*;
use proptest::prelude::*;

/// Answers for `input` received in pieces cut at `cuts`, as the server
/// reads: the first answer that is not `Incomplete`.
fn parse_in_pieces(input: &[u8], cuts: &[usize]) -> Parsed {
    let mut ends: Vec<usize> = cuts.iter().map(|cut| cut % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    ends.into_iter()
        .map(|end| ProxyHeader::parse(&input[..end]))
        .find(|parsed| *parsed != Parsed::Incomplete)
        .unwrap_or(Parsed::Incomplete)
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        // Runs of zeros, so that `::` appears in the text form.
        (any::<[bool; 8]>(), any::<u16>()).prop_map(|(groups, port)| {
            let segments = groups.map(|set| if set { 0x1F2E } else { 0 });
            SocketAddr::from((Ipv6Addr::from(segments), port))
        }),
    ]
}

/// A valid header of either version for `source` -> `destination` (both
/// of one family), with random TLVs in version 2.
fn encode(version: u8, source: SocketAddr, destination: SocketAddr, tlvs: &[Vec<u8>]) -> Vec<u8> {
    if version == 1 {
        let family = if source.is_ipv4() { "TCP4" } else { "TCP6" };
        let text = format!(
            "PROXY {family} {} {} {} {}\r\n",
            source.ip(),
            destination.ip(),
            source.port(),
            destination.port()
        );
        return text.into_bytes();
    }
    let mut block = Vec::new();
    let octets = |addr: SocketAddr| match addr.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    block.extend(octets(source));
    block.extend(octets(destination));
    block.extend_from_slice(&source.port().to_be_bytes());
    block.extend_from_slice(&destination.port().to_be_bytes());
    for tlv in tlvs {
        block.extend_from_slice(tlv);
    }
    v2(0x21, if source.is_ipv4() { 0x11 } else { 0x21 }, &block)
}

/// The destination in the source's family.
fn same_family(source: SocketAddr, destination: SocketAddr) -> SocketAddr {
    match (source.ip(), destination.ip()) {
        (IpAddr::V4(_), IpAddr::V6(ip)) => {
            let [a, b, c, d, ..] = ip.octets();
            SocketAddr::from(([a, b, c, d], destination.port()))
        }
        (IpAddr::V6(_), IpAddr::V4(ip)) => SocketAddr::from((ip.to_ipv6_mapped(), destination.port())),
        _ => destination,
    }
}

fn tlvs() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let one = (0x01u8..0x30, proptest::collection::vec(any::<u8>(), 0..40))
        .prop_filter("not a checksum", |(kind, _)| *kind != TLV_CRC32C)
        .prop_map(|(kind, value)| tlv(kind, &value));
    proptest::collection::vec(one, 0..4)
}

proptest! {
    /// Any header, any split into reads, anything after it: the same
    /// addresses and length as the header alone.
    #[test]
    fn any_split_of_a_valid_header_gives_the_same_answer(
        version in 1u8..=2,
        source in socket_addr(),
        destination in socket_addr(),
        tlvs in tlvs(),
        after in proptest::collection::vec(any::<u8>(), 0..40),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let destination = same_family(source, destination);
        let header = encode(version, source, destination, &tlvs);
        let expected = Parsed::Complete(ProxyHeader {
            version,
            length: header.len(),
            addresses: ProxiedAddresses::Tcp { source, destination },
        });
        prop_assert_eq!(ProxyHeader::parse(&header), expected);
        let input = [&header[..], &after[..]].concat();
        prop_assert_eq!(parse_in_pieces(&input, &cuts), expected);
        for end in 0..header.len() {
            prop_assert_eq!(ProxyHeader::parse(&input[..end]), Parsed::Incomplete);
        }
    }

    /// A valid header with one byte changed, or cut short, or random bytes:
    /// no prefix gets an answer the whole input does not get.
    #[test]
    fn no_prefix_contradicts_the_whole(
        version in 1u8..=2,
        source in socket_addr(),
        destination in socket_addr(),
        tlvs in tlvs(),
        change in proptest::option::of((any::<usize>(), any::<u8>())),
        keep in any::<usize>(),
        noise in proptest::collection::vec(any::<u8>(), 0..120),
        use_noise in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let mut input = if use_noise {
            noise
        } else {
            encode(version, source, same_family(source, destination), &tlvs)
        };
        if let Some((at, byte)) = change.filter(|_| !input.is_empty()) {
            let at = at % input.len();
            input[at] = byte;
        }
        input.truncate(keep % (input.len() + 1));
        let whole = ProxyHeader::parse(&input);
        for end in 0..input.len() {
            let early = ProxyHeader::parse(&input[..end]);
            prop_assert!(early == Parsed::Incomplete || early == whole, "{} bytes: {:?} / {:?}", end, early, whole);
        }
        prop_assert_eq!(parse_in_pieces(&input, &cuts), whole);
    }
}
