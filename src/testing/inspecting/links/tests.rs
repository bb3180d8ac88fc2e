//! The link extractors on hand-written markup and text.

use proptest::prelude::*;

use super::extract::{href_as_written, html_links, text_urls, trim_trailing_punctuation};

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
