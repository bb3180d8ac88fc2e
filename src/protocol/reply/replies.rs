//! The standard replies, with the reference's texts.
//!
//! Keeping every fixed reply here means a reader can compare them with
//! Python's `smtpd` in one place.

use super::{quoting, Reply};

/// `250 OK`
pub const fn ok() -> Reply {
    Reply::from_static(250, "OK")
}
/// `221 Bye`
pub const fn bye() -> Reply {
    Reply::from_static(221, "Bye")
}
/// `354 End data with <CR><LF>.<CR><LF>`
pub const fn start_data() -> Reply {
    Reply::from_static(354, "End data with <CR><LF>.<CR><LF>")
}
/// `500 Error: bad syntax` (an empty command line).
pub const fn bad_syntax() -> Reply {
    Reply::from_static(500, "Error: bad syntax")
}
/// `500 Error: line too long`
pub const fn line_too_long() -> Reply {
    Reply::from_static(500, "Error: line too long")
}
/// `500 Error: command line is not valid UTF-8` (the reference closes the
/// connection instead).
pub const fn not_utf8_command() -> Reply {
    Reply::from_static(500, "Error: command line is not valid UTF-8")
}
/// `500 Error: command line contains a NUL byte`
pub const fn nul_in_command() -> Reply {
    Reply::from_static(500, "Error: command line contains a NUL byte")
}
/// `500 Error: command "X" not recognized`
pub fn unknown_command(verb: &str) -> Reply {
    quoting(500, format!("Error: command \"{verb}\" not recognized"))
}
/// `503 Duplicate HELO/EHLO`
pub const fn duplicate_helo() -> Reply {
    Reply::from_static(503, "Duplicate HELO/EHLO")
}
/// `503 Error: send HELO first`
pub const fn need_helo() -> Reply {
    Reply::from_static(503, "Error: send HELO first")
}
/// `503 Error: need MAIL command`
pub const fn need_mail() -> Reply {
    Reply::from_static(503, "Error: need MAIL command")
}
/// `503 Error: need RCPT command`
pub const fn need_rcpt() -> Reply {
    Reply::from_static(503, "Error: need RCPT command")
}
/// `503 Error: nested MAIL command`
pub const fn nested_mail() -> Reply {
    Reply::from_static(503, "Error: nested MAIL command")
}
/// `502 EXPN not implemented`
pub const fn expn_not_implemented() -> Reply {
    Reply::from_static(502, "EXPN not implemented")
}
/// `252 Cannot VRFY user, but will accept message and attempt delivery`
pub const fn cannot_vrfy() -> Reply {
    Reply::from_static(
        252,
        "Cannot VRFY user, but will accept message and attempt delivery",
    )
}
/// `502 Could not VRFY <arg>`
pub fn could_not_vrfy(arg: &str) -> Reply {
    quoting(502, format!("Could not VRFY {arg}"))
}
/// `501 Error: BODY can only be one of 7BIT, 8BITMIME`
pub const fn bad_body() -> Reply {
    Reply::from_static(501, "Error: BODY can only be one of 7BIT, 8BITMIME")
}
/// `501 Error: SMTPUTF8 takes no arguments`
pub const fn smtputf8_takes_no_arguments() -> Reply {
    Reply::from_static(501, "Error: SMTPUTF8 takes no arguments")
}
/// `552 Error: message size exceeds fixed maximum message size`
pub const fn size_exceeds_limit() -> Reply {
    Reply::from_static(552, "Error: message size exceeds fixed maximum message size")
}
/// `552 Error: Too much mail data`
pub const fn too_much_data() -> Reply {
    Reply::from_static(552, "Error: Too much mail data")
}
/// `250 OK <n> octets received`: a BDAT chunk that is not the last.
pub fn chunk_received(size: u64) -> Reply {
    Reply::new(250, format!("OK {size} octets received"))
}
/// `503 Error: the message is being sent with BDAT`: DATA or RCPT
/// after a BDAT chunk (RFC 3030, 3: DATA and BDAT do not mix).
pub const fn bdat_in_progress() -> Reply {
    Reply::from_static(503, "Error: the message is being sent with BDAT")
}
/// `503 Error: BODY=BINARYMIME needs BDAT` (RFC 3030, 3).
pub const fn binarymime_needs_bdat() -> Reply {
    Reply::from_static(503, "Error: BODY=BINARYMIME needs BDAT")
}
/// `501 Error: BODY can only be one of 7BIT, 8BITMIME, BINARYMIME`:
/// [`bad_body`] when CHUNKING is on.
pub const fn bad_body_with_binarymime() -> Reply {
    Reply::from_static(501, "Error: BODY can only be one of 7BIT, 8BITMIME, BINARYMIME")
}
/// `501 Error: REQUIRETLS takes no arguments`
pub const fn requiretls_takes_no_arguments() -> Reply {
    Reply::from_static(501, "Error: REQUIRETLS takes no arguments")
}
/// `555 MAIL FROM parameters not recognized or not implemented`
pub const fn mail_params_not_recognized() -> Reply {
    Reply::from_static(555, "MAIL FROM parameters not recognized or not implemented")
}
/// `501 5.5.4 ...`: a DSN parameter that breaks RFC 3461 (`detail`
/// says how).
pub fn bad_dsn_parameter(detail: &str) -> Reply {
    Reply::new(501, format!("5.5.4 Invalid DSN parameter: {detail}"))
}
/// `555 RCPT TO parameters not recognized or not implemented`
pub const fn rcpt_params_not_recognized() -> Reply {
    Reply::from_static(555, "RCPT TO parameters not recognized or not implemented")
}
/// `553 Error: non-ASCII address requires SMTPUTF8` (RFC 6531, 3.4; the
/// reference accepts such addresses without the parameter).
pub const fn non_ascii_address() -> Reply {
    Reply::from_static(553, "Error: non-ASCII address requires SMTPUTF8")
}
/// `452 Error: too many recipients`
pub const fn too_many_recipients() -> Reply {
    Reply::from_static(452, "Error: too many recipients")
}
/// `554 Error: message data is not valid UTF-8` (with `decode_data`;
/// the reference drops the connection instead).
pub const fn data_not_utf8() -> Reply {
    Reply::from_static(554, "Error: message data is not valid UTF-8")
}
/// `535 5.7.8 Authentication credentials invalid`: what the default
/// `Handler::on_auth` answers.
pub const fn auth_invalid() -> Reply {
    Reply::from_static(535, "5.7.8 Authentication credentials invalid")
}
/// `501 5.5.2 Error: malformed authentication response` (not base64, or
/// not what the mechanism expects).
pub const fn malformed_auth_response() -> Reply {
    Reply::from_static(501, "5.5.2 Error: malformed authentication response")
}
/// `501 5.7.0 Authentication cancelled`: the client answered `*`
/// (RFC 4954, 4).
pub const fn auth_cancelled() -> Reply {
    Reply::from_static(501, "5.7.0 Authentication cancelled")
}
/// `554 5.5.1 No valid recipients`: a relayed message that reached
/// nobody, with no refusal to quote.
pub const fn no_valid_recipients() -> Reply {
    Reply::from_static(554, "5.5.1 No valid recipients")
}
/// `451 4.4.1 The upstream transaction is no longer open; try again
/// later`: a per-recipient proxy whose upstream session has ended.
pub const fn upstream_transaction_closed() -> Reply {
    Reply::from_static(
        451,
        "4.4.1 The upstream transaction is no longer open; try again later",
    )
}
/// `451 4.3.0 The local handler closed the session; try again later`:
/// a routing proxy's local handler disconnected without a reply.
pub const fn local_handler_closed() -> Reply {
    Reply::from_static(451, "4.3.0 The local handler closed the session; try again later")
}
/// `451 4.3.0 The local handler sent no reply; try again later`: a
/// routing proxy's local handler answered with raw bytes, which mean
/// nothing for a relayed message.
pub const fn local_handler_no_reply() -> Reply {
    Reply::from_static(451, "4.3.0 The local handler sent no reply; try again later")
}
/// `421 <host> Error: too many invalid commands, closing connection`
pub fn too_many_errors(hostname: &str) -> Reply {
    Reply::new(
        421,
        format!("{hostname} Error: too many invalid commands, closing connection"),
    )
}
/// `421 <host> Error: timeout exceeded, closing connection`
pub fn timeout(hostname: &str) -> Reply {
    Reply::new(
        421,
        format!("{hostname} Error: timeout exceeded, closing connection"),
    )
}
/// `421 <host> Error: too many connections, try again later`
pub fn too_many_connections(hostname: &str) -> Reply {
    Reply::new(
        421,
        format!("{hostname} Error: too many connections, try again later"),
    )
}
/// `530 5.7.0 Must issue a STARTTLS command first`
pub const fn must_starttls() -> Reply {
    Reply::from_static(530, "5.7.0 Must issue a STARTTLS command first")
}
/// `421 <host> Service shutting down, closing connection`
pub fn shutting_down(hostname: &str) -> Reply {
    Reply::new(
        421,
        format!("{hostname} Service shutting down, closing connection"),
    )
}
/// `500 Error: this is an LMTP server, send LHLO instead of <verb>`:
/// HELO or EHLO in LMTP (RFC 2033, 4.1: never a 2xx, 500 recommended).
pub fn lmtp_needs_lhlo(verb: &str) -> Reply {
    Reply::new(
        500,
        format!("Error: this is an LMTP server, send LHLO instead of {verb}"),
    )
}
/// `503 Error: send LHLO first`: [`need_helo`] in LMTP.
pub const fn need_lhlo() -> Reply {
    Reply::from_static(503, "Error: send LHLO first")
}

