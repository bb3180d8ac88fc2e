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

use html5gum::{DefaultEmitter, Token, Tokenizer};
use mail_parser::{MessagePart, MimeHeaders, PartType};
use url::Url;

use super::message::ReceivedMessage;

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
    /// use smtp_fixture::testing::LinkSource;
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
fn is_plain(part: &MessagePart<'_>) -> bool {
    part.content_type().is_none_or(|ct| {
        ct.ctype().eq_ignore_ascii_case("text")
            && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain"))
    })
}

/// The link being read: its URL and the text seen so far.
struct OpenAnchor {
    url: String,
    text: String,
    image_alt: Option<String>,
}

impl OpenAnchor {
    fn close(self) -> Link {
        let text = collapse_whitespace(&self.text);
        let text = if text.is_empty() {
            self.image_alt
                .map(|alt| collapse_whitespace(&alt))
                .filter(|alt| !alt.is_empty())
        } else {
            Some(text)
        };
        Link::new(self.url, text, LinkSource::Html)
    }
}

fn html_links(html: &str) -> Vec<Link> {
    let mut emitter = DefaultEmitter::default();
    // Read <style>, <script> and <title> as raw text, as a browser's tree
    // builder would, so markup-like text in them is not taken for tags.
    emitter.naively_switch_states(true);
    let mut links = Vec::new();
    let mut open: Option<OpenAnchor> = None;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) if tag.name == b"a" => {
                // An <a> inside an <a> closes the first (the parser's
                // "adoption agency" does the same for this case).
                links.extend(open.take().map(OpenAnchor::close));
                open = tag
                    .attributes
                    .get(b"href".as_slice())
                    .map(|href| href_as_written(&href.value))
                    .filter(|href| !href.is_empty())
                    .map(|url| OpenAnchor {
                        url,
                        text: String::new(),
                        image_alt: None,
                    });
            }
            Token::StartTag(tag) if tag.name == b"br" => {
                if let Some(anchor) = open.as_mut() {
                    anchor.text.push(' ');
                }
            }
            Token::StartTag(tag) if tag.name == b"img" => {
                if let Some(anchor) = open.as_mut() {
                    if anchor.image_alt.is_none() {
                        anchor.image_alt = tag
                            .attributes
                            .get(b"alt".as_slice())
                            .map(|alt| String::from_utf8_lossy(&alt.value).into_owned());
                    }
                }
            }
            Token::String(text) => {
                if let Some(anchor) = open.as_mut() {
                    anchor.text.push_str(&String::from_utf8_lossy(&text.value));
                }
            }
            Token::EndTag(tag) if tag.name == b"a" => {
                links.extend(open.take().map(OpenAnchor::close));
            }
            _ => {}
        }
    }
    links.extend(open.take().map(OpenAnchor::close));
    links
}

