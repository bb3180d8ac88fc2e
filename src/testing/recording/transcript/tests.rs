use super::*;

#[test]
fn split_crlf_gives_the_lines_split_on_newlines_gives() {
    for bytes in [
        &b""[..],
        b"\r\n",
        b"250 OK\r\n",
        b"250-a\r\n250-b\r\n250 c\r\n",
        b"a\nb\n",
        b"a\r\n\r\n",
        b"no end",
        b"\n\n\r",
    ] {
        let by_bytes: Vec<&[u8]> = bytes
            .strip_suffix(b"\r\n")
            .unwrap_or(bytes)
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .collect();
        assert_eq!(split_crlf(bytes).collect::<Vec<_>>(), by_bytes, "{bytes:?}");
    }
}

#[test]
fn a_long_session_keeps_its_first_and_last_lines() {
    let (mut log, shared) = TranscriptLog::new(7, SocketAddr::from(([127, 0, 0, 1], 2525)), None);
    let total = HEAD_LINES + TAIL_LINES + 2_500;
    for n in 0..total {
        log.received(format!("NOOP {n}\r\n").as_bytes());
    }
    let transcript = shared.snapshot();
    assert_eq!(transcript.lines.len(), HEAD_LINES + 1 + TAIL_LINES);
    assert_eq!(transcript.lines[0].text, "NOOP 0");
    assert_eq!(
        transcript.lines[HEAD_LINES].text,
        "(2500 lines not kept: only the first and the last are)"
    );
    assert_eq!(
        transcript.lines.last().map(|l| l.text.clone()),
        Some(format!("NOOP {}", total - 1))
    );
    drop(log);
    assert!(shared.snapshot().closed);
}
