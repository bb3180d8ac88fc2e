//! The links in a received message: what a test follows from a sign-up or
//! password-reset mail.
//!
//! HTML parts are read with a real HTML tokenizer (`html5gum`: character
//! references decoded, `<style>` and `<script>` contents skipped as the
//! spec says) and URLs with the WHATWG URL parser (`url`, which lettre
//! already brings). Plain-text parts are scanned for bare `http://` and
//! `https://` URLs. Both read the transfer-decoded text, so a URL that
//! quoted-printable broke over two lines comes back whole.

use std::fmt;

use mail_parser::{MessagePart, MimeHeaders, PartType};
use url::Url;

use super::message::ReceivedMessage;
use extract::{html_links, text_links};

mod extract;
#[cfg(test)]
mod tests;

/// Relative links are resolved against this base only to read their query;
/// the base never shows in [`Link::url`] or [`Link::path`].
const RELATIVE_BASE: &str = "http://relative.invalid/";

/// The kind of part a [`Link`] was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LinkSource {
    /// An `<a href>` in a `text/html` part.
    Html,
    /// A bare `http(s)://` URL in a `text/plain` part.
    Text,
}

/// A link found in a message, from [`ReceivedMessage::links`].
///
/// ```
/// use smtp_fixture::{Envelope, ReceivedMessage};
///
/// let message = ReceivedMessage::new(
///     Envelope::default(),
///     "Content-Type: text/html\r\n\r\n\
///      <a href=\"https://app.test/reset?token=a%2Fb&amp;user=7\">Reset your password</a>\r\n",
/// );
/// let link = message.link_containing("/reset");
/// assert_eq!(link.url, "https://app.test/reset?token=a%2Fb&user=7");
/// assert_eq!(link.text.as_deref(), Some("Reset your password"));
/// assert_eq!(link.path(), "/reset");
/// assert_eq!(link.query("token").as_deref(), Some("a/b"));
/// assert_eq!(link.host(), Some("app.test"));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Link {
    /// The URL as the message has it: character references decoded, tabs
    /// and line breaks removed (as a browser does), relative URLs left
    /// relative.
    pub url: String,
    /// The text between `<a>` and `</a>`, whitespace collapsed (or the
    /// `alt` of an image inside it); `None` for a URL in plain text.
    pub text: Option<String>,
    /// The kind of part the link is in.
    pub source: LinkSource,
    /// The parsed URL; for a relative link, resolved against
    /// [`RELATIVE_BASE`] (so its query can be read).
    parsed: Option<Url>,
    relative: bool,
}

impl Link {
    fn new(url: String, text: Option<String>, source: LinkSource) -> Link {
        let (parsed, relative) = match Url::parse(&url) {
            Ok(parsed) => (Some(parsed), false),
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let base = Url::parse(RELATIVE_BASE).ok();
                let joined = Url::options().base_url(base.as_ref()).parse(&url).ok();
                (joined, true)
            }
            Err(_) => (None, false),
        };
        Link {
            url,
            text,
            source,
            parsed,
            relative,
        }
    }

    /// The value of query parameter `name`, percent-decoded (and `+` read
    /// as a space, as HTML forms encode it); the first if there are
    /// several, `None` if there is none.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(Envelope::default(), "\r\nGo to https://app.test/confirm?token=x%3Dy&name=Ann+Lee now.\r\n");
    /// let link = &message.links()[0];
    /// assert_eq!(link.query("token").as_deref(), Some("x=y"));
    /// assert_eq!(link.query("name").as_deref(), Some("Ann Lee"));
    /// assert_eq!(link.query("missing"), None);
    /// ```
    pub fn query(&self, name: &str) -> Option<String> {
        self.parsed
            .as_ref()?
            .query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The path: for an absolute URL as the URL parser gives it
    /// (percent-encoded, `.` and `..` resolved); for a relative link the
    /// part before `?` or `#` as written.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "Content-Type: text/html\r\n\r\n<a href=\"/confirm?t=1\">here</a> <a href=\"https://app.test/a/../b?x\">b</a>",
    /// );
    /// let links = message.links();
    /// assert_eq!(links[0].path(), "/confirm");
    /// assert_eq!(links[1].path(), "/b");
    /// ```
    pub fn path(&self) -> &str {
        match &self.parsed {
            Some(parsed) if !self.relative || self.url.starts_with("//") => parsed.path(),
            _ => {
                let end = self.url.find(['?', '#']).unwrap_or(self.url.len());
                &self.url[..end]
            }
        }
    }

    /// The host of an absolute URL (`None` for a relative link or a
    /// `mailto:`).
    pub fn host(&self) -> Option<&str> {
        if self.relative && !self.url.starts_with("//") {
            return None;
        }
        self.parsed.as_ref()?.host_str()
    }

    /// Whether the link is relative (no scheme), e.g. `/confirm?t=1`.
    ///
    /// ```
    /// # use smtp_fixture::{Envelope, ReceivedMessage};
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "Content-Type: text/html\r\n\r\n<a href=\"/confirm?t=1\">a</a><a href=\"https://app.test/\">b</a>",
    /// );
    /// let links = message.links();
    /// assert!(links[0].is_relative() && links[0].host().is_none());
    /// assert!(!links[1].is_relative() && links[1].host() == Some("app.test"));
    /// ```
    pub fn is_relative(&self) -> bool {
        self.relative
    }
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("url", &self.url)
            .field("text", &self.text)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Link {
    /// The URL, followed by the link text in brackets if there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)?;
        if let Some(text) = &self.text {
            write!(f, " [{text}]")?;
        }
        Ok(())
    }
}

