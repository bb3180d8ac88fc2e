//! The example apps' own tests, run under `cargo test` (the examples are
//! built by `cargo test` but not run): the sign-up that mails a
//! confirmation link, and the sender that retries on `451`.

// Each example is a program with a `main` that only `cargo run` calls.
#[allow(dead_code)]
#[path = "../examples/signup_confirmation.rs"]
mod signup_confirmation;

#[allow(dead_code)]
#[path = "../examples/retry_on_451.rs"]
mod retry_on_451;

#[tokio::test]
async fn signup_confirmation_follows_the_mailed_link_into_the_app() {
    signup_confirmation::sign_up_and_confirm()
        .await
        .unwrap_or_else(|problem| panic!("{problem}"));
}

#[test]
fn retry_on_451_retries_a_temporary_failure() {
    retry_on_451::retries_a_temporary_failure().unwrap_or_else(|problem| panic!("{problem}"));
}

#[test]
fn retry_on_451_gives_up_on_a_permanent_failure() {
    retry_on_451::gives_up_on_a_permanent_failure().unwrap_or_else(|problem| panic!("{problem}"));
}