// The session's own fixed replies (part session of #14).

/// `220 <host> <banner>`: the greeting.
pub fn greeting(hostname: &str, banner: &str) -> Reply {
    // Once per connection: one allocation, no formatting machinery.
    let mut text = String::with_capacity(hostname.len() + 1 + banner.len());
    text.push_str(hostname);
    text.push(' ');
    text.push_str(banner);
    Reply::from_string(220, text)
}
/// `501 Syntax: <usage>`: a command with bad arguments.
pub fn syntax(usage: &str) -> Reply {
    Reply::from_string(501, format!("Syntax: {usage}"))
}
/// `503 Error: no service, send QUIT`: after a `554` greeting.
pub const fn no_service() -> Reply {
    Reply::from_static(503, "Error: no service, send QUIT")
}
/// `220 2.0.0 Ready to start TLS`
pub const fn ready_to_start_tls() -> Reply {
    Reply::from_static(220, "2.0.0 Ready to start TLS")
}
/// `503 5.5.1 Error: TLS already active`
pub const fn tls_already_active() -> Reply {
    Reply::from_static(503, "5.5.1 Error: TLS already active")
}
/// `235 2.7.0 Authentication successful`
pub const fn auth_succeeded() -> Reply {
    Reply::from_static(235, "2.7.0 Authentication successful")
}
/// `530 5.7.0 Authentication required`: MAIL before AUTH when it is
/// required.
pub const fn auth_required() -> Reply {
    Reply::from_static(530, "5.7.0 Authentication required")
}
/// `503 5.5.1 Error: send EHLO first`: AUTH after HELO.
pub const fn need_ehlo() -> Reply {
    Reply::from_static(503, "5.5.1 Error: send EHLO first")
}
/// `503 5.5.1 Error: already authenticated`
pub const fn already_authenticated() -> Reply {
    Reply::from_static(503, "5.5.1 Error: already authenticated")
}
/// `503 5.5.1 Error: AUTH not permitted during a mail transaction`
pub const fn auth_in_transaction() -> Reply {
    Reply::from_static(503, "5.5.1 Error: AUTH not permitted during a mail transaction")
}
/// `538 5.7.11 Encryption required for requested authentication mechanism`
pub const fn auth_needs_tls() -> Reply {
    Reply::from_static(
        538,
        "5.7.11 Encryption required for requested authentication mechanism",
    )
}
/// `504 5.5.4 Unrecognized authentication type`
pub const fn unknown_auth_mechanism() -> Reply {
    Reply::from_static(504, "5.5.4 Unrecognized authentication type")
}
