//! The tags a message gets as it is stored, from Mailpit's sources
//! (`internal/storage/messages.go`, `tags.go`): its `X-Tags` header, and
//! plus addresses, `ann+news@example.com` in From, To, Cc or Bcc (the
//! envelope-only recipients included, as Mailpit adds them to Bcc) tagging
//! it `news` (`ann+a+b@` gives `a` and `b`). Each source can be turned off
//! as with Mailpit's `--tags-disable plus-addresses,x-tags`.

use super::parse::Parsed;
use crate::testing::{x_tags, Tagger};
use crate::ReceivedMessage;

/// Which of Mailpit's automatic tag sources are on (both, unless
/// `--tags-disable` says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TagSources {
    pub(crate) x_tags: bool,
    pub(crate) plus_addresses: bool,
}

impl Default for TagSources {
    fn default() -> TagSources {
        TagSources {
            x_tags: true,
            plus_addresses: true,
        }
    }
}

impl TagSources {
    /// Mailpit's `--tags-disable` list: `plus-addresses` (or
    /// `plus-addressing`), `x-tags` (or `xtags`), comma separated, any case.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // the command line's flag
    pub(crate) fn disabling(list: &str) -> Result<TagSources, String> {
        let mut sources = TagSources::default();
        for name in list.split(',').map(|n| n.trim().to_ascii_lowercase()) {
            match name.as_str() {
                "" => {}
                "x-tags" | "xtags" => sources.x_tags = false,
                "plus-addresses" | "plus-addressing" => sources.plus_addresses = false,
                other => {
                    return Err(format!(
                        "unknown tag source {other:?}: want plus-addresses or x-tags"
                    ))
                }
            }
        }
        Ok(sources)
    }

    /// The store's tagger for these sources.
    pub(crate) fn tagger(self) -> Tagger {
        Box::new(move |message| self.tags(message))
    }

    fn tags(self, message: &ReceivedMessage) -> Vec<String> {
        let mut found = Vec::new();
        if self.x_tags {
            found.extend(x_tags(&message.data));
        }
        if self.plus_addresses {
            let parsed = Parsed::of(message);
            let addresses = parsed
                .to
                .iter()
                .chain(&parsed.cc)
                .chain(&parsed.bcc)
                .chain(&parsed.from);
            for address in addresses {
                found.extend(plus_tags(&address.address));
            }
        }
        cleaned(found)
    }
}

/// `ann+news+weekly@example.com` -> `news`, `weekly`: what lies between
/// the first `+` and the next `@`, split at `+` (Mailpit's
/// `(?U)^(.*){1,}\+(.*)@`, which also tags `+news@example.com`).
fn plus_tags(address: &str) -> Vec<String> {
    let Some(plus) = address.find('+') else {
        return Vec::new();
    };
    let after = &address[plus + 1..];
    match after.find('@') {
        Some(at) => after[..at].split('+').map(str::to_string).collect(),
        None => Vec::new(),
    }
}

/// Mailpit's `CleanTag` on each (characters other than letters, digits,
/// `-`, ` `, `_`, `.`, `@` become spaces; spaces collapsed and trimmed; at
/// most 100 bytes), empty ones dropped, sorted, each once ignoring case.
fn cleaned(tags: Vec<String>) -> Vec<String> {
    let mut clean: Vec<String> = tags
        .iter()
        .map(|tag| {
            let replaced: String = tag
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '-' | ' ' | '_' | '.' | '@') {
                        c
                    } else {
                        ' '
                    }
                })
                .collect();
            let mut tag = replaced.split_whitespace().collect::<Vec<_>>().join(" ");
            tag.truncate(100);
            tag
        })
        .filter(|tag| !tag.is_empty())
        .collect();
    clean.sort();
    let mut seen: Vec<String> = Vec::new();
    clean.retain(|tag| {
        let lower = tag.to_ascii_lowercase();
        let new = !seen.contains(&lower);
        if new {
            seen.push(lower);
        }
        new
    });
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_addresses_give_the_words_after_the_first_plus() {
        assert_eq!(plus_tags("ann+news@example.com"), ["news"]);
        assert_eq!(plus_tags("ann+news+weekly@example.com"), ["news", "weekly"]);
        assert!(plus_tags("ann@example.com").is_empty());
        assert_eq!(plus_tags("+news@example.com"), ["news"]);
        assert!(plus_tags("ann@ex+ample.com").is_empty(), "a plus after the @");
        assert!(plus_tags("ann+news").is_empty(), "no domain");
    }

    #[test]
    fn tags_are_cleaned_sorted_and_unique_ignoring_case() {
        let tags = ["b", "News", "news", "a/b", "  ", "x  y"]
            .map(String::from)
            .to_vec();
        assert_eq!(cleaned(tags), ["News", "a b", "b", "x y"]);
    }

    #[test]
    fn the_tag_sources_flag_names_mailpits_sources() {
        assert_eq!(
            TagSources::disabling("plus-addresses"),
            Ok(TagSources {
                x_tags: true,
                plus_addresses: false
            })
        );
        assert_eq!(
            TagSources::disabling("X-Tags, plus-addressing"),
            Ok(TagSources {
                x_tags: false,
                plus_addresses: false
            })
        );
        assert!(TagSources::disabling("subjects").is_err());
    }
}
