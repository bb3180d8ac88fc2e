//! Deliverability lint: what makes mail land in spam, get clipped or read
//! badly, beside the RFC lint (`lint()` stays about the RFCs). Opt-in:
//! nothing here is a protocol error. Each finding names its rule and the
//! source that asks for it. No feature needed: the DKIM rule reads the
//! signatures' `d=` tags, it does not verify them (`dkim()` does).

use std::fmt;

use html5gum::{DefaultEmitter, Token, Tokenizer};
use mail_parser::PartType;

use super::links::is_plain;
use super::message::ReceivedMessage;

/// Gmail clips a message whose HTML is over about 102 KB ("[Message
/// clipped] View entire message").
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// One deliverability problem of a message, from
/// [`ReceivedMessage::deliverability`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// The rule's short name, e.g. `html-without-text`.
    pub rule: &'static str,
    /// What was found, in words.
    pub message: String,
    /// Where the rule comes from (an RFC, a mailbox provider's guideline).
    pub source: &'static str,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} (source: {})", self.rule, self.message, self.source)
    }
}

impl Finding {
    fn new(rule: &'static str, source: &'static str, message: String) -> Finding {
        Finding {
            rule,
            message,
            source,
        }
    }
}

impl ReceivedMessage {
    /// The message's deliverability problems, for mail sent one at a time
    /// (transactional): rules `html-without-text`, `html-clipped`,
    /// `insecure-link`, `image-without-alt`, `from-not-aligned-with-dkim`.
    /// [`deliverability_as_bulk`](Self::deliverability_as_bulk) adds the
    /// bulk sender's unsubscribe rule.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "From: news@shop.example.com\r\n\
    ///      DKIM-Signature: v=1; a=rsa-sha256; d=mailer.example.net; s=s1; h=From; bh=x; b=y\r\n\
    ///      Content-Type: text/html\r\n\r\n\
    ///      <a href=\"http://shop.example.com/sale\">Sale</a> <img src=\"https://shop.example.com/logo.png\">\r\n",
    /// );
    /// let rules: Vec<&str> = message.deliverability().iter().map(|finding| finding.rule).collect();
    /// assert_eq!(rules, ["html-without-text", "insecure-link", "image-without-alt", "from-not-aligned-with-dkim"]);
    /// ```
    pub fn deliverability(&self) -> Vec<Finding> {
        let mut findings = Vec::new();
        let (html_parts, has_text) = self.bodies();
        if !html_parts.is_empty() && !has_text {
            findings.push(Finding::new(
                "html-without-text",
                "RFC 2046 5.1.4 (multipart/alternative); SpamAssassin MIME_HTML_ONLY",
                "the message has an HTML body and no text/plain alternative".to_string(),
            ));
        }
        let html_bytes: usize = html_parts.iter().map(String::len).sum();
        if html_bytes > GMAIL_CLIP_BYTES {
            findings.push(Finding::new(
                "html-clipped",
                "Gmail clips messages whose HTML is over about 102 KB",
                format!(
                    "the HTML is {html_bytes} bytes, over Gmail's {GMAIL_CLIP_BYTES}: Gmail will clip it"
                ),
            ));
        }
        let insecure: Vec<String> = self
            .links()
            .into_iter()
            .filter(|link| {
                link.url
                    .get(..5)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http:"))
            })
            .map(|link| link.url)
            .collect();
        if !insecure.is_empty() {
            findings.push(Finding::new(
                "insecure-link",
                "Google's email sender guidelines (links over HTTPS); browsers mark http: pages not secure",
                format!(
                    "{} http: link(s) where https: is expected: {}",
                    insecure.len(),
                    insecure.join(", ")
                ),
            ));
        }
        let without_alt: Vec<String> = html_parts
            .iter()
            .flat_map(|html| images_without_alt(html))
            .collect();
        if !without_alt.is_empty() {
            findings.push(Finding::new(
                "image-without-alt",
                "WCAG 2.1 1.1.1 (text alternatives); mail clients block images by default",
                format!(
                    "{} image(s) without alt text: {}",
                    without_alt.len(),
                    without_alt.join(", ")
                ),
            ));
        }
        if let Some(finding) = self.dkim_alignment() {
            findings.push(finding);
        }
        findings
    }

