//! `GET /view/{ID}.txt` and `/view/{ID}.html`: one part of a message
//! alone, as Mailpit serves them for UI tests (and as the web page shows a
//! message's HTML): inline `cid:` images point at their part URLs.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::IntoResponse;

use super::api::find;
use super::mailpit::Parsed;
use super::request::{param, query_pairs, ApiError, ApiResult};
use super::Shared;

/// The policy of a message's HTML: a unique origin without scripts;
/// images from its own parts (`cid:` rewritten to part URLs on this
/// origin) and `data:`, nothing else loaded from anywhere.
pub(crate) const MESSAGE_CSP: &str =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; font-src data:";

/// The same, with remote images allowed (`?remote=1`: the web page's
/// "remote images" toggle). Still no scripts and no other remote loads.
const MESSAGE_CSP_REMOTE_IMAGES: &str =
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src * data:; font-src data:";

pub(crate) async fn view(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let (id, html) = match (file.strip_suffix(".html"), file.strip_suffix(".txt")) {
        (Some(id), _) => (id, true),
        (_, Some(id)) => (id, false),
        _ => {
            return Err(ApiError::not_found(format!(
                "no view {file:?}: want ID.txt or ID.html"
            )))
        }
    };
    let (message, meta) = find(&shared, id)?;
    let parsed = Parsed::of(&message);
    if !html {
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], parsed.text).into_response());
    }
    if parsed.html.is_empty() {
        return Err(ApiError::not_found(format!(
            "message {id} does not contain an HTML part"
        )));
    }
    let remote = param(&query_pairs(&query), "remote") == Some("1");
    let html = link_inline_images(&parsed, meta.id);
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The message's HTML is not ours: no scripts, and a unique
            // origin, so it cannot reach the API.
            (
                header::CONTENT_SECURITY_POLICY,
                if remote {
                    MESSAGE_CSP_REMOTE_IMAGES
                } else {
                    MESSAGE_CSP
                },
            ),
        ],
        html,
    )
        .into_response())
}

/// The message's HTML with every `cid:CONTENT-ID` that an attribute names
/// (`src="cid:logo"`, `src=cid:logo`) replaced by the part's URL, as
/// Mailpit's `linkInlineImages`: the reference must follow `=`, an
/// optional quote, and end at a quote, space, `/`, `>` or `;`.
fn link_inline_images(parsed: &Parsed, id: u64) -> String {
    let mut html = parsed.html.clone();
    for part in &parsed.parts {
        let content_id = &part.summary.content_id;
        if content_id.is_empty() {
            continue;
        }
        let url = format!("/api/v1/message/{id}/part/{}", part.summary.part_id);
        html = replace_cid(&html, content_id, &url);
    }
    html
}

fn replace_cid(html: &str, content_id: &str, url: &str) -> String {
    let needle = format!("cid:{content_id}").to_ascii_lowercase();
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        from = end;
        let before = lower[..start].trim_end_matches(['"', '\'']);
        let opened = before.ends_with('=') && start - before.len() <= 1;
        let closed = lower[end..]
            .chars()
            .next()
            .is_some_and(|c| matches!(c, '"' | '\'' | '/' | '>' | ';') || c.is_whitespace());
        if opened && closed {
            out.push_str(&html[copied..start]);
            out.push_str(url);
            copied = end;
        }
    }
    out.push_str(&html[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::replace_cid;

    #[test]
    fn cid_references_in_attributes_become_part_urls() {
        let url = "/api/v1/message/7/part/2";
        for (html, expected) in [
            (
                r#"<img src="cid:logo@x">"#,
                r#"<img src="/api/v1/message/7/part/2">"#,
            ),
            ("<img src='CID:Logo@X'/>", "<img src='/api/v1/message/7/part/2'/>"),
            ("<img src=cid:logo@x >", "<img src=/api/v1/message/7/part/2 >"),
            // Another ID that starts the same, and text that only mentions it.
            (r#"<img src="cid:logo@x.y">"#, r#"<img src="cid:logo@x.y">"#),
            ("see cid:logo@x here", "see cid:logo@x here"),
        ] {
            assert_eq!(replace_cid(html, "logo@x", url), expected, "{html}");
        }
    }
}
