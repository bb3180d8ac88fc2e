//! Independent statements of the RFC 5321 grammar the parsers implement,
//! with the leniencies `protocol::address` documents (a mailbox without a
//! domain, empty atoms between dots, `_` in domain labels, and UTF-8 where
//! RFC 6531 allows it), to check what they accept.

/// `Mailbox = Local-part ["@" (Domain / address-literal)]` (RFC 5321,
/// 4.1.2; the domain optional as in `<postmaster>`).
pub fn is_mailbox(mailbox: &str) -> bool {
    let (local, domain) = if mailbox.starts_with('"') {
        let Some(length) = quoted_string_length(mailbox) else {
            return false;
        };
        match &mailbox[length..] {
            "" => (&mailbox[..length], None),
            rest => match rest.strip_prefix('@') {
                Some(domain) => (&mailbox[..length], Some(domain)),
                None => return false,
            },
        }
    } else {
        match mailbox.split_once('@') {
            Some((local, domain)) => (local, Some(domain)),
            None => (mailbox, None),
        }
    };
    let local_ok = local.starts_with('"') || is_dot_string(local);
    local_ok && domain.is_none_or(|d| is_domain(d) || is_address_literal(d))
}

/// The length of the `Quoted-string` at the start of `text`:
/// `DQUOTE *(qtextSMTP / quoted-pairSMTP) DQUOTE`, where
/// `qtextSMTP = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii` and
/// `quoted-pairSMTP = %d92 %d32-126`.
fn quoted_string_length(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().skip(1);
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some(index + 1),
            '\\' => match chars.next() {
                Some((_, quoted)) if (' '..='~').contains(&quoted) => {}
                _ => return None,
            },
            ' ' | '!' | '#'..='[' | ']'..='~' => {}
            c if !c.is_ascii() => {}
            _ => return None,
        }
    }
    None
}

/// `Dot-string = Atom *("." Atom)`, empty atoms tolerated (not `.` alone).
fn is_dot_string(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    !local.is_empty() && local != "." && local.chars().all(|c| c == '.' || atext(c))
}

/// `Domain = sub-domain *("." sub-domain)`, letters, digits, `-`, `_`, UTF-8.
fn is_domain(domain: &str) -> bool {
    domain.split('.').all(|label| {
        !label.is_empty()
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii())
    })
}

/// `"[" 1*dcontent "]"`, `dcontent = %d33-90 / %d94-126` (the general form
/// of 4.1.3, which holds the IPv4 and IPv6 forms).
fn is_address_literal(domain: &str) -> bool {
    let Some(inner) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) else {
        return false;
    };
    !inner.is_empty() && inner.chars().all(|c| matches!(c, '!'..='Z' | '^'..='~'))
}

/// `keyword[=value]` with `esmtp-keyword = (ALPHA / DIGIT) *(ALPHA /
/// DIGIT / "-")` and a non-empty value.
pub fn is_esmtp_param_shape(param: &str) -> bool {
    let (keyword, value) = match param.split_once('=') {
        Some((keyword, value)) => (keyword, Some(value)),
        None => (param, None),
    };
    let mut chars = keyword.chars();
    let keyword_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    keyword_ok && value != Some("")
}
