//! An app that retries a mail the server refused for now (`451`), and its
//! test: the fixture answers the first attempt with `451`, the second is
//! accepted.
//!
//! ```sh
//! cargo run --example retry_on_451
//! ```
//!
//! [`send_with_retry`] is the app's code; [`retries_a_temporary_failure`]
//! and [`gives_up_on_a_permanent_failure`] are its tests, run by `main` and
//! by `tests/fixture/example_apps.rs` under `cargo test`.

use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::transport::smtp::Error;
use lettre::{Message, SmtpTransport, Transport};
use smtp_fixture::{on, Reply, TestSmtpServer};

// ---------------------------------------------------------------- the app

/// Sends `email`, trying again after `backoff` (doubled each time) while
/// the server answers with a transient `4xx`, at most `attempts` times in
/// all. Returns how many attempts it took; a permanent `5xx` or a
/// connection error is returned at once.
pub fn send_with_retry(
    mailer: &SmtpTransport,
    email: &Message,
    attempts: u32,
    backoff: Duration,
) -> Result<u32, Error> {
    let mut wait = backoff;
    for attempt in 1.. {
        match mailer.send(email) {
            Ok(_) => return Ok(attempt),
            Err(error) if error.is_transient() && attempt < attempts => {
                eprintln!("attempt {attempt}: {error}; retrying in {wait:?}");
                thread::sleep(wait);
                wait *= 2;
            }
            Err(error) => return Err(error),
        }
    }
    unreachable!("the loop returns")
}

fn receipt(to: &str) -> Message {
    Message::builder()
        .from("Shop <shop@example.com>".parse().expect("a valid mailbox"))
        .to(to.parse().expect("a valid mailbox"))
        .subject("Your receipt")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("Thank you for your order.\n"))
        .expect("a valid message")
}

// -------------------------------------------------------------- the tests

fn mailer(server: &TestSmtpServer) -> SmtpTransport {
    SmtpTransport::builder_dangerous(server.host())
        .port(server.port())
        .build()
}

/// The first delivery gets `451`, the app retries, the retry is accepted.
pub fn retries_a_temporary_failure() -> Result<(), String> {
    let server = TestSmtpServer::start();
    server
        .respond(on::message(), Reply::new(451, "4.3.0 Try again later"))
        .times(1);

    let attempts = send_with_retry(
        &mailer(&server),
        &receipt("ann@example.com"),
        3,
        Duration::from_millis(50),
    )
    .map_err(|error| format!("the retry was not accepted: {error}"))?;
    println!("delivered after {attempts} attempts");

    let refused = server.rejected();
    let delivered = server.messages_to("ann@example.com");
    println!(
        "server: {} refused ({}), {} accepted",
        refused.len(),
        refused
            .iter()
            .filter_map(|r| r.reply.as_ref().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        delivered.len()
    );
    if attempts != 2 || refused.len() != 1 || delivered.len() != 1 {
        return Err(format!(
            "expected 2 attempts, 1 refused and 1 accepted message; got {attempts}, {} and {}\n{server}",
            refused.len(),
            delivered.len()
        ));
    }
    Ok(())
}

/// A `550` is final: one attempt, no retry, the error reaches the caller.
pub fn gives_up_on_a_permanent_failure() -> Result<(), String> {
    let server = TestSmtpServer::start();
    server.respond(
        on::rcpt_to("gone@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );

    let result = send_with_retry(
        &mailer(&server),
        &receipt("gone@example.com"),
        3,
        Duration::from_millis(50),
    );
    let sessions = server.transcripts().len();
    println!("550: {result:?} after {sessions} session(s)");
    match result {
        Err(error) if error.is_permanent() && sessions == 1 => Ok(()),
        other => Err(format!(
            "expected one attempt failing permanently, got {other:?} in {sessions} sessions"
        )),
    }
}

fn main() -> ExitCode {
    let mut failed = false;
    for (name, test) in [
        (
            "retries a temporary failure",
            retries_a_temporary_failure as fn() -> Result<(), String>,
        ),
        ("gives up on a permanent failure", gives_up_on_a_permanent_failure),
    ] {
        match test() {
            Ok(()) => println!("ok: {name}"),
            Err(problem) => {
                eprintln!("FAILED: {name}: {problem}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