    /// [`deliverability`](Self::deliverability) for bulk mail (newsletters,
    /// marketing), plus rule `list-unsubscribe-one-click`: a
    /// `List-Unsubscribe` header with an https: URI and
    /// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "From: news@example.com\r\nList-Unsubscribe: <mailto:unsub@example.com>\r\n\r\nNews\r\n",
    /// );
    /// let findings = message.deliverability_as_bulk();
    /// assert!(findings.iter().any(|finding| finding.rule == "list-unsubscribe-one-click"));
    /// assert!(!message.deliverability().iter().any(|finding| finding.rule == "list-unsubscribe-one-click"));
    /// ```
    pub fn deliverability_as_bulk(&self) -> Vec<Finding> {
        let mut findings = self.deliverability();
        // As written: mail-parser's decoded form drops the angle brackets.
        let raw = |name: &str| {
            self.headers()
                .into_iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
        };
        let unsubscribe = raw("List-Unsubscribe");
        let post = raw("List-Unsubscribe-Post");
        let one_click = post
            .as_deref()
            .is_some_and(|post| post.trim().eq_ignore_ascii_case("List-Unsubscribe=One-Click"));
        let problem = match &unsubscribe {
            None => Some("bulk mail without a List-Unsubscribe header".to_string()),
            Some(value) if !value.to_ascii_lowercase().contains("<https:") => Some(format!(
                "List-Unsubscribe has no https: URI for one-click unsubscribe: {value}"
            )),
            Some(_) if !one_click => {
                Some("List-Unsubscribe without List-Unsubscribe-Post: List-Unsubscribe=One-Click".to_string())
            }
            Some(_) => None,
        };
        if let Some(problem) = problem {
            findings.push(Finding::new(
                "list-unsubscribe-one-click",
                "RFC 8058; Gmail and Yahoo bulk sender requirements (2024)",
                problem,
            ));
        }
        findings
    }

    /// The decoded HTML body parts, and whether a text/plain body exists.
    fn bodies(&self) -> (Vec<String>, bool) {
        let Some(parsed) = self.parsed() else {
            return (Vec::new(), false);
        };
        let mut html = Vec::new();
        let mut has_text = false;
        for (index, part) in parsed.parts.iter().enumerate() {
            if parsed.attachments.contains(&(index as u32)) {
                continue;
            }
            match &part.body {
                PartType::Html(markup) => html.push(markup.to_string()),
                PartType::Text(_) if is_plain(part) => has_text = true,
                _ => {}
            }
        }
        (html, has_text)
    }

    fn dkim_alignment(&self) -> Option<Finding> {
        let from = self.from()?;
        let from_domain = from.rsplit_once('@')?.1.to_ascii_lowercase();
        let signers: Vec<String> = self
            .headers()
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("DKIM-Signature"))
            .filter_map(|(_, value)| tag(value, "d"))
            .collect();
        if signers.iter().any(|domain| aligned(domain, &from_domain)) {
            return None;
        }
        let message = if signers.is_empty() {
            format!("no DKIM signature: nothing aligns with From's domain {from_domain}")
        } else {
            format!(
                "From's domain {from_domain} is not aligned with any DKIM signing domain (d={})",
                signers.join(", d=")
            )
        };
        Some(Finding::new(
            "from-not-aligned-with-dkim",
            "RFC 7489 3.1 (DMARC identifier alignment); Gmail and Yahoo sender requirements (2024)",
            message,
        ))
    }
}

