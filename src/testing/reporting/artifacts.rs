//! Messages and transcripts on disk, for looking at after a failed test.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::report;
use crate::testing::recording::store::Store;

/// Writes `NNN.eml` per message and `transcripts.txt` into a new directory
/// under the system's temporary directory, which is kept.
pub(crate) fn save(store: &Store) -> io::Result<PathBuf> {
    let dir = new_directory()?;
    let messages = store.lock().messages.clone();
    for (index, message) in messages.iter().enumerate() {
        fs::write(dir.join(format!("{:03}.eml", index + 1)), &message.data)?;
    }
    fs::write(dir.join("transcripts.txt"), report::received(store))?;
    Ok(dir)
}

/// Creates `smtp-fixture-PID-N-NANOS` in the temporary directory, readable
/// by its owner only. Creating a directory fails if the name exists, so
/// two processes (or fixtures) never share one; on a clash the next name
/// is tried.
fn new_directory() -> io::Result<PathBuf> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::env::temp_dir();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let mut attempts = 0;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = base.join(format!("smtp-fixture-{}-{n}-{nanos:09}", std::process::id()));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_directory_is_new_and_private() {
        let first = new_directory().expect("a directory");
        let second = new_directory().expect("another directory");
        assert_ne!(first, second);
        for dir in [&first, &second] {
            assert!(dir.is_dir(), "{}", dir.display());
            let name = dir.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            assert!(name.starts_with("smtp-fixture-"), "{name}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(dir).expect("metadata").permissions().mode();
                assert_eq!(mode & 0o777, 0o700, "{}", dir.display());
            }
        }
        fs::remove_dir(&first).expect("removed");
        fs::remove_dir(&second).expect("removed");
    }
}
