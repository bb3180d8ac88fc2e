//! The text of a fixture's failure: what was expected, what arrived, and
//! what was said on the wire.

use std::fmt::Write;
use std::panic::Location;

use tokio::runtime::{Handle, RuntimeFlavor};

use crate::testing::recording::store::Store;

/// Sessions shown in full in a report; earlier ones are only counted.
const SESSIONS_SHOWN: usize = 20;

/// `smtp-fixture: <problem>` followed by the messages received and the
/// transcripts of the sessions.
pub(crate) fn failure(store: &Store, problem: &str) -> String {
    let mut text = format!("smtp-fixture: {problem}\n");
    text.push_str(&received(store));
    text
}

/// The messages and transcripts, for reports and for `Display`.
pub(crate) fn received(store: &Store) -> String {
    let (messages, rejected, refused_recipients, dropped) = {
        let records = store.lock();
        (
            records.messages.clone(),
            records.rejected.clone(),
            records.refused_recipients.clone(),
            records.transcripts_dropped,
        )
    };
    let mut text = String::new();
    let _ = writeln!(text, "\nMessages received ({}):", messages.len());
    if messages.is_empty() {
        text.push_str("  (none)\n");
    }
    for (index, message) in messages.iter().enumerate() {
        let _ = writeln!(text, "  {}. {}", index + 1, message.summary());
    }
    if !rejected.is_empty() {
        let _ = writeln!(
            text,
            "\nMessages refused at the final reply ({}):",
            rejected.len()
        );
        for (index, refused) in rejected.iter().enumerate() {
            let answer = refused
                .reply
                .as_ref()
                .map_or("disconnected".to_string(), |r| r.to_string());
            let _ = writeln!(text, "  {}. {} => {answer}", index + 1, refused.message.summary());
        }
    }
    let (after_data, at_rcpt): (Vec<_>, Vec<_>) = refused_recipients.iter().partition(|r| r.after_data);
    for (refused_recipients, when) in [
        (at_rcpt, "at RCPT TO"),
        (after_data, "at their final reply (LMTP)"),
    ] {
        if refused_recipients.is_empty() {
            continue;
        }
        let _ = writeln!(
            text,
            "\nRecipients refused {when} ({}):",
            refused_recipients.len()
        );
        for (index, refused) in refused_recipients.iter().enumerate() {
            let answer = refused
                .reply
                .as_ref()
                .map_or("disconnected".to_string(), |r| r.to_string());
            let _ = writeln!(
                text,
                "  {}. {} => {answer} (session {})",
                index + 1,
                refused.address,
                refused.session_id
            );
        }
    }
    let transcripts = store.transcripts();
    let hidden = transcripts.len().saturating_sub(SESSIONS_SHOWN) + dropped;
    let _ = writeln!(
        text,
        "\nSMTP transcripts ({} sessions):",
        transcripts.len() + dropped
    );
    if transcripts.is_empty() {
        text.push_str("  (no client connected)\n");
    }
    if hidden > 0 {
        let _ = writeln!(text, "  ({hidden} earlier sessions not shown)");
    }
    for transcript in transcripts
        .iter()
        .skip(transcripts.len().saturating_sub(SESSIONS_SHOWN))
    {
        let _ = write!(text, "{transcript}");
    }
    text
}

/// Panics with `report` as if at `caller`. A panic inside a future is
/// placed where `panic!` is written (in this crate), however the future
/// was made; so the line the panic hook would print is printed here,
/// naming the test's own line, and the panic carries on without the hook.
/// The report ends with the same line, for a reader of the payload alone
/// (a `JoinError`, `#[should_panic(expected)]`).
pub(crate) fn panic_at(caller: &'static Location<'static>, report: String) -> ! {
    let thread = std::thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let report = format!("{report}\n(the wait was called at {caller})");
    eprintln!("\nthread '{name}' panicked at {caller}:\n{report}");
    std::panic::resume_unwind(Box::new(report))
}

/// When a blocking wait runs on a current-thread tokio runtime, why it saw
/// nothing: the runtime's only thread was blocked by the wait itself.
pub(crate) fn blocked_runtime_hint(async_twin: &str) -> Option<String> {
    let handle = Handle::try_current().ok()?;
    (handle.runtime_flavor() == RuntimeFlavor::CurrentThread).then(|| {
        format!(
            "This blocking wait ran on a current-thread tokio runtime (the default of #[tokio::test]) \
             and held its only thread, so no task of that runtime (an app sending from a spawned task) \
             could run while it waited. Use `{async_twin}(..).await` in async tests, or \
             #[tokio::test(flavor = \"multi_thread\")]."
        )
    })
}
