//! Relaying one finished message upstream in one session: EHLO, MAIL, one
//! RCPT per recipient, DATA, the message.

use super::super::x_peer::headers_need_utf8;
use super::mail::mail_command;
use super::replies::{deferred, lost_after_data, unavailable, utf8_address_refused, utf8_headers_refused};
use crate::client::{Client, Extensions, Upstream};
use crate::protocol::{Envelope, Reply};

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

impl Delivery {
    /// Nobody got the message: those still `accepted` are refused with
    /// `reply` too.
    fn refused(accepted: Vec<String>, mut refused: Vec<(String, Reply)>, reply: &Reply) -> Delivery {
        refused.extend(accepted.into_iter().map(|r| (r, reply.clone())));
        Delivery::Done {
            accepted: Vec::new(),
            refused,
            reply: None,
        }
    }
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
    if let Some(refusal) = needs_smtputf8(client.extensions, upstream, envelope, data) {
        return Delivery::refused(recipients.to_vec(), Vec::new(), &refusal);
    }
    match send_mail_from(client, upstream, envelope, data.len()).await {
        Err(retry) => return Delivery::Retry(retry),
        Ok(Answer::No(reply)) => return Delivery::refused(recipients.to_vec(), Vec::new(), &reply),
        Ok(Answer::Yes) => {}
    }
    let (accepted, refused) = match send_recipients(client, upstream, recipients).await {
        Err(retry) => return Delivery::Retry(retry),
        Ok(answered) => answered,
    };
    if accepted.is_empty() {
        return Delivery::Done {
            accepted,
            refused,
            reply: None,
        };
    }
    send_message(client, upstream, data, accepted, refused).await
}

/// The refusal for the whole message when it needs SMTPUTF8 (a UTF-8
/// sender or headers) and the upstream lacks it.
fn needs_smtputf8(
    upstream_has: Extensions,
    upstream: &Upstream,
    envelope: &Envelope,
    data: &[u8],
) -> Option<Reply> {
    if !envelope.smtputf8() || upstream_has.smtputf8 {
        return None;
    }
    if !envelope.mail_from.is_ascii() {
        return Some(utf8_address_refused(upstream, &envelope.mail_from));
    }
    headers_need_utf8(data).then(|| utf8_headers_refused(upstream))
}

/// `MAIL FROM` with the parameters the upstream understands.
async fn send_mail_from(
    client: &mut Client,
    upstream: &Upstream,
    envelope: &Envelope,
    size: usize,
) -> Result<Answer, Reply> {
    let size = u64::try_from(size).ok();
    let mail = mail_command(
        &envelope.mail_from,
        &envelope.mail_options,
        client.extensions,
        size,
    );
    step(client, upstream, &mail, 250).await
}

/// One `RCPT TO` per recipient: the accepted and the refused ones, or the
/// `451` when one was deferred.
async fn send_recipients(
    client: &mut Client,
    upstream: &Upstream,
    recipients: &[String],
) -> Result<(Vec<String>, Vec<(String, Reply)>), Reply> {
    let utf8 = client.extensions.smtputf8;
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for rcpt in recipients {
        if !rcpt.is_ascii() && !utf8 {
            refused.push((rcpt.clone(), utf8_address_refused(upstream, rcpt)));
            continue;
        }
        // One recipient deferred: nobody gets the message now, so the
        // client's retry cannot duplicate it for the others (the `?`).
        match step(client, upstream, &format!("RCPT TO:<{rcpt}>"), 250).await? {
            Answer::Yes => accepted.push(rcpt.clone()),
            Answer::No(reply) => refused.push((rcpt.clone(), reply)),
        }
    }
    Ok((accepted, refused))
}

/// `DATA` and the message, for the `accepted` recipients.
async fn send_message(
    client: &mut Client,
    upstream: &Upstream,
    data: &[u8],
    accepted: Vec<String>,
    refused: Vec<(String, Reply)>,
) -> Delivery {
    match step(client, upstream, "DATA", 354).await {
        Err(retry) => return Delivery::Retry(retry),
        Ok(Answer::No(reply)) => return Delivery::refused(accepted, refused, &reply),
        Ok(Answer::Yes) => {}
    }
    match client.send_data(data).await {
        Err(failure) => Delivery::Retry(lost_after_data(upstream, &failure)),
        Ok(reply) if reply.is_positive() => Delivery::Done {
            accepted,
            refused,
            reply: Some(reply),
        },
        Ok(reply) if reply.is_permanent() => Delivery::refused(accepted, refused, &reply),
        Ok(reply) => Delivery::Retry(deferred(upstream, "the message", &reply)),
    }
}
