//! The crate's one way to take a lock.
//!
//! Every mutex in the crate guards plain state (maps, lists, logs, a
//! writer) that a panic cannot leave half-changed in a way that matters: a
//! panic in one session's hook must not turn into a panic in every later
//! session that touches the same state, so a poisoned lock is taken as it
//! is.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_taken_as_it_is() {
        let mutex = Mutex::new(vec![1]);
        let poisoner = std::panic::catch_unwind(|| {
            let mut guard = mutex.lock().unwrap();
            guard.push(2);
            panic!("while holding the lock");
        });
        assert!(poisoner.is_err());
        assert!(mutex.is_poisoned());
        assert_eq!(*lock(&mutex), [1, 2]);
    }
}
