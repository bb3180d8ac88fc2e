//! Relaying one finished message upstream, and turning what the upstream
//! said into the one reply the client gets. Shared by
//! [`PureProxy`](super::PureProxy) and [`RoutingProxy`](super::RoutingProxy).

use std::net::{IpAddr, SocketAddr};

use super::upstream::{one_line, Client, Extensions, Failure, Upstream};
use crate::protocol::{replies, Envelope, Reply, SessionInfo};

/// Identifies a session across hooks. The id alone is unique within one
/// server; the peer keeps two servers sharing a handler apart.
pub(crate) type SessionKey = (u64, SocketAddr);

pub(crate) fn key(info: &SessionInfo) -> SessionKey {
    (info.id, info.peer)
}

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

/// `MAIL FROM:<address>` with the client's parameters that the upstream
/// announced: `BODY=` with 8BITMIME, `SMTPUTF8` with SMTPUTF8, and `SIZE=`
/// (`size`, when known) with SIZE. Anything else is dropped: the session
/// refuses parameters it does not know, so nothing else gets here.
pub(crate) fn mail_command(
    address: &str,
    options: &[String],
    upstream: Extensions,
    size: Option<u64>,
) -> String {
    let mut line = if address == "<>" {
        "MAIL FROM:<>".to_string()
    } else {
        format!("MAIL FROM:<{address}>")
    };
    for option in options {
        let passed = (option.starts_with("BODY=") && upstream.eight_bit_mime)
            || (option == "SMTPUTF8" && upstream.smtputf8);
        if passed {
            line.push(' ');
            line.push_str(option);
        }
    }
    if let Some(size) = size.filter(|_| upstream.size) {
        line.push_str(&format!(" SIZE={size}"));
    }
    line
}

/// `451 4.4.1`: the upstream could not be reached or failed; the client
/// keeps the message and tries again.
pub(crate) fn unavailable(upstream: &Upstream, failure: &Failure) -> Reply {
    Reply::new(
        451,
        format!("4.4.1 Upstream {upstream} unavailable ({failure}); try again later"),
    )
}

/// `451 4.4.1`: the connection failed after the message was sent, so it
/// may have been delivered; a retry risks a duplicate, which RFC 5321 (6.1)
/// prefers to a loss.
pub(crate) fn lost_after_data(upstream: &Upstream, failure: &Failure) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream}: {failure} after the message was sent; \
             it may have been delivered, try again later"
        ),
    )
}

/// `451 4.4.1` for an upstream's transient (4xx) reply, which it quotes.
pub(crate) fn deferred(upstream: &Upstream, command: &str, reply: &Reply) -> Reply {
    Reply::new(
        451,
        format!(
            "4.4.1 Upstream {upstream} answered {command} with {}; try again later",
            one_line(reply)
        ),
    )
}

/// `553 5.6.7`: a UTF-8 address for an upstream without SMTPUTF8 (RFC 6531,
/// 3.5).
pub(crate) fn utf8_address_refused(upstream: &Upstream, address: &str) -> Reply {
    Reply::new(
        553,
        format!("5.6.7 <{address}> needs SMTPUTF8, which upstream {upstream} does not support"),
    )
}

/// `554 5.6.9`: UTF-8 headers for an upstream without SMTPUTF8 (RFC 6531,
/// 3.5).
pub(crate) fn utf8_headers_refused(upstream: &Upstream) -> Reply {
    Reply::new(
        554,
        format!("5.6.9 The message has UTF-8 headers (SMTPUTF8), which upstream {upstream} does not support"),
    )
}

/// What the upstream did with a message.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// The upstream decided for every recipient: `accepted` got the
    /// message, with `reply` its final reply; `refused` were permanently
    /// refused (5xx), each with its reply.
    Done {
        accepted: Vec<String>,
        refused: Vec<(String, Reply)>,
        reply: Option<Reply>,
    },
    /// Nothing was delivered, or whether it was is unknown: the client
    /// gets this `451` and tries the whole message again (a duplicate is
    /// better than a loss, RFC 5321, 6.1).
    Retry(Reply),
}

