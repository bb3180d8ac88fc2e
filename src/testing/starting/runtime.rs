//! The background runtime every fixture in the process shares.
//!
//! One runtime for all fixtures means an idle fixture costs no thread, and a
//! fixture works the same from a plain `#[test]`, from either flavour of
//! `#[tokio::test]`, and beside blocking clients: the server never runs on
//! the test's own runtime, so a blocking client there cannot starve it.

use std::sync::LazyLock;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("smtp-fixture")
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("smtp-fixture: cannot start its background tokio runtime: {error}"))
});

/// The shared runtime.
pub(crate) fn runtime() -> &'static Runtime {
    &RUNTIME
}
