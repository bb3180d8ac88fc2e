//! One pass of the HTML tokenizer (`html5gum`) over a message's HTML: the
//! elements and attributes the tests count, the `style` attributes, the
//! text of the `<style>` elements, and the number of elements (Mailpit's
//! `Nodes`), plus the CSS matchers of `rules.rs`.
//!
//! Mailpit builds a DOM and first inlines the `<style>` rules into the
//! elements they select (premailer), then tests each element's `style`.
//! There is no selector engine here: each plain rule of a `<style>` block
//! (outside at-rules, without a pseudo-class) is tested as one more
//! `style` attribute, so a rule counts once rather than once per element
//! it styles, and premailer's copying of CSS into attributes (`width`,
//! `bgcolor` on tables) is not seen. Linked stylesheets are not fetched.

use std::collections::BTreeMap;

use html5gum::{DefaultEmitter, Token, Tokenizer};

use super::rules::{AtFollow, Declaration, Element, StyleText};

/// What the tests read from one HTML document.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Start tags: name and attributes (names lower-cased by the tokenizer).
    pub(super) elements: Vec<(String, BTreeMap<String, String>)>,
    /// The declaration lists to test: `style` attributes, then the plain
    /// rules of `<style>` blocks.
    pub(super) declarations: Vec<String>,
    /// The text of every `<style>` element, joined.
    pub(super) style_text: String,
    /// Mailpit's `Nodes`: with `</body>` in the HTML, every element but
    /// `html`, `head` and `meta` (the `body` counted once); without, the
    /// elements of the body (and any `script`). Tables get the `tbody` an
    /// HTML parser adds.
    pub(super) nodes: usize,
    /// Whether the HTML has `</body>`, as Mailpit's check of it.
    pub(super) has_body_end: bool,
}

/// Elements an HTML parser puts in the head of a fragment that starts
/// with them.
fn head_element(name: &str) -> bool {
    matches!(
        name,
        "html" | "head" | "meta" | "title" | "base" | "link" | "style" | "script" | "noscript"
    )
}

pub(super) fn scan(html: &str) -> Scan {
    let mut result = Scan {
        has_body_end: html.to_ascii_lowercase().contains("</body>"),
        ..Scan::default()
    };
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    let mut in_style = 0usize;
    let mut in_head = true;
    // One entry per open <table>: whether a row group is open in it.
    let mut tables: Vec<bool> = Vec::new();
    let mut body_counted = false;
    for token in Tokenizer::new_with_emitter(html, emitter) {
        let Ok(token) = token;
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name).into_owned();
                let attributes: BTreeMap<String, String> = tag
                    .attributes
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect();
                if let Some(style) = attributes.get("style") {
                    result.declarations.push(style.clone());
                }
                if in_head && !head_element(&name) {
                    in_head = false;
                }
                let counted = if result.has_body_end {
                    match name.as_str() {
                        "html" | "head" | "meta" => false,
                        "body" => !std::mem::replace(&mut body_counted, true),
                        _ => true,
                    }
                } else {
                    name == "script" || (!in_head && !matches!(name.as_str(), "html" | "head" | "body"))
                };
                result.nodes += usize::from(counted);
                match name.as_str() {
                    "table" => tables.push(false),
                    "thead" | "tbody" | "tfoot" => {
                        if let Some(open) = tables.last_mut() {
                            *open = true;
                        }
                    }
                    "tr" => {
                        if let Some(open) = tables.last_mut() {
                            if !*open {
                                *open = true;
                                result.nodes += 1;
                            }
                        }
                    }
                    "style" if !tag.self_closing => in_style += 1,
                    _ => {}
                }
                result.elements.push((name, attributes));
            }
            Token::EndTag(tag) => match &tag.name[..] {
                b"table" => {
                    tables.pop();
                }
                b"thead" | b"tbody" | b"tfoot" => {
                    if let Some(open) = tables.last_mut() {
                        *open = false;
                    }
                }
                b"style" => in_style = in_style.saturating_sub(1),
                _ => {}
            },
            Token::String(text) if in_style > 0 => {
                result.style_text.push_str(&String::from_utf8_lossy(&text.value));
            }
            _ => {}
        }
    }
    if result.has_body_end && !body_counted {
        result.nodes += 1; // the body a parser adds
    }
    result.declarations.extend(plain_rules(&result.style_text));
    result
}