/// Relays `data` (already with `X-Peer`) from `envelope.mail_from` to
/// `recipients` in one upstream session.
pub(crate) async fn deliver(
    upstream: &Upstream,
    helo: &str,
    envelope: &Envelope,
    recipients: &[String],
    data: &[u8],
) -> Delivery {
    let mut client = match Client::open(upstream, helo).await {
        Ok(client) => client,
        Err(failure) => return Delivery::Retry(unavailable(upstream, &failure)),
    };
    let delivery = transaction(&mut client, upstream, envelope, recipients, data).await;
    // The outcome is known: the client's final reply need not wait for the
    // upstream's goodbye (which is bounded by the command timeout).
    tokio::spawn(client.quit());
    delivery
}

/// An upstream reply that was not a transient failure.
enum Answer {
    /// The expected reply.
    Yes,
    /// A permanent refusal (5xx).
    No(Reply),
}

/// Sends `line`; a network failure, a 4xx or an unexpected code becomes the
/// `451` for the client.
async fn step(client: &mut Client, upstream: &Upstream, line: &str, expected: u16) -> Result<Answer, Reply> {
    let reply = client
        .command(line)
        .await
        .map_err(|f| unavailable(upstream, &f))?;
    let wanted = if expected == 354 {
        reply.code() == 354
    } else {
        reply.is_positive()
    };
    if wanted {
        Ok(Answer::Yes)
    } else if reply.is_permanent() {
        Ok(Answer::No(reply))
    } else {
        Err(deferred(upstream, line, &reply))
    }
}

async fn transaction(
    client: &mut Client,
    upstream: &Upstream,
    envelope: &Envelope,
    recipients: &[String],
    data: &[u8],
) -> Delivery {
    let everyone = |reply: Reply| Delivery::Done {
        accepted: Vec::new(),
        refused: recipients.iter().map(|r| (r.clone(), reply.clone())).collect(),
        reply: None,
    };
    let utf8 = client.extensions.smtputf8;
    if envelope.smtputf8() && !utf8 {
        if !envelope.mail_from.is_ascii() {
            return everyone(utf8_address_refused(upstream, &envelope.mail_from));
        }
        if headers_need_utf8(data) {
            return everyone(utf8_headers_refused(upstream));
        }
    }
    let size = u64::try_from(data.len()).ok();
    let mail = mail_command(
        &envelope.mail_from,
        &envelope.mail_options,
        client.extensions,
        size,
    );
    match step(client, upstream, &mail, 250).await {
        Err(retry) => return Delivery::Retry(retry),
        Ok(Answer::No(reply)) => return everyone(reply),
        Ok(Answer::Yes) => {}
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for rcpt in recipients {
        if !rcpt.is_ascii() && !utf8 {
            refused.push((rcpt.clone(), utf8_address_refused(upstream, rcpt)));
            continue;
        }
        match step(client, upstream, &format!("RCPT TO:<{rcpt}>"), 250).await {
            // One recipient deferred: nobody gets the message now, so the
            // client's retry cannot duplicate it for the others.
            Err(retry) => return Delivery::Retry(retry),
            Ok(Answer::Yes) => accepted.push(rcpt.clone()),
            Ok(Answer::No(reply)) => refused.push((rcpt.clone(), reply)),
        }
    }
    if accepted.is_empty() {
        return Delivery::Done {
            accepted,
            refused,
            reply: None,
        };
    }
    match step(client, upstream, "DATA", 354).await {
        Err(retry) => return Delivery::Retry(retry),
        Ok(Answer::No(reply)) => {
            refused.extend(accepted.drain(..).map(|r| (r, reply.clone())));
            return Delivery::Done {
                accepted,
                refused,
                reply: None,
            };
        }
        Ok(Answer::Yes) => {}
    }
    match client.send_data(data).await {
        Err(failure) => Delivery::Retry(lost_after_data(upstream, &failure)),
        Ok(reply) if reply.is_positive() => Delivery::Done {
            accepted,
            refused,
            reply: Some(reply),
        },
        Ok(reply) if reply.is_permanent() => {
            refused.extend(accepted.drain(..).map(|r| (r, reply.clone())));
            Delivery::Done {
                accepted,
                refused,
                reply: None,
            }
        }
        Ok(reply) => Delivery::Retry(deferred(upstream, "the message", &reply)),
    }
}

/// The recipients of one message and what became of them, gathered from
/// one or more destinations, and the one reply that tells the client.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    delivered: usize,
    refused: Vec<(String, Reply)>,
    reply: Option<Reply>,
}