/// The value of tag `name` in a `tag=value; ...` list (DKIM-Signature).
fn tag(value: &str, name: &str) -> Option<String> {
    value.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then(|| value.split_whitespace().collect::<String>().to_ascii_lowercase())
    })
}

/// Relaxed alignment (RFC 7489 3.1): the same organizational domain, taken
/// here as the last two labels (no public suffix list, so `co.uk` style
/// suffixes align too loosely).
pub(crate) fn aligned(domain: &str, from_domain: &str) -> bool {
    let organizational = |domain: &str| -> String {
        let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
        labels[labels.len().saturating_sub(2)..]
            .join(".")
            .to_ascii_lowercase()
    };
    !from_domain.is_empty() && organizational(domain) == organizational(from_domain)
}

/// The `src` of each `<img>` without an `alt` attribute (`alt=""`, which
/// marks a decorative image, is fine).
fn images_without_alt(html: &str) -> Vec<String> {
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut found = Vec::new();
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        if let Token::StartTag(tag) = token {
            if tag.name == b"img" && !tag.attributes.contains_key(b"alt".as_slice()) {
                let source = tag
                    .attributes
                    .get(b"src".as_slice())
                    .map(|src| String::from_utf8_lossy(&src.value).into_owned())
                    .unwrap_or_else(|| "(no src)".to_string());
                found.push(source);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{aligned, tag, GMAIL_CLIP_BYTES};
    use crate::{Envelope, ReceivedMessage};

    fn rules(data: &str, bulk: bool) -> Vec<&'static str> {
        let message = ReceivedMessage::new(Envelope::default(), data.to_string());
        let findings = if bulk {
            message.deliverability_as_bulk()
        } else {
            message.deliverability()
        };
        findings.iter().map(|finding| finding.rule).collect()
    }

    const SIGNED: &str =
        "From: a@example.com\r\nDKIM-Signature: v=1; d=Example.COM; s=s; h=from; bh=x; b=y\r\n";

    #[test]
    fn a_clean_message_has_no_findings() {
        let clean = format!(
            "{SIGNED}Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n\
             Hi https://example.com/\r\n--b\r\nContent-Type: text/html\r\n\r\n\
             <a href=\"https://example.com/\">Hi</a><img src=\"https://example.com/l.png\" alt=\"\">\r\n--b--\r\n"
        );
        assert_eq!(rules(&clean, false), Vec::<&str>::new());
        let bulk = format!(
            "List-Unsubscribe: <https://example.com/u?id=1>, <mailto:u@example.com>\r\n\
             List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n{clean}"
        );
        assert_eq!(rules(&bulk, true), Vec::<&str>::new());
    }

    #[test]
    fn each_rule_is_found() {
        let big = format!(
            "{SIGNED}Content-Type: text/html\r\n\r\n<p>{}</p>\r\n",
            "x".repeat(GMAIL_CLIP_BYTES)
        );
        assert!(rules(&big, false).contains(&"html-clipped"));
        let no_post = format!("{SIGNED}List-Unsubscribe: <https://example.com/u>\r\n\r\nx\r\n");
        assert_eq!(rules(&no_post, true), ["list-unsubscribe-one-click"]);
        assert_eq!(
            rules(&format!("{SIGNED}\r\nsee http://example.com/x\r\n"), false),
            ["insecure-link"]
        );
        assert_eq!(
            rules("From: a@example.com\r\n\r\nx\r\n", false),
            ["from-not-aligned-with-dkim"]
        );
    }

    #[test]
    fn tags_and_alignment() {
        assert_eq!(
            tag("v=1; d = Mail.Example.com ; s=x", "d").as_deref(),
            Some("mail.example.com")
        );
        assert_eq!(tag("v=1; s=x", "d"), None);
        assert!(aligned("mail.example.com", "example.com"));
        assert!(aligned("example.com", "shop.example.com"));
        assert!(!aligned("mailer.example.net", "shop.example.com"));
        assert!(!aligned("example.com", ""));
    }
}
