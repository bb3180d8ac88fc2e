//! Messages and transcripts on disk, for looking at after a failed test.

use std::fs;
use std::io;
use std::path::PathBuf;

use super::report;
use super::store::Store;

/// Writes `NNN.eml` per message and `transcripts.txt` into a new directory
/// under the system's temporary directory, which is kept.
pub(crate) fn save(store: &Store) -> io::Result<PathBuf> {
    let dir = tempfile::Builder::new().prefix("smtp-fixture-").tempdir()?;
    let messages = store.lock().messages.clone();
    for (index, message) in messages.iter().enumerate() {
        fs::write(dir.path().join(format!("{:03}.eml", index + 1)), &message.data)?;
    }
    fs::write(dir.path().join("transcripts.txt"), report::received(store))?;
    Ok(dir.keep())
}
