//! A deliberately simple reference decoder for the DATA section (RFC 5321,
//! 4.1.1.4 and 4.5.2), to compare with what the session reports.
//!
//! It works line by line on the whole stream at once, so it has none of the
//! crate's chunking concerns: a line is the bytes up to the next CRLF, the
//! line `.` ends the data, and one leading dot is removed from any other line.
//! A bare CR or LF is content.

/// What the data section that starts a stream holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceData {
    /// Bytes of the stream up to and including the terminator's `.CRLF`.
    pub end: usize,
    /// The message: dot-unstuffed, CRLF line endings, the CRLF before the
    /// terminator kept.
    pub message: Vec<u8>,
    /// The size as the reference `smtpd` measures it: bytes as sent (dots
    /// still stuffed) before the terminator, without the CRLF that starts it.
    pub raw_size: usize,
    /// Lines that began with one dot followed by something other than a dot.
    pub unstuffed_dot_lines: usize,
}

/// Decodes the data section at the start of `stream` (the bytes right after
/// the `DATA` command line). `None`: the stream holds no terminator.
pub fn decode_data(stream: &[u8]) -> Option<ReferenceData> {
    let mut message = Vec::new();
    let mut unstuffed_dot_lines = 0;
    let mut line_start = 0;
    loop {
        let length = memchr::memmem::find(&stream[line_start..], b"\r\n")?;
        let line = &stream[line_start..line_start + length];
        if line == b"." {
            return Some(ReferenceData {
                end: line_start + 3,
                message,
                raw_size: line_start.saturating_sub(2),
                unstuffed_dot_lines,
            });
        }
        let content = match line {
            [b'.', b'.', ..] => &line[1..],
            [b'.', ..] => {
                unstuffed_dot_lines += 1;
                &line[1..]
            }
            _ => line,
        };
        message.extend_from_slice(content);
        message.extend_from_slice(b"\r\n");
        line_start += length + 2;
    }
}

/// A BDAT command line (RFC 3030, 2: `"BDAT" SP chunk-size [SP "LAST"]`),
/// read the way the session splits command lines (the verb up to the first
/// space, upper-cased; the argument trimmed). `Some((size, last, valid))`
/// when a chunk follows: the size could be read; `valid` when the rest of
/// the line is well formed too (else the chunk is read and refused).
pub fn bdat_line(line: &[u8]) -> Option<(u64, bool, bool)> {
    // Bytes, not text: a line whose size is followed by a NUL or a
    // non-UTF-8 word still announces its chunk (RFC 3030, 2).
    let space = line.iter().position(|&b| b == b' ')?;
    let (verb, arg) = (&line[..space], &line[space + 1..]);
    if !verb.eq_ignore_ascii_case(b"BDAT") {
        return None;
    }
    let arg = arg.trim_ascii();
    let (size, rest) = match arg.iter().position(|&b| b == b' ') {
        Some(i) => (&arg[..i], Some(&arg[i + 1..])),
        None => (arg, None),
    };
    if size.is_empty() || !size.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size: u64 = std::str::from_utf8(size).ok()?.parse().ok()?;
    Some(match rest {
        None => (size, false, true),
        Some(rest) if rest.eq_ignore_ascii_case(b"LAST") => (size, true, true),
        Some(_) => (size, false, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        let data = decode_data(b"a\r\n..b\r\n.c\r\nx\n.\r\n\r.\r\n.\r\nQUIT\r\n").unwrap();
        assert_eq!(data.message, b"a\r\n.b\r\nc\r\nx\n.\r\n\r.\r\n");
        assert_eq!(data.end, 24);
        assert_eq!(data.raw_size, 19);
        assert_eq!(data.unstuffed_dot_lines, 1);
        assert_eq!(decode_data(b".\r\n").unwrap().message, b"");
        assert_eq!(decode_data(b"a\r\n.\n"), None);
    }

    #[test]
    fn bdat_lines() {
        assert_eq!(bdat_line(b"bdat 12 last"), Some((12, true, true)));
        assert_eq!(bdat_line(b"BDAT 0"), Some((0, false, true)));
        assert_eq!(bdat_line(b"BDAT 3 NOW"), Some((3, false, false)));
        assert_eq!(bdat_line(b"BDAT x"), None);
        assert_eq!(bdat_line(b"BDAT"), None);
    }
}
