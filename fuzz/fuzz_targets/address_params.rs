//! The path parser (`protocol::address`) and the MAIL/RCPT parameter parser
//! (`protocol::params`) on any text (the input, as UTF-8).
//!
//! Oracles: an accepted address follows RFC 5321's Mailbox grammar (with the
//! leniencies the module documents, checked by an independent `rfc` module);
//! a mailbox is judged the same bare and in angle brackets; a reported
//! address parses back to itself; parameters parse back to themselves and
//! SIZE holds the number given (u64::MAX when larger).

#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_fixture::fuzzing::{parse_path, Param, Params, NULL_PATH};
use smtp_fixture_fuzz::rfc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_path(text);
    check_bare_and_bracketed_agree(text);
    check_params(text);
});

fn check_path(text: &str) {
    let Some(path) = parse_path(text) else {
        return;
    };
    assert!(
        text.trim_end().ends_with(path.rest),
        "rest {:?} is not the end of {text:?}",
        path.rest
    );
    assert_eq!(path.rest, path.rest.trim(), "rest {:?} not trimmed", path.rest);
    if path.address == NULL_PATH {
        return;
    }
    assert!(
        rfc::is_mailbox(&path.address),
        "accepted {:?} (from {text:?}), which RFC 5321's Mailbox grammar refuses",
        path.address
    );
    assert_eq!(path.is_ascii(), path.address.is_ascii());
    let wrapped = format!("<{}>", path.address);
    let again = parse_path(&wrapped);
    assert_eq!(
        again.as_ref().map(|p| (p.address, p.rest)),
        Some((path.address, "")),
        "the reported address {:?} does not parse back to itself",
        path.address
    );
}

/// `MAIL FROM:a@b` and `MAIL FROM:<a@b>` name the same mailbox: one rule
/// for both (the bare form is the reference's leniency).
fn check_bare_and_bracketed_agree(text: &str) {
    let bare_candidate =
        !text.is_empty() && !text.starts_with(['<', '@']) && !text.chars().any(char::is_whitespace);
    if !bare_candidate {
        return;
    }
    let bare = parse_path(text).map(|p| p.address);
    let wrapped = format!("<{text}>");
    let bracketed = parse_path(&wrapped)
        .filter(|p| p.rest.is_empty())
        .map(|p| p.address);
    assert_eq!(
        bare, bracketed,
        "{text:?} bare and <{text}> in brackets are judged differently"
    );
}

fn check_params(text: &str) {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let Ok(params) = Params::parse(text) else {
        let any_bad = tokens.iter().any(|t| !rfc::is_esmtp_param_shape(t));
        assert!(
            any_bad,
            "{text:?} refused, but every parameter is keyword[=value]"
        );
        return;
    };
    assert_eq!(params.raw.len(), tokens.len(), "{text:?}");
    assert_eq!(params.parsed.len(), tokens.len(), "{text:?}");
    for (raw, parsed) in params.raw.iter().zip(&params.parsed) {
        assert!(rfc::is_esmtp_param_shape(raw), "{raw:?} accepted from {text:?}");
        if let Param::Size(size) = parsed {
            let digits = raw.strip_prefix("SIZE=").expect("SIZE=");
            assert!(
                digits.bytes().all(|b| b.is_ascii_digit()),
                "{raw:?} read as a size"
            );
            assert_eq!(*size, digits.parse().unwrap_or(u64::MAX), "{raw:?}");
        }
    }
    let again = Params::parse(&params.raw.join(" "));
    assert_eq!(
        again.as_ref(),
        Ok(&params),
        "{text:?}: the parameters do not parse back to themselves"
    );
}
