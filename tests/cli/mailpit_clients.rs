//! Mailpit's own client libraries against `smtp-fixture --http`: the npm
//! `mailpit-api`, `cypress-mailpit`'s commands (run in node, see
//! tests/mailpit_clients/cypress_check.mjs) and the PyPI
//! `mailpit-api-client`, pinned in
//! tests/mailpit_clients/ and installed there by `.ci/run`:
//!
//! ```text
//! (cd tests/mailpit_clients && npm ci --no-audit --no-fund)
//! python3 -m venv tests/mailpit_clients/venv
//! tests/mailpit_clients/venv/bin/pip install -q -r tests/mailpit_clients/requirements.txt
//! ```
//!
//! Each check sends mail with Python's smtplib and reads it back through
//! the client's own methods. Without the clients installed the tests say
//! so and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Binary;

use crate::support;

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mailpit_clients")
}

/// The binary in service mode, and its HTTP base URL.
fn service() -> (Binary, String) {
    crate::service::service_url(&[])
}

fn run_check(mut command: Command, name: &str) {
    let (binary, url) = service();
    let output = command
        .arg(binary.port.to_string())
        .arg(&url)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the {name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(output.status.success(), "the {name} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all passed"), "{stdout}");
}

#[test]
fn npm_mailpit_api_client() {
    let dir = clients_dir();
    if !dir.join("node_modules/mailpit-api/package.json").exists() {
        needs_tool!(Err::<(), _>(
            "npm mailpit-api is not installed in tests/mailpit_clients \
             (`cd tests/mailpit_clients && npm ci`, as .ci/run does)"
                .to_string()
        ));
    }
    let mut command = Command::new("node");
    command.arg(dir.join("node_check.mjs"));
    run_check(command, "npm client check");
}

/// Inboxes over HTTP (ours): made with `fetch`, read with the npm client's
/// `searchMessages`/`waitForMessage` through the term `inbox:ID`.
#[test]
fn npm_mailpit_api_reads_an_inbox() {
    let dir = clients_dir();
    if !dir.join("node_modules/mailpit-api/package.json").exists() {
        needs_tool!(Err::<(), _>(
            "npm mailpit-api is not installed in tests/mailpit_clients \
             (`cd tests/mailpit_clients && npm ci`, as .ci/run does)"
                .to_string()
        ));
    }
    let mut command = Command::new("node");
    command.arg(dir.join("inbox_check.mjs"));
    run_check(command, "npm inbox check");
}

#[test]
fn cypress_mailpit_commands() {
    let dir = clients_dir();
    if !dir.join("node_modules/cypress-mailpit/package.json").exists() {
        needs_tool!(Err::<(), _>(
            "npm cypress-mailpit is not installed in tests/mailpit_clients \
             (`cd tests/mailpit_clients && npm ci`, as .ci/run does)"
                .to_string()
        ));
    }
    let mut command = Command::new("node");
    command.arg(dir.join("cypress_check.mjs"));
    run_check(command, "cypress-mailpit check");
}

#[test]
fn pypi_mailpit_api_client() {
    let python = clients_dir().join("venv/bin/python");
    let installed = python.exists()
        && Command::new(&python)
            .args(["-c", "import mailpit.client.api"])
            .status()
            .is_ok_and(|status| status.success());
    if !installed {
        needs_tool!(Err::<(), _>(
            "PyPI mailpit-api-client is not installed in tests/mailpit_clients/venv \
             (`python3 -m venv tests/mailpit_clients/venv && tests/mailpit_clients/venv/bin/pip install \
             -r tests/mailpit_clients/requirements.txt`, as .ci/run does)"
                .to_string()
        ));
    }
    let mut command = Command::new(python);
    command.arg(clients_dir().join("python_check.py"));
    run_check(command, "PyPI client check");
}
