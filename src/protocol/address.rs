//! Reverse and forward paths (RFC 5321, section 4.1.2).
//!
//! The parser accepts what RFC 5321 allows plus the leniencies of the
//! reference that real clients rely on: a path without angle brackets
//! (`MAIL FROM:eggs@example`), a mailbox without a domain (`<postmaster>`),
//! spaces after the colon, parameters glued to the closing `>`. It refuses
//! what the reference crashes on or silently rewrites (`<a b@c>`, `<a@b`,
//! `a@`, comments).

/// A path parsed out of a `MAIL FROM:` or `RCPT TO:` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path<'a> {
    /// The mailbox as the reference reports it: `user@example.com`,
    /// `"Fred Blogs"@example.com`, or `<>` for the null reverse path.
    /// Borrowed from the argument, so that the session can keep it in the
    /// argument's own allocation.
    pub address: &'a str,
    /// Whatever follows the path: the ESMTP parameters.
    pub rest: &'a str,
}

impl Path<'_> {
    /// `<>`, the null reverse path of bounces.
    pub fn is_null(&self) -> bool {
        self.address == NULL_PATH
    }

    /// Whether the address has a byte outside ASCII (needs SMTPUTF8).
    pub fn is_ascii(&self) -> bool {
        self.address.is_ascii()
    }
}

/// How the null reverse path is reported, as the reference reports it.
pub const NULL_PATH: &str = "<>";

/// Parses the path at the start of `arg` (the text after `FROM:`/`TO:`,
/// leading white space allowed). Returns `None` when it is not a path.
pub fn parse_path(arg: &str) -> Option<Path<'_>> {
    let arg = arg.trim_start();
    if let Some(inner) = arg.strip_prefix('<') {
        let close = find_unquoted_byte(inner, b'>')?;
        let content = &inner[..close];
        let rest = inner[close + 1..].trim();
        if content.is_empty() {
            // `<>` as sent: the two bytes before the rest.
            return Some(Path {
                address: &arg[..2],
                rest,
            });
        }
        let mailbox = strip_source_route(content)?;
        check_mailbox(mailbox)?;
        Some(Path {
            address: mailbox,
            rest,
        })
    } else {
        let end = find_unquoted(arg, char::is_whitespace).unwrap_or(arg.len());
        let mailbox = &arg[..end];
        check_mailbox(mailbox)?;
        Some(Path {
            address: mailbox,
            rest: arg[end..].trim(),
        })
    }
}

/// `@relay1,@relay2:user@example.com` → `user@example.com` (RFC 5321 says
/// to accept and ignore source routes).
fn strip_source_route(content: &str) -> Option<&str> {
    if !content.starts_with('@') {
        return Some(content);
    }
    let colon = content.find(':')?;
    let route = &content[..colon];
    let hops_ok = route
        .split(',')
        .all(|hop| hop.strip_prefix('@').is_some_and(is_domain));
    hops_ok.then_some(&content[colon + 1..])
}

/// The byte index of the first char matching `stop` outside a quoted string.
fn find_unquoted(text: &str, stop: impl Fn(char) -> bool) -> Option<usize> {
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && stop(c) {
            return Some(index);
        }
    }
    None
}

/// [`find_unquoted`] for an ASCII `stop`, by byte: quotes and backslashes
/// are ASCII, and no byte of a non-ASCII character is.
fn find_unquoted_byte(text: &str, stop: u8) -> Option<usize> {
    // Before the first quote a backslash means nothing: the first `stop`
    // or quote decides, and most paths have no quote at all. (A plain loop:
    // paths are short, and `memchr2` costs more to set up than it saves.)
    let bytes = text.as_bytes();
    let first = bytes.iter().position(|&c| c == stop || c == b'"')?;
    if bytes[first] == stop {
        return Some(first);
    }
    let mut in_quotes = false;
    let mut escaped = false;
    for (index, &c) in bytes.iter().enumerate().skip(first) {
        if escaped {
            // A backslash escapes a whole character; the continuation
            // bytes of a non-ASCII one match nothing below anyway.
            escaped = false;
        } else if in_quotes && c == b'\\' {
            escaped = true;
        } else if c == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && c == stop {
            return Some(index);
        }
    }
    None
}

fn check_mailbox(mailbox: &str) -> Option<()> {
    let (local, domain) = split_local_part(mailbox)?;
    let local_ok = if local.starts_with('"') {
        is_quoted_string(local)
    } else {
        is_dot_string(local)
    };
    if !local_ok {
        return None;
    }
    match domain {
        None => Some(()),
        Some(domain) if is_domain(domain) || is_address_literal(domain) => Some(()),
        Some(_) => None,
    }
}

