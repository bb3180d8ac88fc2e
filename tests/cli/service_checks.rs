//! Service mode's reading aids over real sockets: Mailpit's attachment
//! thumbnails (`/part/{PartID}/thumb`), its HTML check (`/html-check`) and
//! plus-address tags, against `smtp-fixture --http` started as a process.

use std::io::Cursor;

use base64::Engine;
use image::{Rgb, RgbImage};
use pretty_assertions::assert_eq;

use crate::http::get;
use crate::service::{send, service, ORDER};

/// A 600x200 PNG: blue, with a red band over the middle half (x 150..450).
fn banded_png() -> Vec<u8> {
    let image = RgbImage::from_fn(600, 200, |x, _| {
        if (150..450).contains(&x) {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

fn with_image(png: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(png);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "From: shop@example.com\r\nTo: ann@example.com\r\nSubject: photo\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee the photo.\r\n\
         --b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=band.png\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        lines.join("\r\n")
    )
}

fn is_red(pixel: Rgb<u8>) -> bool {
    let [red, green, blue] = pixel.0;
    red > 200 && green < 60 && blue < 60
}

#[test]
fn thumbnails_cover_and_crop_images_and_are_blank_for_other_parts() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], &with_image(&banded_png())).starts_with("250"));
    assert!(send(binary.addr(), &["ann@example.com"], ORDER).starts_with("250"));
    let photo = get(http, "/api/v1/message/1").json();
    let part = photo["Attachments"][0]["PartID"].as_str().unwrap().to_string();

    let thumb = get(http, &format!("/api/v1/message/1/part/{part}/thumb"));
    assert_eq!(
        (
            thumb.status,
            thumb.header("content-type"),
            thumb.header("content-disposition")
        ),
        (200, Some("image/jpeg"), Some("filename=\"band.png\""))
    );
    let image = image::load_from_memory_with_format(&thumb.body, image::ImageFormat::Jpeg)
        .expect("a JPEG")
        .to_rgb8();
    assert_eq!(image.dimensions(), (180, 120));
    // Scaled to 360x120 to cover the frame, then its centre 180 columns
    // kept: the red band only (scaled to fit, blue would show at the sides).
    for (x, y) in [(3, 3), (176, 3), (90, 60), (3, 116), (176, 116)] {
        assert!(
            is_red(*image.get_pixel(x, y)),
            "({x}, {y}) is {:?}",
            image.get_pixel(x, y)
        );
    }

    let pdf = get(http, "/api/v1/message/2").json()["Attachments"][0]["PartID"]
        .as_str()
        .unwrap()
        .to_string();
    let blank = get(http, &format!("/api/v1/message/2/part/{pdf}/thumb"));
    assert_eq!(
        (blank.status, blank.header("content-type")),
        (200, Some("image/jpeg"))
    );
    let blank = image::load_from_memory(&blank.body).expect("a JPEG").to_rgb8();
    assert_eq!(blank.dimensions(), (180, 120));
    assert!(blank.pixels().all(|p| p.0.iter().all(|&c| c > 245)), "white");

    for path in ["/api/v1/message/9/part/1/thumb", "/api/v1/message/1/part/7/thumb"] {
        let missing = get(http, path);
        assert_eq!(missing.status, 404, "{path}: {}", missing.text());
        assert!(missing.json()["Error"].is_string());
    }
}

const PLUS_ADDRESSED: &str = "From: Shop <shop+billing@example.com>\r\n\
    To: Ann <ann+news@example.com>\r\n\
    X-Tags: urgent\r\n\
    Subject: plus\r\n\r\nx\r\n";

#[test]
fn plus_addresses_tag_the_message_unless_disabled() {
    let (binary, http) = service(&[]);
    // The second recipient is envelope-only (Bcc): Mailpit reads it too.
    let to = ["ann+news@example.com", "bob+orders+2026@example.com"];
    assert!(send(binary.addr(), &to, PLUS_ADDRESSED).starts_with("250"));
    let message = get(http, "/api/v1/message/latest").json();
    assert_eq!(
        message["Tags"],
        serde_json::json!(["2026", "billing", "news", "orders", "urgent"])
    );
    let tagged = get(http, "/api/v1/search?query=tag:news").json();
    assert_eq!(tagged["messages_count"], 1);

    let (binary, http) = service(&["--tags-disable", "plus-addresses"]);
    assert!(send(binary.addr(), &to, PLUS_ADDRESSED).starts_with("250"));
    assert_eq!(get(http, "/api/v1/tags").json(), serde_json::json!(["urgent"]));
    let (binary, http) = service(&["--tags-disable", "x-tags,plus-addresses"]);
    assert!(send(binary.addr(), &to, PLUS_ADDRESSED).starts_with("250"));
    assert_eq!(get(http, "/api/v1/tags").json(), serde_json::json!([]));
}

const NEWSLETTER: &str = "From: shop@example.com\r\nTo: ann@example.com\r\nSubject: news\r\n\
    Content-Type: text/html; charset=utf-8\r\n\r\n\
    <!DOCTYPE html><html><head><style>\r\n\
    .box { display: flex; border-radius: 4px }\r\n\
    a:hover { color: red }\r\n\
    @media (max-width: 600px) { .box { display: block } }\r\n\
    </style></head><body>\r\n\
    <div class=\"box\" style=\"display:flex; width: 10rem\"><p>Hello</p></div>\r\n\
    <svg width=\"10\" height=\"10\"><circle r=\"4\"/></svg>\r\n\
    <video src=\"https://shop.test/a.mp4\"></video>\r\n\
    <img src=\"https://shop.test/logo.webp\" alt=\"\">\r\n\
    </body></html>\r\n";

