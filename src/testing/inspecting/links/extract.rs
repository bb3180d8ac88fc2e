//! Finding links: `<a href>`s in HTML with a real tokenizer, bare URLs in
//! plain text.

use html5gum::{DefaultEmitter, Token, Tokenizer};

use super::{Link, LinkSource};

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

pub(super) fn html_links(html: &str) -> Vec<Link> {
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
pub(super) fn href_as_written(value: &[u8]) -> String {
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
pub(super) fn text_links(text: &str) -> Vec<Link> {
    text_urls(text)
        .into_iter()
        .map(|url| Link::new(url.to_string(), None, LinkSource::Text))
        .collect()
}

pub(super) fn text_urls(text: &str) -> Vec<&str> {
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

pub(super) fn trim_trailing_punctuation(url: &str) -> &str {
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
