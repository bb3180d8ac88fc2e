//! The web page of `smtp-fixture --http` in a real browser: Debian's
//! `chromium`, headless, driven by tests/web/browser_check.mjs over the
//! DevTools protocol (node's built-in WebSocket). `.ci/run` installs
//! chromium; without it (or without node) the test says so and passes.
//! On failure, screenshots of the page at 1280 and 390 px wide are kept in
//! `target/tmp/service_web/` (the path is printed).

use std::path::Path;
use std::process::Command;

fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn the_web_page_in_headless_chromium() {
    if !available("chromium", &["--version"]) {
        needs_tool!(Err::<(), _>(
            "no `chromium` on PATH (.ci/run installs Debian's chromium package)".to_string()
        ));
    }
    if !available(
        "node",
        &[
            "--experimental-websocket",
            "-e",
            "if (typeof WebSocket !== 'function') process.exit(1)",
        ],
    ) {
        needs_tool!(Err::<(), _>(
            "no node with a built-in WebSocket (node 20.10 or later) to drive the browser".to_string()
        ));
    }
    let (binary, url) = crate::service::service_url(&[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/browser_check.mjs");
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("service_web");
    let output = Command::new("node")
        .arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(script)
        .arg(&url)
        .arg(binary.port.to_string())
        .arg(&artifacts)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the browser check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("browser_check: all passed"), "{stdout}");
}
