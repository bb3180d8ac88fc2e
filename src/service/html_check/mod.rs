//! `GET /api/v1/message/{ID}/html-check`: Mailpit's HTML check (its
//! `internal/htmlcheck`), ported: which HTML and CSS features the
//! message's HTML uses, how well email clients support each (caniemail.com's
//! data), and a weighted total. The same JSON shape (`Warnings`,
//! `Platforms`, `Total`) and scoring as Mailpit; what the scan sees is said
//! in `scan.rs`.
//!
//! The data, `caniemail.json`, is caniemail.com's (MIT), as Mailpit ships
//! it (`internal/htmlcheck/caniemail-data.json`, axllent/mailpit, MIT; its
//! `source` and `last_update_date` fields say which copy), cut down by
//! `tools/caniemail_compact.py` to the features tested here.

mod rules;
mod scan;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::api::find;
use super::mailpit::Parsed;
use super::request::{json_response, ApiError, ApiResult};
use super::Shared;
use rules::{
    BODY_TEST, DECLARATION_TESTS, HTML_TESTS, IMAGE_TESTS, INITIAL_TEST, STYLE_ATTRIBUTES, STYLE_TEXT_TESTS,
    UNIT_TESTS,
};
use scan::{initial_count, scan, unit_count, Scan};

const DATA: &str = include_str!("caniemail.json");

#[derive(Deserialize)]
struct Data {
    families: BTreeMap<String, String>,
    platform_names: BTreeMap<String, String>,
    platforms: BTreeMap<String, Vec<String>>,
    features: BTreeMap<String, Feature>,
}

#[derive(Deserialize)]
struct Feature {
    title: String,
    description: String,
    url: String,
    category: String,
    tags: Vec<String>,
    notes: BTreeMap<String, String>,
    /// `[family, platform, version, support]`, as caniemail lists them.
    stats: Vec<[String; 4]>,
}

fn data() -> &'static Data {
    static DATA_PARSED: OnceLock<Data> = OnceLock::new();
    DATA_PARSED.get_or_init(|| serde_json::from_str(DATA).expect("the shipped caniemail.json parses"))
}

