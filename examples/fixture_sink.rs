//! A `TestSmtpServer` with the default options on `127.0.0.1:PORT`, kept
//! running until SIGTERM, ctrl-c or a time cap: the fixture's path
//! (recorder, transcript, store) under an outside load, so that
//! `bench/instructions.sh` can count its instructions per message beside
//! the command line's sink mode.
//!
//! ```sh
//! cargo build --release --example fixture_sink
//! target/release/examples/fixture_sink 8025 &
//! smtp-source -s 1 -m 1000 -l 1024 127.0.0.1:8025
//! kill %1
//! ```

use std::process::ExitCode;
use std::time::Duration;

use smtp_fixture::TestSmtpServer;
use tokio::signal::unix::{signal, SignalKind};

/// However it is started, the server does not outlive this.
const DEFAULT_CAP: Duration = Duration::from_secs(600);

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(port) = args.next().and_then(|port| port.parse::<u16>().ok()) else {
        eprintln!("usage: fixture_sink PORT [SECONDS]  (runs until SIGTERM, ctrl-c or SECONDS, default 600)");
        return ExitCode::from(2);
    };
    let cap = args
        .next()
        .and_then(|seconds| seconds.parse::<u64>().ok())
        .map_or(DEFAULT_CAP, Duration::from_secs);

    let server = TestSmtpServer::builder().port(port).keep_artifacts(false).start();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("fixture_sink: cannot start a runtime for the signals: {error}");
            return ExitCode::FAILURE;
        }
    };
    let waited = runtime.block_on(async {
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
            () = tokio::time::sleep(cap) => {}
        }
        Ok::<(), std::io::Error>(())
    });
    if let Err(error) = waited {
        eprintln!("fixture_sink: cannot wait for a signal: {error}");
        return ExitCode::FAILURE;
    }
    // Nothing is read back: a copy of every record would be counted as the
    // cost of each message.
    drop(server);
    ExitCode::SUCCESS
}
