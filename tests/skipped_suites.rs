//! Says which suites this feature set does not build, so that a run without
//! `--all-features` shows what it left out (cargo skips a test target whose
//! `required-features` are off without a word). Each test's name is the
//! notice; it prints the command that runs the suites.

mod support;

#[cfg(not(feature = "cli"))]
#[test]
fn binary_suites_skipped_without_feature_cli() {
    support::skip(
        "tests/cli*.rs and tests/parity_with_python.rs run the smtp-fixture binary, \
         which is built with feature `cli`; `cargo test --all-features` runs them",
    );
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_auth_skipped_without_feature_tls() {
    support::skip("tests/tls_auth.rs needs feature `tls`; `cargo test --all-features` runs it");
}

#[cfg(not(feature = "tls-generate"))]
#[test]
fn tls_faults_skipped_without_feature_tls_generate() {
    support::skip(
        "tests/tls_faults.rs makes certificates at run time, with feature `tls-generate`; \
         `cargo test --all-features` runs it",
    );
}