impl Outcome {
    /// `count` recipients got the message; `reply` (the destination's
    /// final reply) replaces the one before, so the upstream's, added last,
    /// is the one the client sees.
    pub(crate) fn delivered(&mut self, count: usize, reply: Option<Reply>) {
        self.delivered += count;
        if reply.is_some() {
            self.reply = reply;
        }
    }

    /// These recipients were refused for good.
    pub(crate) fn refused(&mut self, refused: impl IntoIterator<Item = (String, Reply)>) {
        self.refused.extend(refused);
    }

    /// Adds what the upstream did.
    pub(crate) fn add(&mut self, accepted: Vec<String>, refused: Vec<(String, Reply)>, reply: Option<Reply>) {
        self.delivered(accepted.len(), reply);
        self.refused(refused);
    }

    /// The final reply: the destination's positive reply when anyone got
    /// the message, with one more line per refused recipient; the refusal
    /// when nobody did (one line per recipient if they differ).
    pub(crate) fn reply(self) -> Reply {
        if self.delivered > 0 {
            let base = self.reply.unwrap_or_else(replies::ok);
            if self.refused.is_empty() {
                return base;
            }
            let total = self.delivered + self.refused.len();
            let mut lines = base.lines().to_vec();
            lines.push(format!(
                "Not delivered to {} of {total} recipients:",
                self.refused.len()
            ));
            lines.extend(self.refused.iter().map(|(rcpt, reply)| refusal_line(rcpt, reply)));
            return Reply::multiline(base.code(), lines);
        }
        let Some((_, first)) = self.refused.first() else {
            return Reply::new(554, "5.5.1 No valid recipients");
        };
        if self.refused.iter().all(|(_, reply)| reply == first) {
            return first.clone();
        }
        let lines = self.refused.iter().map(|(rcpt, reply)| refusal_line(rcpt, reply));
        Reply::multiline(first.code(), lines)
    }
}

fn refusal_line(rcpt: &str, reply: &Reply) -> String {
    format!("<{rcpt}> refused: {}", one_line(reply))
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
    fn utf8_headers() {
        assert!(headers_need_utf8("Subject: Grüße\r\n\r\nx\r\n".as_bytes()));
        assert!(!headers_need_utf8("Subject: x\r\n\r\nGrüße\r\n".as_bytes()));
    }

    #[test]
    fn mail_parameters_follow_the_upstream() {
        let options = [
            "BODY=8BITMIME".to_string(),
            "SMTPUTF8".to_string(),
            "SIZE=5".to_string(),
        ];
        let none = Extensions::default();
        assert_eq!(mail_command("a@b", &options, none, Some(9)), "MAIL FROM:<a@b>");
        let all = Extensions {
            eight_bit_mime: true,
            smtputf8: true,
            size: true,
        };
        assert_eq!(
            mail_command("<>", &options, all, Some(9)),
            "MAIL FROM:<> BODY=8BITMIME SMTPUTF8 SIZE=9"
        );
        assert_eq!(mail_command("a@b", &[], all, None), "MAIL FROM:<a@b>");
    }

    #[test]
    fn outcomes() {
        let refused = Reply::new(550, "5.1.1 No such user");
        let mut all_refused = Outcome::default();
        all_refused.refused([("a@x".into(), refused.clone()), ("b@x".into(), refused.clone())]);
        assert_eq!(all_refused.reply(), refused);

        let mut mixed = Outcome::default();
        mixed.refused([
            ("a@x".into(), refused.clone()),
            ("b@x".into(), Reply::new(553, "bad")),
        ]);
        assert_eq!(
            mixed.reply().to_string(),
            "550-<a@x> refused: 550 5.1.1 No such user\n550 <b@x> refused: 553 bad"
        );

        let mut partial = Outcome::default();
        partial.add(
            vec!["a@x".into()],
            vec![("b@x".into(), refused)],
            Some(Reply::new(250, "2.0.0 queued")),
        );
        assert_eq!(
            partial.reply().to_string(),
            "250-2.0.0 queued\n250-Not delivered to 1 of 2 recipients:\n250 <b@x> refused: 550 5.1.1 No such user"
        );
    }
}