/// Splits at the `@` that follows the local part (a quoted local part may
/// hold `@`).
fn split_local_part(mailbox: &str) -> Option<(&str, Option<&str>)> {
    if mailbox.is_empty() {
        return None;
    }
    match find_unquoted_byte(mailbox, b'@') {
        Some(at) => Some((&mailbox[..at], Some(&mailbox[at + 1..]))),
        None => Some((mailbox, None)),
    }
}

/// RFC 5322's atext, by byte: every byte of a non-ASCII character is 0x80
/// or above, so a byte test says the same as a test of each character.
const fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        )
        || !c.is_ascii()
}

/// Atoms separated by dots; consecutive or leading dots are tolerated, as
/// the reference and most MTAs tolerate them.
fn is_dot_string(local: &str) -> bool {
    !local.is_empty()
        && local
            .bytes()
            .all(|c| c == b'.' || BYTE_CLASSES[usize::from(c)] & ATEXT != 0)
        && local != "."
}

fn is_quoted_string(local: &str) -> bool {
    let Some(inner) = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')) else {
        return false;
    };
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            // quoted-pairSMTP: a backslash escapes only 32-126 (RFC 5321,
            // 4.1.2), never a control character or a bare CR or LF.
            if !matches!(c, ' '..='~') {
                return false;
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' || c.is_control() {
            return false;
        }
    }
    !escaped
}

/// Labels of letters, digits, `-`, `_` or non-ASCII characters, none
/// empty; one pass over the bytes (every byte of a non-ASCII character is
/// 0x80 or above).
fn is_domain(domain: &str) -> bool {
    let mut label = 0usize;
    for &c in domain.as_bytes() {
        if c == b'.' {
            if label == 0 {
                return false;
            }
            label = 0;
        } else if BYTE_CLASSES[usize::from(c)] & LABEL != 0 {
            label += 1;
        } else {
            return false;
        }
    }
    label > 0
}

/// A byte of atext (see [`is_atext`]).
const ATEXT: u8 = 1;
/// A byte of a domain label: a letter, digit, `-`, `_`, or non-ASCII.
const LABEL: u8 = 2;

/// What each byte may be, looked up once per byte instead of a chain of
/// comparisons: paths are checked on every MAIL and RCPT.
static BYTE_CLASSES: [u8; 256] = {
    let mut classes = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        // `byte` is below 256: the cast keeps it whole.
        #[allow(clippy::cast_possible_truncation)]
        let c = byte as u8;
        if is_atext(c) {
            classes[byte] |= ATEXT;
        }
        if c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || !c.is_ascii() {
            classes[byte] |= LABEL;
        }
        byte += 1;
    }
    classes
};