/// The declaration blocks of the rules outside at-rules whose selectors
/// have no `:` (what premailer can inline), comments removed.
fn plain_rules(css: &str) -> Vec<String> {
    let mut css = css.to_string();
    while let Some(start) = css.find("/*") {
        let end = css[start + 2..]
            .find("*/")
            .map_or(css.len(), |e| start + 2 + e + 2);
        css.replace_range(start..end, " ");
    }
    let mut rules = Vec::new();
    let mut depth = 0usize;
    let mut prelude = String::new();
    let mut block = String::new();
    let mut in_at_rule = 0usize;
    for c in css.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 && prelude.trim_start().starts_with('@') {
                    in_at_rule = 1;
                }
                if depth == 1 {
                    block.clear();
                }
            }
            '}' => {
                if depth == 1 {
                    if in_at_rule == 0 && !prelude.contains(':') {
                        rules.push(block.trim().to_string());
                    }
                    in_at_rule = 0;
                    prelude.clear();
                }
                depth = depth.saturating_sub(1);
            }
            ';' if depth == 0 => prelude.clear(), // `@import url(..);`
            _ if depth == 0 => prelude.push(c),
            _ if depth == 1 => block.push(c),
            _ => {}
        }
    }
    rules
}

impl Element {
    pub(super) fn matches(&self, name: &str, attributes: &BTreeMap<String, String>) -> bool {
        match *self {
            Element::Tag(tag) => name == tag,
            Element::Attribute(attribute) => attributes.contains_key(attribute),
            Element::AttributeIs(tag, attribute, value) => {
                tag.is_none_or(|tag| tag == name) && attributes.get(attribute).is_some_and(|v| v == value)
            }
            Element::AttributeStarts(tag, attribute, prefix) => {
                name == tag && attributes.get(attribute).is_some_and(|v| v.starts_with(prefix))
            }
            Element::TagWith(tag, attribute) => name == tag && attributes.contains_key(attribute),
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The positions where `needle` occurs in `haystack`, not overlapping.
fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let mut from = 0;
    std::iter::from_fn(move || {
        if needle.is_empty() {
            return None;
        }
        let found = haystack
            .get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)?
            + from;
        from = found + needle.len();
        Some(found)
    })
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text.get(at).copied().is_some_and(is_space) {
        at += 1;
    }
    at
}

/// At the start, or after white space or `;`.
fn declaration_start(text: &[u8], at: usize) -> bool {
    at == 0 || matches!(text[at - 1], b';') || is_space(text[at - 1])
}

/// The end, white space or `;`.
fn value_end(text: &[u8], at: usize) -> bool {
    text.get(at).is_none_or(|&b| b == b';' || is_space(b))
}

impl Declaration {
    /// Whether the declaration list `style` matches.
    pub(super) fn matches(&self, style: &str) -> bool {
        let lower = style.to_ascii_lowercase();
        let text = lower.as_bytes();
        match self {
            Declaration::Property(name) => occurrences(text, name.as_bytes()).any(|at| {
                declaration_start(text, at) && text.get(skip_space(text, at + name.len())) == Some(&b':')
            }),
            Declaration::DisplayFlex => occurrences(text, b"display").any(|at| {
                let colon = skip_space(text, at + 7);
                if !declaration_start(text, at) || text.get(colon) != Some(&b':') {
                    return false;
                }
                let value = skip_space(text, colon + 1);
                text[value..].starts_with(b"flex") && value_end(text, value + 4)
            }),
            Declaration::Starts(start) => {
                occurrences(text, start.as_bytes()).any(|at| declaration_start(text, at))
            }
            Declaration::Important => occurrences(text, b"!important").any(|at| value_end(text, at + 10)),
            Declaration::Function(name) => occurrences(text, name.as_bytes()).any(|at| {
                at > 0
                    && (text[at - 1] == b':' || is_space(text[at - 1]))
                    && text.get(at + name.len()) == Some(&b'(')
            }),
        }
    }
}

/// Matches of `\bDIGITS` + `unit` + `\b` in `style` (case as written).
pub(super) fn unit_count(style: &str, unit: &str) -> usize {
    let text = style.as_bytes();
    occurrences(text, unit.as_bytes())
        .filter(|&at| {
            let digits = text[..at].iter().rev().take_while(|b| b.is_ascii_digit()).count();
            let first = at - digits;
            digits > 0
                && (first == 0 || !is_word(text[first - 1]))
                && text.get(at + unit.len()).is_none_or(|&b| !is_word(b))
        })
        .count()
}

/// Matches of `:\s?initial\b` in `style`.
pub(super) fn initial_count(style: &str) -> usize {
    let text = style.as_bytes();
    occurrences(text, b"initial")
        .filter(|&at| {
            let colon =
                at > 0 && text[at - 1] == b':' || at > 1 && is_space(text[at - 1]) && text[at - 2] == b':';
            colon && text.get(at + 7).is_none_or(|&b| !is_word(b))
        })
        .count()
}

impl StyleText {
    /// Matches in the text of the `<style>` elements.
    pub(super) fn count(&self, css: &str) -> usize {
        match self {
            StyleText::Text(text) => occurrences(css.as_bytes(), text.as_bytes()).count(),
            StyleText::Call(text, any_space) => {
                let bytes = css.as_bytes();
                occurrences(bytes, text.as_bytes())
                    .filter(|&at| {
                        let after = at + text.len();
                        let paren = if *any_space {
                            skip_space(bytes, after)
                        } else {
                            after + usize::from(bytes.get(after).copied().is_some_and(is_space))
                        };
                        bytes.get(paren) == Some(&b'(')
                    })
                    .count()
            }
            StyleText::At(name, follow) => {
                let lower = css.to_ascii_lowercase();
                let bytes = lower.as_bytes();
                occurrences(bytes, name.as_bytes())
                    .filter(|&at| {
                        let after = at + name.len();
                        let next = bytes.get(after).copied();
                        match follow {
                            AtFollow::Space => next.is_some_and(is_space),
                            AtFollow::Paren => {
                                let paren = after + usize::from(next.is_some_and(is_space));
                                bytes.get(paren) == Some(&b'(')
                            }
                            AtFollow::Block => {
                                next.is_some_and(is_space)
                                    && bytes.get(skip_space(bytes, after)) == Some(&b'{')
                            }
                        }
                    })
                    .count()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::html_check::rules::DECLARATION_TESTS;

    /// The slugs a `style` attribute matches, sorted.
    fn matched(style: &str) -> String {
        let mut slugs: Vec<&str> = DECLARATION_TESTS
            .iter()
            .filter(|(_, tests)| tests.iter().any(|t| t.matches(style)))
            .map(|(slug, _)| *slug)
            .collect();
        slugs.sort_unstable();
        slugs.join(",")
    }

    /// Mailpit's own cases (`internal/htmlcheck/inline_test.go`).
    #[test]
    fn declarations_match_as_mailpits_expressions() {
        for (style, expected) in [
            ("transform: rotate(20deg)", "css-transform"),
            ("color: green; transform:rotate(20deg)", "css-transform"),
            ("color:green; transform :rotate(20deg)", "css-transform"),
            ("TRANSFORM:rotate(20deg)", "css-transform"),
            ("transform:\trotate(20deg)", "css-transform"),
            ("ignore-transform: something", ""),
            ("text-transform: uppercase", "css-text-transform"),
            ("test-transform: uppercase", ""),
            ("padding-inline-start: 5rem", "css-padding-inline-start-end"),
            ("margin-inline-end: 5rem", "css-margin-inline-start-end"),
            ("margin-inline-middle: 5rem", ""),
            ("color:green!important", "css-important"),
            ("color: green !important", "css-important"),
            ("color: green!important;", "css-important"),
            ("color:green!important-stuff;", ""),
            ("background-image:url('img.jpg')", "css-background-image"),
            (
                " color:green; background-image:url('img.jpg');",
                "css-background-image",
            ),
            ("display  : flex ;", "css-display,css-display-flex"),
            ("DISPLAY:FLEX;", "css-display,css-display-flex"),
            ("display: flexing;", "css-display"),
            (
                "line-height: 1rem;opacity: 0.5; width: calc(10px + 100px)",
                "css-line-height,css-opacity,css-unit-calc,css-width",
            ),
            ("color: rgb(255,255,255);", "css-rgb"),
            ("color:rgba(255,255,255, 0);", "css-rgba"),
            (
                "border: solid rgb(255,255,255) 1px; color:rgba(255,255,255, 0);",
                "css-border,css-rgb,css-rgba",
            ),
        ] {
            assert_eq!(matched(style), expected, "{style}");
        }
    }

    #[test]
    fn units_and_style_text() {
        assert_eq!(
            unit_count("width: 10rem; margin: 2rem 1.5rem; x: a3rem", "rem"),
            3
        );
        assert_eq!(initial_count("color: initial; x:initials; y:initial-z"), 2);
        assert_eq!(
            StyleText::At("@media", AtFollow::Paren).count("@media (max-width: 1px) {} @MEDIA(x)"),
            2
        );
        assert_eq!(
            StyleText::At("@font-face", AtFollow::Block).count("@font-face {} @font-face{}"),
            1
        );
        assert_eq!(
            StyleText::Call(":not", true).count("a:not (.b) a:not(c) a:nothing"),
            2
        );
    }

    #[test]
    fn nodes_and_plain_rules() {
        let page = scan(
            "<html><head><meta charset=utf-8><style>p { color: red } a:hover { x: y } \
             @media (x) { p { display: flex } }</style></head>\
             <body><table><tr><td>a</td></tr></table></body></html>",
        );
        // body, style, table, tbody (added), tr, td
        assert_eq!(page.nodes, 6);
        assert_eq!(page.declarations, ["color: red"]);
        let fragment = scan("<style>p{}</style><p>one <b>two</b></p><script></script>");
        assert_eq!(fragment.nodes, 3, "p, b, script");
        assert!(!fragment.has_body_end);
    }
}
