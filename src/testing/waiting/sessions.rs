//! Waiting for the server's sessions to end: what a test needs before it
//! reads a transcript whole, or checks that a client hung up.

use std::future::Future;
use std::panic::Location;

use crate::testing::recording::store::Records;
use crate::testing::starting::fixture::TestSmtpServer;

impl TestSmtpServer {
    /// Blocks until every session the server has seen so far has ended
    /// (each transcript is [`closed`](crate::Transcript::closed)), then
    /// returns their transcripts, oldest first.
    ///
    /// A session ends when the client quits or hangs up, or the server cuts
    /// it (a fault, a timeout). Read a transcript after this to see it
    /// whole: while a session runs, its transcript may still grow.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use smtp_fixture::TestSmtpServer;
    ///
    /// let server = TestSmtpServer::start();
    /// let mut client = std::net::TcpStream::connect(server.addr()).unwrap();
    /// client.write_all(b"NOOP\r\nQUIT\r\n").unwrap();
    /// client.read_to_end(&mut Vec::new()).unwrap();
    ///
    /// let transcripts = server.wait_for_sessions_closed();
    /// assert_eq!(transcripts[0].client_lines(), ["NOOP", "QUIT"]);
    /// ```
    ///
    /// # Panics
    ///
    /// After the wait timeout, naming the sessions still open, with the
    /// report of the transcripts.
    #[track_caller]
    pub fn wait_for_sessions_closed(&self) -> Vec<crate::Transcript> {
        if !self.block_until(self.wait_timeout, all_closed) {
            self.fail_blocked(&self.open_problem(), "wait_for_sessions_closed_async");
        }
        self.transcripts()
    }

    /// [`wait_for_sessions_closed`](Self::wait_for_sessions_closed) for
    /// async tests: waits without blocking the runtime's thread.
    #[track_caller]
    pub fn wait_for_sessions_closed_async(&self) -> impl Future<Output = Vec<crate::Transcript>> + '_ {
        let caller = Location::caller();
        async move {
            if !self.changed_within(all_closed).await {
                self.fail_at(caller, &self.open_problem());
            }
            self.transcripts()
        }
    }

    fn open_problem(&self) -> String {
        let records = self.store.lock();
        let open: Vec<String> = records
            .transcripts
            .iter()
            .filter(|(_, transcript)| !transcript.is_closed())
            .map(|(id, _)| format!("#{id}"))
            .collect();
        format!(
            "expected every session to end within {:?}, but {} of {} are still open (session {}).",
            self.wait_timeout,
            open.len(),
            records.transcripts.len(),
            open.join(", ")
        )
    }
}

fn all_closed(records: &Records) -> bool {
    records
        .transcripts
        .iter()
        .all(|(_, transcript)| transcript.is_closed())
}