/// `[...]`: RFC 5321's dcontent, less `<`, `>` and `"`, which would end an
/// angle-bracketed path early or open a quoted string in it: `a@[>]` and
/// `a@["]` are refused with or without brackets.
fn is_address_literal(domain: &str) -> bool {
    domain
        .strip_prefix('[')
        .and_then(|d| d.strip_suffix(']'))
        .is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !matches!(c, '[' | ']' | '\\' | '<' | '>' | '"'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_table_says_what_the_byte_rules_say() {
        for c in 0..=u8::MAX {
            let class = BYTE_CLASSES[usize::from(c)];
            assert_eq!(class & ATEXT != 0, is_atext(c), "atext {c:#x}");
            let label = c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || !c.is_ascii();
            assert_eq!(class & LABEL != 0, label, "label {c:#x}");
        }
    }

    /// The byte-wise checks against the rules as first written, by
    /// character (#16).
    #[test]
    fn byte_checks_say_what_the_character_rules_say() {
        let domain_by_char = |domain: &str| {
            !domain.is_empty()
                && domain.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || !c.is_ascii())
                })
        };
        let samples = [
            "",
            ".",
            "a",
            "a.",
            ".a",
            "a..b",
            "a.b",
            "examplé.com",
            "a_b-c.d",
            "a b",
            "a@b",
            "é",
            "ß.",
            "a.\u{2003}",
            "[1.2.3.4]",
            "a\"b",
            "!#$%&'*+-/=?^_`{|}~",
            "a.b.c.d.e",
            "x\u{0}y",
            "\"a@b\"@c>",
            "\"a\\\"b\"@c",
            "\"é\\é@\">x@y",
            "\\@a",
            "a@\"b\">",
            "a\"@\"@b>c",
            "\"a>\\\">\">x",
        ];
        for text in samples {
            assert_eq!(is_domain(text), domain_by_char(text), "is_domain({text:?})");
            let dot_string_by_char = !text.is_empty()
                && text.chars().all(|c| {
                    c == '.'
                        || c.is_ascii_alphanumeric()
                        || "!#$%&'*+-/=?^_`{|}~".contains(c)
                        || !c.is_ascii()
                })
                && text != ".";
            assert_eq!(is_dot_string(text), dot_string_by_char, "is_dot_string({text:?})");
            for stop in ['@', '>'] {
                let by_byte = find_unquoted_byte(text, u8::try_from(stop).unwrap());
                assert_eq!(
                    by_byte,
                    find_unquoted(text, |c| c == stop),
                    "find_unquoted({text:?}, {stop:?})"
                );
            }
        }
    }

    #[test]
    fn accepted_paths() {
        let cases = [
            ("<foo@example.com>", "foo@example.com", ""),
            ("<>", "<>", ""),
            ("<> SIZE=10", "<>", "SIZE=10"),
            ("\"Fred Blogs\"@example.com", "\"Fred Blogs\"@example.com", ""),
            (
                "<\"Fred Blogs\"@example.com> SIZE=1000",
                "\"Fred Blogs\"@example.com",
                "SIZE=1000",
            ),
            (
                "\"Fred Blogs\"@example.com SIZE=1000",
                "\"Fred Blogs\"@example.com",
                "SIZE=1000",
            ),
            ("eggs@example", "eggs@example", ""),
            ("eggs", "eggs", ""),
            ("<postmaster>", "postmaster", ""),
            ("naïve@examplé", "naïve@examplé", ""),
            ("<a@b>SIZE=10", "a@b", "SIZE=10"),
            ("a@b SIZE=10  BODY=8BITMIME", "a@b", "SIZE=10  BODY=8BITMIME"),
            ("<@route,@other:a@b>", "a@b", ""),
            ("<a@[127.0.0.1]>", "a@[127.0.0.1]", ""),
            ("<a@[IPv6:::1]>", "a@[IPv6:::1]", ""),
            ("   <a@b>", "a@b", ""),
            ("<\"a\\\"b\"@c>", "\"a\\\"b\"@c", ""),
            ("<\"a@b\"@c>", "\"a@b\"@c", ""),
            ("<\"a\\ b\\~\"@c>", "\"a\\ b\\~\"@c", ""),
            ("<a..b@c>", "a..b@c", ""),
            ("<a@b> <c@d>", "a@b", "<c@d>"),
        ];
        for (arg, address, rest) in cases {
            let path = parse_path(arg).unwrap_or_else(|| panic!("{arg:?} refused"));
            assert_eq!((path.address, path.rest), (address, rest), "{arg:?}");
        }
    }

    #[test]
    fn refused_paths() {
        for arg in [
            "",
            "<",
            "<a@b",
            "<a b@c>",
            "a@",
            "<a@>",
            "@b",
            "<@b>",
            "<a@b@c>",
            "<<a@b>>",
            "<a@b.c.>",
            "<a(comment)@b>",
            "<a\u{0}b@c>",
            "<\"unterminated@c>",
            "<.>",
            "<a@[]>",
            "<@x a@b>",
            "<\"a\\\u{b}b\"@example.com>",
            "\"a\\\rb\"@example.com",
            "<\"a\\\nb\"@example.com>",
            "<\"a\\\u{7f}b\"@example.com>",
            "a@[>]",
            "<a@[>]>",
            "a@[<1]",
            "a@[\"]",
            "<a@[\"]>",
        ] {
            assert_eq!(parse_path(arg), None, "{arg:?} should be refused");
        }
    }

    #[test]
    fn null_and_ascii() {
        assert!(parse_path("<>").unwrap().is_null());
        assert!(!parse_path("<a@b>").unwrap().is_null());
        assert!(!parse_path("<ä@b>").unwrap().is_ascii());
    }
}

/// The examples that were in the documentation before the module became
/// private, kept as tests.
#[cfg(test)]
mod examples {
    #[test]
    fn parse_path() {
        use crate::protocol::address::parse_path;
        let path = parse_path("<ann@example.com> SIZE=100").unwrap();
        assert_eq!(path.address, "ann@example.com");
        assert_eq!(path.rest, "SIZE=100");
        assert!(parse_path("<a b@example.com>").is_none());
    }
}
