//! The task that owns one upstream connection of a per-recipient
//! transaction, and the handle the hooks talk to it through.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::client::{Client, Extensions, Failure};
use crate::protocol::Reply;

/// A handle on the task that owns one upstream connection in per-recipient
/// mode. The task ends the upstream session once every handle is dropped.
#[derive(Clone)]
pub(super) struct Transaction {
    requests: mpsc::Sender<Job>,
    /// What the upstream announced.
    pub(super) extensions: Extensions,
}

/// A request and where its answer goes.
type Job = (Request, oneshot::Sender<Result<Reply, Failure>>);

pub(super) enum Request {
    /// A command line, CRLF not included.
    Command(String),
    /// The message (after `354`).
    Data(Vec<u8>),
}

/// Why a request got no reply.
pub(super) enum Unanswered {
    /// The upstream session had already ended (idle too long, or broken
    /// earlier): the request never reached the upstream.
    NotSent,
    /// It was sent, then the connection failed.
    Failed(Failure),
}

impl Unanswered {
    pub(super) fn failure(self) -> Failure {
        match self {
            Unanswered::NotSent => Failure::SessionClosed,
            Unanswered::Failed(failure) => failure,
        }
    }
}

impl Transaction {
    /// Hands `client`, after its accepted MAIL, to a task of its own that
    /// closes the upstream session after `idle` without a request.
    pub(super) fn start(client: Client, idle: Duration) -> Transaction {
        let extensions = client.extensions;
        let (requests, inbox) = mpsc::channel(1);
        tokio::spawn(serve_transaction(client, inbox, idle));
        Transaction { requests, extensions }
    }

    /// Sends `request`, and waits for the upstream's reply.
    pub(super) async fn ask(&self, request: Request) -> Result<Reply, Unanswered> {
        let (answer, reply) = oneshot::channel();
        if self.requests.send((request, answer)).await.is_err() {
            return Err(Unanswered::NotSent);
        }
        match reply.await {
            Ok(result) => result.map_err(Unanswered::Failed),
            // The task was cancelled (the runtime is shutting down).
            Err(_) => Err(Unanswered::Failed(Failure::SessionEnded)),
        }
    }
}

/// Owns the upstream connection of one per-recipient transaction: runs the
/// commands the hooks send, and ends the session when the hooks let go
/// (transaction over, client gone) or the client stays silent longer than
/// `idle`.
async fn serve_transaction(mut client: Client, mut requests: mpsc::Receiver<Job>, idle: Duration) {
    loop {
        let Ok(Some((request, answer))) = tokio::time::timeout(idle, requests.recv()).await else {
            break;
        };
        let result = match request {
            Request::Command(line) => client.command(&line).await,
            Request::Data(data) => client.send_data(&data).await,
        };
        let usable = matches!(&result, Ok(reply) if reply.code() != 421);
        let _ = answer.send(result);
        if !usable {
            // Broken or closing: no QUIT, just close the connection.
            return;
        }
    }
    client.quit().await;
}
