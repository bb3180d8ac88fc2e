//! `smtp-fixture`: a port of `python -m smtpd` with a test server's
//! scripting and a Mailpit-compatible service mode. The command line lives
//! in the library (`src/cli/`), where it reaches the private service.

fn main() -> std::process::ExitCode {
    smtp_fixture::cli_main()
}
