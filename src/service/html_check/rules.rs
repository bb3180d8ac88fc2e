//! What the HTML check looks for, Mailpit's tables
//! (`internal/htmlcheck/config.go`): caniemail.com slugs, each with the
//! elements, attributes or CSS text that show the feature is used. Mailpit
//! writes the CSS ones as regular expressions; here each is the matcher
//! that the expression spells (`scan.rs` carries them out).
//! `tools/caniemail_compact.py` keeps the data of the slugs named here.

/// An element the HTML uses, as a CSS selector of Mailpit's names it.
pub(super) enum Element {
    /// `name`
    Tag(&'static str),
    /// `[attribute]`
    Attribute(&'static str),
    /// `[attribute="value"]`, on any element (`tag` `None`) or one.
    AttributeIs(Option<&'static str>, &'static str, &'static str),
    /// `tag[attribute^="prefix"]`
    AttributeStarts(&'static str, &'static str, &'static str),
    /// `tag[attribute]`
    TagWith(&'static str, &'static str),
}

use Element::{Attribute, AttributeIs, AttributeStarts, Tag, TagWith};

/// Found once when the HTML has `</body>` (Mailpit's test of it).
pub(super) const BODY_TEST: &str = "html-body";

/// Mailpit's `html-object` also names `image`, which its HTML parser reads
/// as `img`, so it never matches; it is left out.
pub(super) const HTML_TESTS: &[(&str, &[Element])] = &[
    ("html-object", &[Tag("object"), Tag("embed"), Tag("pdf")]),
    ("html-link", &[Tag("link")]),
    ("html-hr", &[Tag("hr")]),
    ("html-dialog", &[Tag("dialog")]),
    ("html-srcset", &[Attribute("srcset")]),
    ("html-picture", &[Tag("picture")]),
    ("html-svg", &[Tag("svg")]),
    ("html-progress", &[Tag("progress")]),
    ("html-required", &[Attribute("required")]),
    ("html-meter", &[Tag("meter")]),
    ("html-audio", &[Tag("audio")]),
    ("html-form", &[Tag("form")]),
    ("html-input-submit", &[Tag("submit")]),
    (
        "html-button-reset",
        &[AttributeIs(Some("button"), "type", "reset")],
    ),
    (
        "html-button-submit",
        &[Tag("submit"), AttributeIs(Some("button"), "type", "submit")],
    ),
    ("html-base", &[Tag("base")]),
    ("html-input-checkbox", &[Tag("checkbox")]),
    ("html-input-hidden", &[AttributeIs(None, "type", "hidden")]),
    ("html-input-radio", &[Tag("radio")]),
    ("html-input-text", &[AttributeIs(Some("input"), "type", "text")]),
    ("html-video", &[Tag("video")]),
    (
        "html-semantics",
        &[
            Tag("article"),
            Tag("aside"),
            Tag("details"),
            Tag("figcaption"),
            Tag("figure"),
            Tag("footer"),
            Tag("header"),
            Tag("main"),
            Tag("mark"),
            Tag("nav"),
            Tag("section"),
            Tag("summary"),
            Tag("time"),
        ],
    ),
    ("html-select", &[Tag("select")]),
    ("html-textarea", &[Tag("textarea")]),
    ("html-anchor-links", &[AttributeStarts("a", "href", "#")]),
    ("html-style", &[Tag("style")]),
    ("html-image-maps", &[Tag("map"), TagWith("img", "usemap")]),
];

/// `img[src]` endings (any case), and `data:image/` at the start.
pub(super) const IMAGE_TESTS: &[(&str, &[&str])] = &[
    ("image-apng", &[".apng"]),
    ("image-avif", &[".avif"]),
    ("image-base64", &[]),
    ("image-bmp", &[".bmp"]),
    ("image-gif", &[".gif"]),
    ("image-hdr", &[".hdr"]),
    ("image-heif", &[".heif"]),
    ("image-ico", &[".ico"]),
    ("image-mp4", &[".mp4"]),
    ("image-ppm", &[".ppm"]),
    ("image-svg", &[".svg"]),
    ("image-tiff", &[".tif", ".tiff"]),
    ("image-webp", &[".webp"]),
];

/// Styling attributes: `[bgcolor]` and the like, counted once however many
/// elements carry them (as Mailpit).
pub(super) const STYLE_ATTRIBUTES: &[(&str, &str)] = &[
    ("css-background-color", "bgcolor"),
    ("css-background", "background"),
    ("css-border", "border"),
    ("css-height", "height"),
    ("css-padding", "padding"),
    ("css-width", "width"),
];

/// A CSS test on one declaration list (a `style` attribute).
pub(super) enum Declaration {
    /// `(^|\s|;)NAME(\s+)?:`: a property (any case).
    Property(&'static str),
    /// `(^|\s|;)display(\s+)?:(\s+)?flex($|\s|;)`
    DisplayFlex,
    /// `(^|\s|;)TEXT`: text at a declaration's start (any case).
    Starts(&'static str),
    /// `!important($|\s|;)`
    Important,
    /// `(\s|:)NAME\(`: a function in a value (any case).
    Function(&'static str),
}

use Declaration::{DisplayFlex, Function, Important, Property, Starts};

/// Tests of each `style` attribute, each counted once per attribute that
/// matches. Some of Mailpit's expressions name no real property
/// (`roll-snap`, `conic-gradient:`, `variables:`): kept as written, so the
/// scores are Mailpit's.
pub(super) const DECLARATION_TESTS: &[(&str, &[Declaration])] = &[
    ("css-accent-color", &[Property("accent-color")]),
    ("css-align-items", &[Property("align-items")]),
    ("css-aspect-ratio", &[Property("aspect-ratio")]),
    ("css-background-blend-mode", &[Property("background-blend-mode")]),
    ("css-background-clip", &[Property("background-clip")]),
    ("css-background-color", &[Property("background-color")]),
    ("css-background-image", &[Property("background-image")]),
    ("css-background-origin", &[Property("background-origin")]),
    ("css-background-position", &[Property("background-position")]),
    ("css-background-repeat", &[Property("background-repeat")]),
    ("css-background-size", &[Property("background-size")]),
    ("css-background", &[Property("background")]),
    ("css-block-inline-size", &[Property("block-inline-size")]),
    ("css-border-image", &[Property("border-image")]),
    ("css-border-inline-block-individual", &[Property("border-inline")]),
    ("css-border-radius", &[Property("border-radius")]),
    ("css-border", &[Property("border")]),
    ("css-box-shadow", &[Property("box-shadow")]),
    ("css-box-sizing", &[Property("box-sizing")]),
    ("css-caption-side", &[Property("caption-side")]),
    ("css-clip-path", &[Property("clip-path")]),
    ("css-column-count", &[Property("column-count")]),
    (
        "css-column-layout-properties",
        &[Property("column-layout-properties")],
    ),
    ("css-conic-gradient", &[Property("conic-gradient")]),
    ("css-direction", &[Property("direction")]),
    ("css-display-flex", &[DisplayFlex]),
    ("css-display-grid", &[Starts("display:grid")]),
    ("css-display-none", &[Starts("display:none")]),
    ("css-display", &[Property("display")]),
    ("css-filter", &[Property("filter")]),
    ("css-flex-direction", &[Property("flex-direction")]),
    ("css-flex-wrap", &[Property("flex-wrap")]),
    ("css-float", &[Property("float")]),
    ("css-font-kerning", &[Property("font-kerning")]),
    ("css-font-weight", &[Property("font-weight")]),
    ("css-font", &[Property("font")]),
    ("css-gap", &[Property("gap")]),
    ("css-grid-template", &[Property("grid-template")]),
    ("css-height", &[Property("height")]),
    ("css-hyphens", &[Property("hyphens")]),
    ("css-important", &[Important]),
    ("css-inline-size", &[Property("inline-size")]),
    ("css-intrinsic-size", &[Property("intrinsic-size")]),
    ("css-justify-content", &[Property("justify-content")]),
    ("css-letter-spacing", &[Property("letter-spacing")]),
    ("css-line-height", &[Property("line-height")]),
    ("css-list-style-image", &[Property("list-style-image")]),
    ("css-list-style-position", &[Property("list-style-position")]),
    ("css-list-style", &[Property("list-style")]),
    (
        "css-margin-block-start-end",
        &[Property("margin-block-start"), Property("margin-block-end")],
    ),
    ("css-margin-inline-block", &[Property("margin-inline-block")]),
    (
        "css-margin-inline-start-end",
        &[Property("margin-inline-start"), Property("margin-inline-end")],
    ),
    ("css-margin-inline", &[Property("margin-inline")]),
    ("css-margin", &[Property("margin")]),
    ("css-max-block-size", &[Property("max-block-size")]),
    ("css-max-height", &[Property("max-height")]),
    ("css-max-width", &[Property("max-width")]),
    ("css-min-height", &[Property("min-height")]),
    ("css-min-inline-size", &[Property("min-inline-size")]),
    ("css-min-width", &[Property("min-width")]),
    ("css-mix-blend-mode", &[Property("mix-blend-mode")]),
    ("css-modern-color", &[Property("modern-color")]),
    ("css-object-fit", &[Property("object-fit")]),
    ("css-object-position", &[Property("object-position")]),
    ("css-opacity", &[Property("opacity")]),
    ("css-outline-offset", &[Property("outline-offset")]),
    ("css-outline", &[Property("outline")]),
    ("css-overflow-wrap", &[Property("overflow-wrap")]),
    ("css-overflow", &[Property("overflow")]),
    (
        "css-padding-block-start-end",
        &[Property("padding-block-start"), Property("padding-block-end")],
    ),
    ("css-padding-inline-block", &[Property("padding-inline-block")]),
    (
        "css-padding-inline-start-end",
        &[Property("padding-inline-start"), Property("padding-inline-end")],
    ),
    ("css-padding", &[Property("padding")]),
    ("css-position", &[Property("position")]),
    ("css-radial-gradient", &[Property("radial-gradient")]),
    ("css-rgb", &[Function("rgb")]),
    ("css-rgba", &[Function("rgba")]),
    ("css-scroll-snap", &[Property("roll-snap")]),
    ("css-tab-size", &[Property("tab-size")]),
    ("css-table-layout", &[Property("table-layout")]),
    ("css-text-align-last", &[Property("text-align-last")]),
    ("css-text-align", &[Property("text-align")]),
    ("css-text-decoration-color", &[Property("text-decoration-color")]),
    (
        "css-text-decoration-thickness",
        &[Property("text-decoration-thickness")],
    ),
    ("css-text-decoration", &[Property("text-decoration")]),
    (
        "css-text-emphasis-position",
        &[Property("text-emphasis-position")],
    ),
    ("css-text-emphasis", &[Property("text-emphasis")]),
    ("css-text-indent", &[Property("text-indent")]),
    ("css-text-overflow", &[Property("text-overflow")]),
    ("css-text-shadow", &[Property("text-shadow")]),
    ("css-text-transform", &[Property("text-transform")]),
    ("css-text-underline-offset", &[Property("text-underline-offset")]),
    ("css-transform", &[Property("transform")]),
    ("css-unit-calc", &[Function("calc")]),
    ("css-variables", &[Property("variables")]),
    ("css-visibility", &[Property("visibility")]),
    ("css-white-space", &[Property("white-space")]),
    ("css-width", &[Property("width")]),
    ("css-word-break", &[Property("word-break")]),
    ("css-writing-mode", &[Property("writing-mode")]),
    ("css-z-index", &[Property("z-index")]),
];

/// Units in `style` attributes, every match counted: `\bDIGITSunit\b`.
pub(super) const UNIT_TESTS: &[(&str, &str)] = &[
    ("css-unit-ch", "ch"),
    ("css-unit-rem", "rem"),
    ("css-unit-vh", "vh"),
    ("css-unit-vmax", "vmax"),
    ("css-unit-vmin", "vmin"),
    ("css-unit-vw", "vw"),
];

/// `:\s?initial\b`, counted as the units are.
pub(super) const INITIAL_TEST: &str = "css-unit-initial";

/// A CSS test on the text of the `<style>` elements.
pub(super) enum StyleText {
    /// TEXT (case as given), every occurrence.
    Text(&'static str),
    /// TEXT, then optional white space (`(\s+)?`, or at most one: `\s?`),
    /// then `(`.
    Call(&'static str, bool),
    /// An at-rule (any case) and what must follow it: `Space` one white
    /// space character, `Block` white space then `{`.
    At(&'static str, AtFollow),
}

/// What follows an at-rule's name in [`StyleText::At`].
pub(super) enum AtFollow {
    Space,
    /// `\s?\(`
    Paren,
    /// `\s+?{`
    Block,
}

use StyleText::{At, Call, Text};

pub(super) const STYLE_TEXT_TESTS: &[(&str, StyleText)] = &[
    ("css-at-font-face", At("@font-face", AtFollow::Block)),
    ("css-at-import", At("@import", AtFollow::Space)),
    ("css-at-keyframes", At("@keyframes", AtFollow::Space)),
    ("css-at-media", At("@media", AtFollow::Paren)),
    ("css-at-supports", At("@supports", AtFollow::Paren)),
    ("css-pseudo-class-active", Text(":active")),
    ("css-pseudo-class-checked", Text(":checked")),
    ("css-pseudo-class-first-child", Text(":first-child")),
    ("css-pseudo-class-first-of-type", Text(":first-of-type")),
    ("css-pseudo-class-focus", Text(":focus")),
    ("css-pseudo-class-has", Text(":has")),
    ("css-pseudo-class-hover", Text(":hover")),
    ("css-pseudo-class-lang", Call(":lang", false)),
    ("css-pseudo-class-last-child", Text(":last-child")),
    ("css-pseudo-class-last-of-type", Text(":last-of-type")),
    ("css-pseudo-class-link", Text(":link")),
    ("css-pseudo-class-not", Call(":not", true)),
    ("css-pseudo-class-nth-child", Call(":nth-child", true)),
    ("css-pseudo-class-nth-last-child", Call(":nth-last-child", true)),
    (
        "css-pseudo-class-nth-last-of-type",
        Call(":nth-last-of-type", true),
    ),
    ("css-pseudo-class-nth-of-type", Call(":nth-of-type", true)),
    ("css-pseudo-class-only-child", Call(":only-child", true)),
    ("css-pseudo-class-only-of-type", Call(":only-of-type", true)),
    ("css-pseudo-class-target", Text(":target")),
    ("css-pseudo-class-visited", Text(":visited")),
    ("css-pseudo-element-after", Text(":after")),
    ("css-pseudo-element-before", Text(":before")),
    ("css-pseudo-element-first-letter", Text("::first-letter")),
    ("css-pseudo-element-first-line", Text("::first-line")),
    ("css-pseudo-element-marker", Text("::marker")),
    ("css-pseudo-element-placeholder", Text("::placeholder")),
];