fn percent(value: &serde_json::Value) -> f64 {
    let value = value.as_f64().unwrap_or_else(|| panic!("a number: {value}"));
    assert!((0.0..=100.0).contains(&value), "{value} is not a percentage");
    value
}

#[test]
fn the_html_check_names_the_features_used_with_caniemails_support() {
    let (binary, http) = service(&[]);
    assert!(send(binary.addr(), &["ann@example.com"], NEWSLETTER).starts_with("250"));
    assert!(send(binary.addr(), &["ann@example.com"], ORDER).starts_with("250"));

    let checked = get(http, "/api/v1/message/1/html-check");
    assert_eq!(checked.status, 200, "{}", checked.text());
    let checked = checked.json();
    let slugs: Vec<&str> = checked["Warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["Slug"].as_str().unwrap())
        .collect();
    for slug in [
        "html-body",
        "html-style",
        "html-svg",
        "html-video",
        "image-webp",
        "css-display",
        "css-display-flex",
        "css-border-radius",
        "css-width",
        "css-unit-rem",
        "css-at-media",
        "css-pseudo-class-hover",
    ] {
        assert!(slugs.contains(&slug), "{slug} not in {slugs:?}");
    }
    assert!(!slugs.contains(&"html-script") && !slugs.contains(&"css-position"));

    let flex = checked["Warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["Slug"] == "css-display-flex")
        .unwrap();
    assert_eq!(flex["Category"], "css");
    assert!(flex["URL"]
        .as_str()
        .unwrap()
        .starts_with("https://www.caniemail.com/"));
    // The inline style and the `.box` rule (a rule counts once here).
    assert_eq!(flex["Score"]["Found"], 2);
    let score = &flex["Score"];
    let sum = percent(&score["Supported"]) + percent(&score["Partial"]) + percent(&score["Unsupported"]);
    assert!((sum - 100.0).abs() < 0.01, "{score}");
    let outlook = flex["Results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Family"] == "outlook" && r["Platform"] == "windows")
        .expect("Outlook on Windows is in caniemail's flex data");
    assert!(outlook["Name"].as_str().unwrap().starts_with("Outlook Windows ("));
    assert_eq!(outlook["Support"], "no");

    let total = &checked["Total"];
    let sum = percent(&total["Supported"]) + percent(&total["Partial"]) + percent(&total["Unsupported"]);
    assert!((sum - 100.0).abs() < 0.01, "{total}");
    assert!(
        percent(&total["Unsupported"]) > 0.0,
        "flex and svg fail somewhere: {total}"
    );
    // body, style, div, p, svg, circle, video, img
    assert_eq!(total["Nodes"], 8);
    assert!(total["Tests"].as_u64().unwrap() > 150, "{total}");
    assert!(checked["Platforms"]["windows"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("Outlook")));

    let text_only = get(http, "/api/v1/message/2/html-check");
    assert_eq!(
        (text_only.status, text_only.json()["Error"].clone()),
        (400, "message does not contain HTML".into())
    );
    assert_eq!(get(http, "/api/v1/message/9/html-check").status, 404);
}

/// `--dns-txt`: the binary's authentication route checks a lettre-signed
/// message against the records given on the command line: DKIM, SPF and
/// DMARC pass; without the key's record, DKIM fails naming the name it
/// looked up.
#[cfg(feature = "dkim")]
#[test]
fn dns_txt_records_on_the_command_line_reach_the_authentication_route() {
    use lettre::message::dkim::{
        DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
    };
    use lettre::message::header::{ContentType, HeaderName};

    let key = DkimSigningKey::new(
        include_str!("../fixture/dkim_keys/rsa.pem").trim(),
        DkimSigningAlgorithm::Rsa,
    )
    .expect("the test key");
    let mut message = lettre::Message::builder()
        .from("shop@example.com".parse().unwrap())
        .to("ann@example.com".parse().unwrap())
        .subject("Your order")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Thank you.\n"))
        .unwrap();
    message.sign(&DkimConfig::new(
        "mail".to_string(),
        "example.com".to_string(),
        key,
        ["From", "Subject", "To"]
            .map(HeaderName::new_from_ascii_str)
            .to_vec(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ));
    let data = String::from_utf8(message.formatted()).unwrap();
    let key_record = format!(
        "--dns-txt=mail._domainkey.Example.com.={}",
        include_str!("../fixture/dkim_keys/rsa.dns.txt").trim()
    );
    let spf = "--dns-txt=example.com=v=spf1 ip4:127.0.0.1 -all";
    let dmarc = "--dns-txt=_dmarc.example.com=v=DMARC1; p=reject";

    let (binary, http) = service(&[&key_record, spf, dmarc]);
    assert!(send(binary.addr(), &["ann@example.com"], &data).starts_with("250"));
    let auth = get(http, "/api/v1/message/1/authentication").json();
    assert_eq!(auth["Enabled"], true, "{auth}");
    assert_eq!(auth["Dkim"][0]["Result"], "pass", "{auth}");
    assert_eq!(auth["Spf"], "pass", "{auth}");
    assert_eq!(auth["Dmarc"], "pass", "{auth}");

    let (binary, http) = service(&[spf, dmarc]);
    assert!(send(binary.addr(), &["ann@example.com"], &data).starts_with("250"));
    let auth = get(http, "/api/v1/message/1/authentication").json();
    assert_ne!(auth["Dkim"][0]["Result"], "pass", "{auth}");
    let reason = auth["Dkim"][0]["Reason"].as_str().unwrap_or_default();
    assert!(reason.contains("mail._domainkey.example.com"), "{auth}");
}
