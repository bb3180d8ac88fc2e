//! Whether a reply is well formed on the wire (RFC 5321, 4.2 and 4.5.3.1.5).

use smtp_fixture::Reply;

/// Checks the wire form of `reply`: every line is three digits (the same
/// code, 200 to 599), `-` on every line but the last and a space on the
/// last, then text without CR or LF, then CRLF; no line is longer than
/// `longest` bytes with its CRLF. Returns what is wrong.
pub fn check_reply(reply: &Reply, longest: usize) -> Result<(), String> {
    let wire = reply.to_wire();
    if !wire.ends_with(b"\r\n") {
        return Err(format!(
            "reply does not end with CRLF: {:?}",
            String::from_utf8_lossy(&wire)
        ));
    }
    let lines: Vec<&[u8]> = wire[..wire.len() - 2].split(|&b| b == b'\n').collect();
    for (index, line) in lines.iter().enumerate() {
        let last = index + 1 == lines.len();
        // Every line but the last still carries the CR of its CRLF.
        let Some(line) = (if last {
            Some(*line)
        } else {
            line.strip_suffix(b"\r")
        }) else {
            return Err(format!("bare LF in reply {:?}", String::from_utf8_lossy(&wire)));
        };
        let shown = String::from_utf8_lossy(line);
        if line.len() + 2 > longest {
            return Err(format!("reply line of {} bytes: {shown:.80}...", line.len() + 2));
        }
        if line.len() < 4 || !line[..3].iter().all(u8::is_ascii_digit) {
            return Err(format!("reply line without a code: {shown:?}"));
        }
        let code: u16 = std::str::from_utf8(&line[..3])
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        if code != reply.code() || !(200..600).contains(&code) {
            return Err(format!(
                "reply line with code {code}, reply code {}: {shown:?}",
                reply.code()
            ));
        }
        let separator = if last { b' ' } else { b'-' };
        if line[3] != separator {
            return Err(format!(
                "reply line {index} of {} has {:?} after the code: {shown:?}",
                lines.len(),
                line[3] as char
            ));
        }
        if line.contains(&b'\r') || line.contains(&b'\n') {
            return Err(format!("CR or LF inside a reply line: {shown:?}"));
        }
    }
    Ok(())
}

/// Checks that an RFC 3463 status at the start of a line is of the reply's
/// class (`550 2.0.0` is not). For replies the server wrote itself: a
/// handler's text may say anything. Replies that quote the client's command
/// (`500 Error: command "..." not recognized`, `502 Could not VRFY ...`) are
/// checked on their first line only: a bare LF in what they quote starts a
/// new reply line, whose text is the client's (reported as an open finding
/// in docs/fuzzing.md).
pub fn check_status_class(reply: &Reply) -> Result<(), String> {
    let first = reply.lines().first().map(|line| &**line).unwrap_or("");
    let quotes_the_client = first.contains("Error: command \"") || first.contains("Could not VRFY");
    let checked = if quotes_the_client { 1 } else { reply.lines().len() };
    for line in &reply.lines()[..checked] {
        if let Some(class) = enhanced_status_class(line.as_bytes()) {
            if u16::from(class - b'0') != reply.code() / 100 {
                return Err(format!("enhanced status of another class than the code: {reply}"));
            }
        }
    }
    Ok(())
}

/// The class digit of an RFC 3463 status (`d.ddd.ddd` then a space or the
/// end) at the start of `text`.
fn enhanced_status_class(text: &[u8]) -> Option<u8> {
    let status = text.split(|&b| b == b' ').next()?;
    let parts: Vec<&[u8]> = status.split(|&b| b == b'.').collect();
    let digits =
        |part: &[u8], most: usize| (1..=most).contains(&part.len()) && part.iter().all(u8::is_ascii_digit);
    let looks_like_status =
        parts.len() == 3 && digits(parts[0], 1) && digits(parts[1], 3) && digits(parts[2], 3);
    looks_like_status.then(|| parts[0][0])
}