/// Mailpit's `HTMLCheckResponse`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    warnings: Vec<Warning>,
    platforms: &'static BTreeMap<String, Vec<String>>,
    total: Total,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Warning {
    slug: String,
    title: String,
    description: String,
    #[serde(rename = "URL")]
    url: String,
    category: String,
    tags: Vec<String>,
    keywords: String,
    results: Vec<CheckResult>,
    notes_by_number: BTreeMap<String, String>,
    score: Score,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CheckResult {
    name: String,
    platform: String,
    family: String,
    version: String,
    support: &'static str,
    note_number: String,
}

#[derive(Serialize, Default, Clone, Copy)]
#[serde(rename_all = "PascalCase")]
struct Score {
    found: usize,
    supported: f32,
    partial: f32,
    unsupported: f32,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
struct Total {
    tests: usize,
    nodes: usize,
    supported: f32,
    partial: f32,
    unsupported: f32,
}

pub(crate) async fn html_check(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> ApiResult {
    let (message, _) = find(&shared, &id)?;
    let html = Parsed::of(&message).html;
    if html.is_empty() {
        // Mailpit's status and words.
        return Err(ApiError::bad_request("message does not contain HTML"));
    }
    let checked = tokio::task::spawn_blocking(move || check(&html))
        .await
        .map_err(|_| ApiError::bad_request("the HTML check failed"))?;
    Ok(json_response(&checked))
}

/// The warning for `slug` found `found` times, or `None` when the data
/// has no such feature (Mailpit answers `400` then; it is skipped here).
fn warning(slug: &str, found: usize) -> Option<Warning> {
    let data = data();
    let feature = data.features.get(slug)?;
    let (mut yes, mut no, mut partial) = (0.0f32, 0.0f32, 0.0f32);
    let results = feature
        .stats
        .iter()
        .map(|[family, platform, version, support]| {
            let (support, note_number) = match support.as_str() {
                "y" => {
                    yes += 1.0;
                    ("yes", String::new())
                }
                "n" => {
                    no += 1.0;
                    ("no", String::new())
                }
                other => {
                    partial += 1.0;
                    ("partial", note_number(other))
                }
            };
            CheckResult {
                name: format!(
                    "{} {} ({version})",
                    data.families.get(family).map_or("", String::as_str),
                    data.platform_names.get(platform).map_or("", String::as_str)
                ),
                platform: platform.clone(),
                family: family.clone(),
                version: version.clone(),
                support,
                note_number,
            }
        })
        .collect();
    let total = (yes + no + partial).max(1.0);
    Some(Warning {
        slug: slug.to_string(),
        title: feature.title.clone(),
        description: feature.description.clone(),
        url: feature.url.clone(),
        category: feature.category.clone(),
        tags: feature.tags.clone(),
        keywords: String::new(),
        results,
        notes_by_number: feature.notes.clone(),
        score: Score {
            found,
            supported: yes / total * 100.0,
            partial: partial / total * 100.0,
            unsupported: no / total * 100.0,
        },
    })
}

/// The note of a partial support value, `a #2` -> `2`: Mailpit's ` #(\d)+$`,
/// whose group keeps the last digit.
fn note_number(support: &str) -> String {
    let Some((_, number)) = support.rsplit_once(" #") else {
        return String::new();
    };
    if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
        number[number.len() - 1..].to_string()
    } else {
        String::new()
    }
}

/// The whole check of `html`, Mailpit's `RunTests`.
fn check(html: &str) -> Response {
    let page = scan(html);
    let mut tests = 0;
    let mut warnings = html_warnings(&page, &mut tests);
    warnings.extend(css_warnings(&page, &mut tests));
    let nodes = page.nodes;
    // Mailpit divides by the node count as is; a share over 1 (more
    // matches than elements) or no elements would put a total outside
    // 0..=100, so the share is capped at 1.
    let weight = |score: &Score| (score.found as f32 / nodes.max(1) as f32).min(1.0);
    let (mut partial, mut unsupported) = (0.0f32, 0.0f32);
    for warning in warnings.iter().filter(|w| w.score.found > 0) {
        partial = partial.max(warning.score.partial * weight(&warning.score));
        unsupported = unsupported.max(warning.score.unsupported * weight(&warning.score));
    }
    let partial = partial.min(100.0 - unsupported);
    // Lowest scores first.
    let badness =
        |w: &Warning| (w.score.unsupported + w.score.partial) * w.score.found as f32 / nodes.max(1) as f32;
    warnings.sort_by(|a, b| badness(b).total_cmp(&badness(a)));
    Response {
        warnings,
        platforms: &data().platforms,
        total: Total {
            tests,
            nodes,
            supported: 100.0 - partial - unsupported,
            partial,
            unsupported,
        },
    }
}

/// Mailpit's `runHTMLTests`, its count of tests included (a test that
/// finds something counts twice there, and here).
fn html_warnings(page: &Scan, tests: &mut usize) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let scripts = page
        .elements
        .iter()
        .filter(|(name, attributes)| {
            name == "script"
                && !matches!(
                    attributes.get("type").map(String::as_str),
                    Some("application/ld+json" | "application/json")
                )
        })
        .count();
    if scripts > 0 {
        *tests += 1;
        warnings.push(Warning {
            slug: "html-script".into(),
            title: "<script> element".into(),
            description: "JavaScript is not supported in any email client.".into(),
            url: String::new(),
            category: "html".into(),
            tags: Vec::new(),
            keywords: String::new(),
            results: Vec::new(),
            notes_by_number: BTreeMap::new(),
            score: Score {
                found: scripts,
                unsupported: 100.0,
                ..Score::default()
            },
        });
    }
    *tests += 1; // html-body
    if page.has_body_end {
        warnings.extend(warning(BODY_TEST, 1));
    }
    for (slug, elements) in HTML_TESTS {
        *tests += 1;
        let found = page
            .elements
            .iter()
            .filter(|(name, attributes)| elements.iter().any(|e| e.matches(name, attributes)))
            .count();
        if found > 0 {
            *tests += 1;
            warnings.extend(warning(slug, found));
        }
    }
    *tests += IMAGE_TESTS.len();
    for (slug, endings) in IMAGE_TESTS {
        let found = page
            .elements
            .iter()
            .filter_map(|(name, attributes)| (name == "img").then(|| attributes.get("src")).flatten())
            .filter(|src| {
                let src = src.to_ascii_lowercase();
                if endings.is_empty() {
                    src.starts_with("data:image/")
                } else {
                    endings.iter().any(|ending| src.ends_with(ending))
                }
            })
            .count();
        if found > 0 {
            warnings.extend(warning(slug, found));
        }
    }
    warnings
}

/// Mailpit's `runCSSTests`, over the declaration lists and `<style>` text
/// of `page`.
fn css_warnings(page: &Scan, tests: &mut usize) -> Vec<Warning> {
    let mut found: BTreeMap<&str, usize> = BTreeMap::new();
    *tests += DECLARATION_TESTS.len() + STYLE_ATTRIBUTES.len();
    for style in &page.declarations {
        for (slug, matchers) in DECLARATION_TESTS {
            if matchers.iter().any(|m| m.matches(style)) {
                *found.entry(slug).or_default() += 1;
            }
        }
    }
    for (slug, attribute) in STYLE_ATTRIBUTES {
        if page
            .elements
            .iter()
            .any(|(_, attributes)| attributes.contains_key(*attribute))
        {
            *found.entry(slug).or_default() += 1;
        }
    }
    for (slug, unit) in UNIT_TESTS {
        *tests += 1;
        let count: usize = page
            .declarations
            .iter()
            .map(|style| unit_count(style, unit))
            .sum();
        *found.entry(slug).or_default() += count;
    }
    *tests += 1;
    let initial: usize = page.declarations.iter().map(|style| initial_count(style)).sum();
    *found.entry(INITIAL_TEST).or_default() += initial;
    for (slug, test) in STYLE_TEXT_TESTS {
        *tests += 1;
        *found.entry(slug).or_default() += test.count(&page.style_text);
    }
    found
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .filter_map(|(slug, count)| warning(slug, count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slug_tested_has_its_data_but_two_caniemail_lacks() {
        let slugs = std::iter::once(BODY_TEST)
            .chain(HTML_TESTS.iter().map(|(slug, _)| *slug))
            .chain(IMAGE_TESTS.iter().map(|(slug, _)| *slug))
            .chain(DECLARATION_TESTS.iter().map(|(slug, _)| *slug))
            .chain(UNIT_TESTS.iter().map(|(slug, _)| *slug))
            .chain([INITIAL_TEST])
            .chain(STYLE_TEXT_TESTS.iter().map(|(slug, _)| *slug));
        let missing: Vec<&str> = slugs
            .filter(|slug| !data().features.contains_key(*slug))
            .collect();
        // caniemail has neither: Mailpit's check fails on a .ppm image and
        // skips the style test.
        assert_eq!(missing, ["image-ppm", "css-margin-inline"]);
    }

    #[test]
    fn notes_and_scores() {
        assert_eq!(note_number("a #2"), "2");
        assert_eq!(
            note_number("a #12"),
            "2",
            "Mailpit's expression keeps the last digit"
        );
        assert_eq!(note_number("u"), "");
        let flex = warning("css-display-flex", 3).unwrap();
        let sum = flex.score.supported + flex.score.partial + flex.score.unsupported;
        assert!((sum - 100.0).abs() < 0.01, "{sum}");
        assert!(!flex.results.is_empty());
    }
}
