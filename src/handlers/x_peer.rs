//! The reference's `X-Peer: <client ip>` header, and where a message's
//! header section ends. Shared by the proxies (which relay it) and the
//! debugging server (which prints it).

use std::net::IpAddr;

/// Where `X-Peer:` goes: the start of the first empty line (the end of the
/// header section), or the end of the data when there is none, as in the
/// reference. Lines may end in CRLF or, sent wrongly, a bare LF.
pub(crate) fn header_end(data: &[u8]) -> usize {
    let mut start = 0;
    while start < data.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i + 1);
        let line = &data[start..end];
        if line == b"\n" || line == b"\r\n" {
            return start;
        }
        start = end;
    }
    data.len()
}

/// Whether `data` has an empty line that ends its header section.
pub(crate) fn has_header_end(data: &[u8]) -> bool {
    header_end(data) < data.len()
}

/// `data` with `X-Peer: <ip>` after the last header line.
pub(crate) fn with_x_peer(data: &[u8], ip: IpAddr) -> Vec<u8> {
    let at = header_end(data);
    let header = format!("X-Peer: {ip}\r\n");
    let mut out = Vec::with_capacity(data.len() + header.len() + 2);
    out.extend_from_slice(&data[..at]);
    // No empty line and no final line ending: the header needs a line of
    // its own.
    if at == data.len() && !data.is_empty() && !data.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data[at..]);
    out
}

/// Whether the header section has bytes outside ASCII, which only an
/// SMTPUTF8 server may receive (RFC 6532).
pub(crate) fn headers_need_utf8(data: &[u8]) -> bool {
    !data[..header_end(data)].is_ascii()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_peer_goes_after_the_last_header() {
        let ip: IpAddr = [10, 0, 0, 7].into();
        let cases: &[(&[u8], &[u8])] = &[
            (
                b"A: 1\r\nB: 2\r\n\r\nbody\r\n",
                b"A: 1\r\nB: 2\r\nX-Peer: 10.0.0.7\r\n\r\nbody\r\n",
            ),
            (b"\r\nbody\r\n", b"X-Peer: 10.0.0.7\r\n\r\nbody\r\n"),
            (b"A: 1\r\n", b"A: 1\r\nX-Peer: 10.0.0.7\r\n"),
            (b"A: 1", b"A: 1\r\nX-Peer: 10.0.0.7\r\n"),
            (b"", b"X-Peer: 10.0.0.7\r\n"),
            (b"A: 1\n\nbody\n", b"A: 1\nX-Peer: 10.0.0.7\r\n\nbody\n"),
            (
                b"A: 1\r\n\r\n\r\nx\r\n",
                b"A: 1\r\nX-Peer: 10.0.0.7\r\n\r\n\r\nx\r\n",
            ),
        ];
        for (data, expected) in cases {
            assert_eq!(
                String::from_utf8_lossy(&with_x_peer(data, ip)),
                String::from_utf8_lossy(expected),
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn the_header_section_ends_at_the_first_empty_line() {
        assert!(has_header_end(b"A: 1\r\n\r\n"));
        assert!(has_header_end(b"\n"));
        assert!(!has_header_end(b"A: 1\r\nB: 2\r\n"));
        assert!(!has_header_end(b"test"));
        assert!(!has_header_end(b""));
    }

    #[test]
    fn utf8_headers() {
        assert!(headers_need_utf8("Subject: Grüße\r\n\r\nx\r\n".as_bytes()));
        assert!(!headers_need_utf8("Subject: x\r\n\r\nGrüße\r\n".as_bytes()));
    }
}