impl ReceivedMessage {
    /// Every link in the message, in order of appearance: the `<a href>`s of
    /// each `text/html` body part and the bare `http://` / `https://` URLs
    /// of each `text/plain` body part (attachments are not read). A URL
    /// that appears several times in one part is listed once per part, at
    /// its first place, so a URL in both the text and the HTML alternative
    /// is listed twice, once with each [`source`](Link::source).
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    /// use smtp_fixture::LinkSource;
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "Content-Type: multipart/alternative; boundary=b\r\n\r\n\
    ///      --b\r\nContent-Type: text/plain\r\n\r\nConfirm: https://app.test/c?t=1.\r\n\
    ///      --b\r\nContent-Type: text/html\r\n\r\n<a href=\"https://app.test/c?t=1\">Confirm</a>\r\n--b--\r\n",
    /// );
    /// let links = message.links();
    /// assert_eq!(links.len(), 2);
    /// assert_eq!((links[0].source, links[0].url.as_str()), (LinkSource::Text, "https://app.test/c?t=1"));
    /// assert_eq!((links[1].source, links[1].text.as_deref()), (LinkSource::Html, Some("Confirm")));
    /// ```
    pub fn links(&self) -> Vec<Link> {
        let Some(parsed) = self.parsed() else {
            return Vec::new();
        };
        let mut links = Vec::new();
        for (index, part) in parsed.parts.iter().enumerate() {
            if parsed.attachments.contains(&(index as u32)) {
                continue;
            }
            let found = match &part.body {
                PartType::Html(html) => html_links(html),
                PartType::Text(text) if is_plain(part) => text_links(text),
                _ => continue,
            };
            let mut seen: Vec<&str> = Vec::new();
            for link in &found {
                if !seen.contains(&link.url.as_str()) {
                    seen.push(&link.url);
                    links.push(link.clone());
                }
            }
        }
        links
    }

    /// The first link whose URL contains `needle`.
    ///
    /// ```
    /// use smtp_fixture::{Envelope, ReceivedMessage};
    ///
    /// let message = ReceivedMessage::new(
    ///     Envelope::default(),
    ///     "\r\nUnsubscribe: https://app.test/unsub\r\nReset: https://app.test/reset?token=abc\r\n",
    /// );
    /// let token = message.link_containing("/reset").query("token");
    /// assert_eq!(token.as_deref(), Some("abc"));
    /// ```
    ///
    /// # Panics
    ///
    /// When no link contains `needle`, listing every link it did find and
    /// the message's summary.
    #[track_caller]
    pub fn link_containing(&self, needle: &str) -> Link {
        let links = self.links();
        if let Some(link) = links.iter().find(|link| link.url.contains(needle)) {
            return link.clone();
        }
        let mut listed = String::new();
        for (index, link) in links.iter().enumerate() {
            listed.push_str(&format!("\n  {}. {link}", index + 1));
        }
        if links.is_empty() {
            listed.push_str("\n  (none)");
        }
        panic!(
            "smtp-fixture: no link contains {needle:?} in message {}\nLinks found ({}):{listed}",
            self.summary(),
            links.len()
        )
    }
}

/// A part with no `Content-Type` is `text/plain` (RFC 2045).
pub(super) fn is_plain(part: &MessagePart<'_>) -> bool {
    part.content_type().is_none_or(|ct| {
        ct.ctype().eq_ignore_ascii_case("text")
            && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
    })
}