/// An `href` as a browser reads it: surrounding whitespace stripped, tabs
/// and line breaks inside removed (WHATWG URL parsing does both).
fn href_as_written(value: &[u8]) -> String {
    String::from_utf8_lossy(value)
        .trim_matches(|c: char| c.is_ascii_whitespace() || c.is_ascii_control())
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Bare `http://` and `https://` URLs in plain text: from the scheme up to
/// whitespace or `<`, `>`, `"`, with trailing punctuation that ends the
/// sentence (or closes a bracket the URL did not open) left out.
fn text_links(text: &str) -> Vec<Link> {
    text_urls(text)
        .into_iter()
        .map(|url| Link::new(url.to_string(), None, LinkSource::Text))
        .collect()
}

fn text_urls(text: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut from = 0;
    while let Some(offset) = find_scheme(&text[from..]) {
        let start = from + offset;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(rest.len());
        let url = trim_trailing_punctuation(&rest[..end]);
        let scheme_length = if rest.as_bytes()[4].eq_ignore_ascii_case(&b's') {
            8
        } else {
            7
        };
        if url.len() > scheme_length {
            urls.push(url);
        }
        from = start + end.max(scheme_length);
    }
    urls
}

/// The offset of the next `http://` or `https://` (any case) that does not
/// continue a word (`xhttp://` is not a URL).
fn find_scheme(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(offset) = memchr::memchr2(b'h', b'H', &bytes[at..]) {
        let start = at + offset;
        let candidate = &bytes[start..];
        let scheme = [b"http://".as_slice(), b"https://".as_slice()]
            .into_iter()
            .any(|scheme| {
                candidate.len() >= scheme.len() && candidate[..scheme.len()].eq_ignore_ascii_case(scheme)
            });
        let continues_word = start > 0 && bytes[start - 1].is_ascii_alphanumeric();
        if scheme && !continues_word {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

fn trim_trailing_punctuation(url: &str) -> &str {
    // Bracket balance, counted once and updated as characters are trimmed
    // (counting again per character would be quadratic in `)))...`).
    let count = |c: char| url.matches(c).count();
    let open = [count('('), count('['), count('{')];
    let mut close = [count(')'), count(']'), count('}')];
    let mut url = url;
    while let Some(last) = url.chars().last() {
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_' => true,
            ')' | ']' | '}' => {
                let kind = match last {
                    ')' => 0,
                    ']' => 1,
                    _ => 2,
                };
                let unbalanced = open[kind] < close[kind];
                if unbalanced {
                    close[kind] -= 1;
                }
                unbalanced
            }
            _ => false,
        };
        if !trim {
            break;
        }
        url = &url[..url.len() - last.len_utf8()];
    }
    url
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{href_as_written, html_links, text_urls, trim_trailing_punctuation};

    proptest! {
        /// Whatever the text, the scanner ends, and each URL it returns is a
        /// piece of the text that starts with the scheme and holds no
        /// character that ends a URL.
        #[test]
        fn any_text_gives_urls_that_are_pieces_of_it(
            text in "(https?://|HTTP://|[ a-z/.:()<>\"?!\n]|\\PC){0,64}",
        ) {
            for url in text_urls(&text) {
                prop_assert!(text.contains(url));
                prop_assert!(url.to_ascii_lowercase().starts_with("http"));
                prop_assert!(url.contains("://"));
                prop_assert!(!url.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')));
            }
        }

        /// Any markup, however broken, is read to the end without a panic.
        #[test]
        fn any_markup_is_read_without_panicking(html in "(<a href=|<a|</a>|<img alt=x>|<br>|&amp;|[\"' =>a-z]|\\PC){0,64}") {
            for link in html_links(&html) {
                prop_assert!(!link.url.is_empty());
                let _ = (link.path(), link.query("q"), link.host());
            }
        }
    }

    #[test]
    fn a_long_run_of_unbalanced_closing_brackets_is_trimmed() {
        // 200 000 of them: counting the brackets again per trimmed character
        // would take minutes here.

        let url = format!("https://a.test/{}", ")".repeat(200_000));
        assert_eq!(trim_trailing_punctuation(&url), "https://a.test/");
    }

    #[test]
    fn a_line_break_in_link_text_reads_as_a_space() {
        let links = html_links("<a href=x>Confirm<br>now</a>");
        assert_eq!(links[0].text.as_deref(), Some("Confirm now"));
    }

    #[test]
    fn plain_text_urls_end_where_prose_resumes() {
        let cases: &[(&str, &[&str])] = &[
            ("Visit https://a.test/x.", &["https://a.test/x"]),
            (
                "(see https://a.test/wiki/Foo_(bar)) now",
                &["https://a.test/wiki/Foo_(bar)"],
            ),
            ("(see https://a.test/x)", &["https://a.test/x"]),
            ("<https://a.test/x?y=1>", &["https://a.test/x?y=1"]),
            ("\"http://a.test/\"", &["http://a.test/"]),
            (
                "HTTPS://A.TEST/X, and http://b.test;",
                &["HTTPS://A.TEST/X", "http://b.test"],
            ),
            ("xhttp://a.test and http:// alone and https://", &[]),
            ("[link](https://a.test/md)", &["https://a.test/md"]),
            ("one https://a.test/ä?q=ö\ttwo", &["https://a.test/ä?q=ö"]),
            (
                "https://a.test/1https://a.test/2",
                &["https://a.test/1https://a.test/2"],
            ),
            ("", &[]),
            ("h", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(text_urls(text), *expected, "in {text:?}");
        }
    }

    #[test]
    fn trailing_punctuation_is_trimmed_repeatedly() {
        assert_eq!(
            trim_trailing_punctuation("https://a.test/x?!."),
            "https://a.test/x"
        );
        assert_eq!(trim_trailing_punctuation("..."), "");
    }

    #[test]
    fn hrefs_lose_whitespace_as_a_browser_strips_it() {
        assert_eq!(
            href_as_written(b"  https://a.test/\n  x?t=1\t "),
            "https://a.test/  x?t=1"
        );
        assert_eq!(href_as_written(b"\n"), "");
    }
}
