//! The diffs in failure reports: `-` for what was expected, `+` for what
//! arrived, in colour only where the reader's conventions and a terminal
//! say so (a report saved to a CI log or a file must stay plain text).

use std::ffi::OsString;
use std::fmt::{Debug, Write};
use std::io::IsTerminal;

/// A line diff of the pretty-printed values.
pub(crate) fn diff<T: Debug + ?Sized>(expected: &T, actual: &T) -> String {
    render(
        &format!("{expected:#?}"),
        &format!("{actual:#?}"),
        colour_wanted(),
    )
}

/// A line diff of two texts as they are (no quotes, no escapes).
pub(crate) fn diff_text(expected: &str, actual: &str) -> String {
    render(expected, actual, colour_wanted())
}

fn render(expected: &str, actual: &str, colour: bool) -> String {
    let mut text = String::from("--- expected\n+++ received\n");
    for line in diff::lines(expected, actual) {
        let (mark, line, ansi) = match line {
            diff::Result::Left(line) => ('-', line, Some("31")),
            diff::Result::Right(line) => ('+', line, Some("32")),
            diff::Result::Both(line, _) => (' ', line, None),
        };
        let _ = match ansi.filter(|_| colour) {
            Some(code) => writeln!(text, "\x1b[{code}m{mark}{line}\x1b[0m"),
            None => writeln!(text, "{mark}{line}"),
        };
    }
    text
}

fn colour_wanted() -> bool {
    let var = |name| std::env::var_os(name);
    colour_by_convention(
        var("NO_COLOR"),
        var("CLICOLOR_FORCE"),
        var("CLICOLOR"),
        std::io::stderr().is_terminal(),
    )
}

/// `NO_COLOR` set and not empty: never (no-color.org). `CLICOLOR_FORCE` set
/// and not `0`: always; `CLICOLOR=0`: never; otherwise only on a terminal
/// (bixense.com/clicolors).
fn colour_by_convention(
    no_color: Option<OsString>,
    force: Option<OsString>,
    clicolor: Option<OsString>,
    terminal: bool,
) -> bool {
    if no_color.is_some_and(|value| !value.is_empty()) {
        return false;
    }
    if force.is_some_and(|value| !value.is_empty() && value != "0") {
        return true;
    }
    if clicolor.is_some_and(|value| value == "0") {
        return false;
    }
    terminal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conventions_decide_the_colour() {
        let set = |value: &str| Some(OsString::from(value));
        let cases = [
            (None, None, None, true, true),
            (None, None, None, false, false),
            (set("1"), None, None, true, false),
            (set(""), None, None, true, true),
            (set("1"), set("1"), None, true, false),
            (None, set("1"), None, false, true),
            (None, set("0"), None, false, false),
            (None, None, set("0"), true, false),
            (None, None, set("1"), false, false),
        ];
        for (no_color, force, clicolor, terminal, colour) in cases {
            let case = format!("{no_color:?} {force:?} {clicolor:?} {terminal}");
            assert_eq!(
                colour_by_convention(no_color, force, clicolor, terminal),
                colour,
                "{case}"
            );
        }
    }

    #[test]
    fn a_plain_diff_marks_each_side_without_escape_codes() {
        let text = render("same\nold\n", "same\nnew\n", false);
        assert_eq!(text, "--- expected\n+++ received\n same\n-old\n+new\n \n");
        assert!(!text.contains('\x1b'));
        let coloured = render("old", "new", true);
        assert!(coloured.contains("\x1b[31m-old\x1b[0m") && coloured.contains("\x1b[32m+new\x1b[0m"));
    }
}
