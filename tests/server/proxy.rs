//! PureProxy and RoutingProxy between a client and `TestSmtpServer`s as
//! the upstream: what arrives upstream, and what the client is told.
//!
//! The proxies run in an in-process `SmtpServer` on 127.0.0.1:0 with a
//! runtime of their own; clients are raw sockets (to see every reply) or
//! lettre. Every wait is bounded.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use lettre::address::Envelope as LettreEnvelope;
use lettre::{SmtpTransport, Transport};
use pretty_assertions::assert_eq;
use smtp_fixture::handler::Handler;
use smtp_fixture::handler::Wrapper;
use smtp_fixture::handlers::{PerRecipientProxy, PureProxy, RoutingProxy, Upstream};
use smtp_fixture::protocol::{Config, Decision, Message};
use smtp_fixture::protocol::{Question, Session};
use smtp_fixture::server::SmtpServer;
use smtp_fixture::{on, Reply, TestSmtpServer};
use support::Client;
use tokio::sync::oneshot;

use crate::support;

/// The longest any single wait in these tests may take before it fails.
const BOUND: Duration = Duration::from_secs(20);

/// A server running `H` on its own runtime thread; stopped when dropped.
struct Running<H> {
    addr: SocketAddr,
    handler: Arc<H>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn serve<H: Handler>(config: Config, handler: H) -> Running<H> {
    let server = SmtpServer::new(config, handler).expect("a valid config");
    let handler = server.handler().clone();
    // Bound here, so the port listens before this returns.
    let listener = StdListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("local address");
    let (stop, stopped) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let shutdown = async {
                stopped.await.ok();
            };
            server.run(listener, shutdown).await.expect("server ran");
        });
    });
    Running {
        addr,
        handler,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn proxy<H: Handler>(handler: H) -> Running<H> {
    let config = Config {
        hostname: "proxy.test".into(),
        enable_smtputf8: true,
        ..Config::default()
    };
    serve(config, handler)
}

impl<H> Drop for Running<H> {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread is reported by the test already.
            let _ = thread.join();
        }
    }
}

/// Polls `check` until it holds: the suite's one polling loop, for at most
/// `BOUND` (scaled by SMTP_FIXTURE_TIMEOUT).
#[track_caller]
fn eventually(what: &str, check: impl Fn() -> bool) {
    support::eventually_within(BOUND, what, || support::holds(check()));
}

fn all_sessions_closed(server: &TestSmtpServer) -> bool {
    server.transcripts().iter().all(|t| t.closed)
}

/// A port with nothing listening on it.
fn closed_port() -> SocketAddr {
    let listener = StdListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local address")
}

/// A message whose bytes test the relay: lines that need dot-stuffing,
/// 8-bit bytes that are not UTF-8, a long line, CRLF throughout.
fn tricky_message() -> (Vec<u8>, Vec<u8>) {
    let mut data = b"From: ann@example.com\r\nTo: bob@example.com\r\nSubject: dots\r\n\r\n".to_vec();
    data.extend_from_slice(b".starts with a dot\r\n.\r\n..\r\n...\r\n");
    data.extend_from_slice(b"8-bit: \xff\xfe\x80 caf\xc3\xa9\r\n");
    data.extend_from_slice(&[b'x'; 900]);
    data.extend_from_slice(b"\r\n\r\nlast line\r\n");
    let mut wire = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
    }
    wire.extend_from_slice(b".\r\n");
    (data, wire)
}

#[test]
fn bytes_arrive_intact_apart_from_x_peer_in_both_modes() {
    let upstream = TestSmtpServer::start();
    let whole = proxy(PureProxy::new(upstream.addr()));
    relays_intact(whole.addr, &upstream, "PureProxy");

    let upstream = TestSmtpServer::start();
    let transparent = proxy(PerRecipientProxy::new(upstream.addr()));
    relays_intact(transparent.addr, &upstream, "PerRecipientProxy");
    assert_eq!(transparent.handler.open_transactions(), 0);
}

/// Sends a tricky message through the proxy at `addr` and checks that
/// `upstream` got it byte for byte, with `X-Peer`.
fn relays_intact(addr: SocketAddr, upstream: &TestSmtpServer, mode: &str) {
    let (data, wire) = tricky_message();
    let mut client = Client::ehloed(addr);
    assert_eq!(client.text("MAIL FROM:<ann@example.com> BODY=8BITMIME"), "250 OK");
    assert_eq!(client.text("RCPT TO:<bob@example.com>"), "250 OK");
    let last = client.data(&wire);
    assert!(last.starts_with("250 "), "{last}");
    assert_eq!(client.text("QUIT"), "221 Bye");

    let received = upstream.wait_for_messages(1).remove(0);
    let expected = PureProxy::insert_x_peer(&data, "127.0.0.1".parse().unwrap());
    assert_eq!(
        String::from_utf8_lossy(&received.data),
        String::from_utf8_lossy(&expected),
        "{mode}"
    );
    assert_eq!(received.data, expected);
    assert_eq!(received.header("X-Peer").as_deref(), Some("127.0.0.1"));
    assert_eq!(received.envelope.mail_from, "ann@example.com");
    assert_eq!(received.envelope.rcpt_to, ["bob@example.com"]);
    assert!(
        received
            .envelope
            .mail_options
            .contains(&"BODY=8BITMIME".to_string()),
        "{:?}",
        received.envelope.mail_options
    );
    assert_eq!(received.helo, "proxy.test", "the proxy greets with its own name");
    eventually("the upstream session ended", || all_sessions_closed(upstream));
}

#[test]
fn lettre_through_the_proxy_relays_raw_bytes_exactly() {
    let upstream = TestSmtpServer::start();
    let proxy = proxy(PureProxy::new(upstream.addr()));
    let (data, _) = tricky_message();
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(proxy.addr.port())
        .timeout(Some(BOUND))
        .build();
    let envelope = LettreEnvelope::new(
        Some("ann@example.com".parse().unwrap()),
        vec![
            "bob@example.com".parse().unwrap(),
            "carl@example.com".parse().unwrap(),
        ],
    )
    .unwrap();
    mailer.send_raw(&envelope, &data).expect("relayed");

    // lettre always ends the data with CRLF.CRLF, so a message that ends
    // in CRLF gets an empty line more on the wire.
    let mut sent = data.clone();
    sent.extend_from_slice(b"\r\n");
    let received = upstream.wait_for_messages(1).remove(0);
    assert_eq!(
        received.data,
        PureProxy::insert_x_peer(&sent, "127.0.0.1".parse().unwrap())
    );
    assert_eq!(received.envelope.rcpt_to, ["bob@example.com", "carl@example.com"]);
}

#[test]
fn whole_message_mode_names_a_refused_recipient_in_the_final_reply() {
    let upstream = TestSmtpServer::start();
    upstream.respond(
        on::rcpt_to("bob@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    let proxy = proxy(PureProxy::new(upstream.addr()));
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    // Accepted here: the upstream is asked only once the message is complete.
    assert_eq!(client.text("RCPT TO:<alice@example.com>"), "250 OK");
    assert_eq!(client.text("RCPT TO:<bob@example.com>"), "250 OK");
    let last = client.data(b"Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert_eq!(
        last,
        "250-OK\n250-Not delivered to 1 of 2 recipients:\n250 <bob@example.com> refused: 550 5.1.1 No such user"
    );
    let received = upstream.wait_for_messages(1).remove(0);
    assert_eq!(received.envelope.rcpt_to, ["alice@example.com"]);
}

#[test]
fn whole_message_mode_gives_the_upstreams_refusal_when_nobody_got_it() {
    let upstream = TestSmtpServer::start();
    upstream.respond(
        on::rcpt_to("bob@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    upstream.respond(on::message(), Reply::new(554, "5.7.1 Spam"));
    let proxy = proxy(PureProxy::new(upstream.addr()));

    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert_eq!(client.data(b"x\r\n.\r\n"), "550 5.1.1 No such user");

    // Refused after the data: the upstream's final reply.
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<alice@example.com>");
    assert_eq!(client.data(b"x\r\n.\r\n"), "554 5.7.1 Spam");
    assert!(upstream.messages().is_empty());
}

#[test]
fn per_recipient_mode_mirrors_each_rcpt_reply_at_once() {
    let upstream = TestSmtpServer::start();
    upstream.respond(
        on::rcpt_to("bob@example.com"),
        Reply::new(550, "5.1.1 No such user"),
    );
    upstream.respond(
        on::rcpt_to("dan@example.com"),
        Reply::new(450, "4.2.1 Mailbox busy"),
    );
    let proxy = proxy(PerRecipientProxy::new(upstream.addr()));
    let mut client = Client::ehloed(proxy.addr);
    assert_eq!(client.text("MAIL FROM:<ann@example.com>"), "250 OK");
    assert_eq!(client.text("RCPT TO:<bob@example.com>"), "550 5.1.1 No such user");
    assert_eq!(client.text("RCPT TO:<dan@example.com>"), "450 4.2.1 Mailbox busy");
    assert_eq!(client.text("RCPT TO:<alice@example.com>"), "250 OK");
    assert_eq!(client.data(b"Subject: hi\r\n\r\nhello\r\n.\r\n"), "250 OK");
    let received = upstream.wait_for_messages(1).remove(0);
    assert_eq!(received.envelope.rcpt_to, ["alice@example.com"]);

    // lettre, a real client, stops at the refusal and reports the code.
    let mailer = SmtpTransport::builder_dangerous("127.0.0.1")
        .port(proxy.addr.port())
        .timeout(Some(BOUND))
        .build();
    let envelope = LettreEnvelope::new(
        Some("ann@example.com".parse().unwrap()),
        vec!["bob@example.com".parse().unwrap()],
    )
    .unwrap();
    let error = mailer.send_raw(&envelope, b"x\r\n").expect_err("refused");
    assert!(error.is_permanent(), "{error}");
    assert_eq!(
        error.status().map(|code| code.to_string()).as_deref(),
        Some("550")
    );
    assert_eq!(upstream.messages().len(), 1);
}

#[test]
fn an_upstream_that_is_down_gets_451_never_250() {
    let down = closed_port();
    // Whole-message mode: accepted locally, then the relay fails.
    let batch = proxy(PureProxy::new(
        Upstream::new(down.to_string()).retries(1, Duration::from_millis(10)),
    ));
    let mut client = Client::ehloed(batch.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    let last = client.data(b"x\r\n.\r\n");
    assert!(last.starts_with("451 4.4.1 Upstream 127.0.0.1:"), "{last}");
    assert!(
        last.contains("unavailable") && last.contains("(after 2 attempts)"),
        "{last}"
    );

    // Per-recipient mode: MAIL already fails.
    let transparent = proxy(PerRecipientProxy::new(down));
    let mut client = Client::ehloed(transparent.addr);
    let mail = client.text("MAIL FROM:<ann@example.com>");
    assert!(mail.starts_with("451 4.4.1 "), "{mail}");
    assert_eq!(
        client.text("RCPT TO:<bob@example.com>"),
        "503 Error: need MAIL command"
    );
    assert_eq!(transparent.handler.open_transactions(), 0);
}

#[test]
fn an_upstream_that_never_greets_times_out_into_451() {
    // Accepts TCP connections (the kernel's backlog) but never speaks.
    let mute = StdListener::bind("127.0.0.1:0").expect("bind");
    let upstream =
        Upstream::new(mute.local_addr().unwrap().to_string()).command_timeout(Duration::from_millis(200));
    let proxy = proxy(PureProxy::new(upstream));
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    let last = client.data(b"x\r\n.\r\n");
    assert!(
        last.starts_with("451 4.4.1 ") && last.contains("timed out"),
        "{last}"
    );
}

#[test]
fn a_transient_upstream_reply_anywhere_is_451_and_nothing_is_half_delivered() {
    let upstream = TestSmtpServer::start();
    upstream.respond(
        on::rcpt_to("busy@example.com"),
        Reply::new(452, "4.2.2 Mailbox full"),
    );
    upstream
        .respond(on::message(), Reply::new(451, "4.3.0 Try again later"))
        .times(1);
    let proxy = proxy(PureProxy::new(upstream.addr()));
    let mut client = Client::ehloed(proxy.addr);

    // One recipient deferred: nobody gets it now.
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<alice@example.com>");
    client.text("RCPT TO:<busy@example.com>");
    let last = client.data(b"x\r\n.\r\n");
    assert_eq!(
        last,
        "451 4.4.1 Upstream 127.0.0.1:".to_string()
            + &upstream.port().to_string()
            + " answered RCPT TO:<busy@example.com> with 452 4.2.2 Mailbox full; try again later"
    );

    // The final reply deferred once, then the retry goes through.
    for expected in ["451 4.4.1 ", "250 "] {
        client.text("MAIL FROM:<ann@example.com>");
        client.text("RCPT TO:<alice@example.com>");
        let last = client.data(b"x\r\n.\r\n");
        assert!(last.starts_with(expected), "{last}");
    }
    let received = upstream.wait_for_messages(1);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].envelope.rcpt_to, ["alice@example.com"]);
}

#[test]
fn smtputf8_is_relayed_when_the_upstream_supports_it() {
    let upstream = TestSmtpServer::builder().enable_smtputf8(true).start();
    let send = |addr: SocketAddr| {
        let mut client = Client::ehloed(addr);
        assert_eq!(client.text("MAIL FROM:<ålice@exämple.com> SMTPUTF8"), "250 OK");
        assert_eq!(client.text("RCPT TO:<bøb@exämple.com>"), "250 OK");
        let data = "Subject: Grüße\r\n\r\nHallo\r\n";
        let last = client.data(format!("{data}.\r\n").as_bytes());
        assert!(last.starts_with("250 "), "{last}");
    };
    send(proxy(PureProxy::new(upstream.addr())).addr);
    send(proxy(PerRecipientProxy::new(upstream.addr())).addr);
    let received = upstream.wait_for_messages(2);
    for message in received {
        assert_eq!(message.envelope.mail_from, "ålice@exämple.com");
        assert_eq!(message.envelope.rcpt_to, ["bøb@exämple.com"]);
        assert!(message.envelope.smtputf8(), "{:?}", message.envelope.mail_options);
        assert_eq!(message.subject().as_deref(), Some("Grüße"));
    }
}

#[test]
fn smtputf8_to_an_upstream_without_it_is_refused_clearly() {
    let upstream = TestSmtpServer::start();
    let batch = proxy(PureProxy::new(upstream.addr()));
    let transparent = proxy(PerRecipientProxy::new(upstream.addr()));

    // A UTF-8 sender: refused (at the end, or at MAIL).
    let mut client = Client::ehloed(batch.addr);
    client.text("MAIL FROM:<ålice@exämple.com> SMTPUTF8");
    client.text("RCPT TO:<bob@example.com>");
    let last = client.data(b"x\r\n.\r\n");
    assert!(
        last.starts_with("553 5.6.7 <ålice@exämple.com> needs SMTPUTF8"),
        "{last}"
    );
    let mut client = Client::ehloed(transparent.addr);
    let mail = client.text("MAIL FROM:<ålice@exämple.com> SMTPUTF8");
    assert!(
        mail.starts_with("553 5.6.7 ") && mail.contains("does not support"),
        "{mail}"
    );

    // UTF-8 headers with ASCII addresses: 554 5.6.9.
    for addr in [batch.addr, transparent.addr] {
        let mut client = Client::ehloed(addr);
        assert_eq!(client.text("MAIL FROM:<ann@example.com> SMTPUTF8"), "250 OK");
        assert_eq!(client.text("RCPT TO:<bob@example.com>"), "250 OK");
        let last = client.data("Subject: Grüße\r\n\r\nx\r\n.\r\n".as_bytes());
        assert!(
            last.starts_with("554 5.6.9 ") && last.contains("SMTPUTF8"),
            "{last}"
        );
    }

    // One UTF-8 recipient among ASCII ones: refused alone.
    let mut client = Client::ehloed(transparent.addr);
    client.text("MAIL FROM:<ann@example.com> SMTPUTF8");
    let rcpt = client.text("RCPT TO:<bøb@exämple.com>");
    assert!(rcpt.starts_with("553 5.6.7 <bøb@exämple.com>"), "{rcpt}");
    assert_eq!(client.text("RCPT TO:<carl@example.com>"), "250 OK");
    assert_eq!(client.data(b"x\r\n.\r\n"), "250 OK");
    let mut client = Client::ehloed(batch.addr);
    client.text("MAIL FROM:<ann@example.com> SMTPUTF8");
    client.text("RCPT TO:<bøb@exämple.com>");
    client.text("RCPT TO:<carl@example.com>");
    let last = client.data(b"x\r\n.\r\n");
    assert!(
        last.starts_with(
            "250-OK\n250-Not delivered to 1 of 2 recipients:\n250 <bøb@exämple.com> refused: 553 5.6.7"
        ),
        "{last}"
    );

    let received = upstream.wait_for_messages(2);
    for message in &received {
        assert_eq!(message.envelope.rcpt_to, ["carl@example.com"]);
        assert!(
            !message.envelope.smtputf8(),
            "not passed to an upstream without it"
        );
    }
    eventually("every upstream session ended", || all_sessions_closed(&upstream));
}

#[test]
fn a_chain_routes_each_recipient_to_the_right_server() {
    let local_server = TestSmtpServer::start();
    let remote_server = TestSmtpServer::start();
    let routing = serve(
        Config::default(),
        RoutingProxy::new(
            remote_server.addr(),
            PureProxy::new(local_server.addr()),
            |rcpt: &str| rcpt.ends_with("@local.test"),
        ),
    );
    let front = proxy(PureProxy::new(routing.addr));

    let mut client = Client::ehloed(front.addr);
    client.text("MAIL FROM:<ann@example.com>");
    for rcpt in ["a@local.test", "x@remote.test", "b@local.test", "y@remote.test"] {
        assert_eq!(client.text(&format!("RCPT TO:<{rcpt}>")), "250 OK");
    }
    let last = client.data(b"Subject: chain\r\n\r\nhello\r\n.\r\n");
    assert!(last.starts_with("250 "), "{last}");

    let local = local_server.wait_for_messages(1).remove(0);
    let remote = remote_server.wait_for_messages(1).remove(0);
    assert_eq!(local.envelope.rcpt_to, ["a@local.test", "b@local.test"]);
    assert_eq!(remote.envelope.rcpt_to, ["x@remote.test", "y@remote.test"]);
    for message in [&local, &remote] {
        assert_eq!(message.envelope.mail_from, "ann@example.com");
        assert_eq!(message.subject().as_deref(), Some("chain"));
        assert_eq!(message.text_body().as_deref().map(str::trim_end), Some("hello"));
        // One X-Peer per relaying hop.
        assert!(message
            .text()
            .contains("X-Peer: 127.0.0.1\r\nX-Peer: 127.0.0.1\r\n\r\n"));
    }
}

/// A local handler that refuses `nobody@local.test` at RCPT and records
/// what it accepted.
#[derive(Default)]
struct Recording {
    asked: Mutex<Vec<Vec<String>>>,
    accepted: Mutex<Vec<Message>>,
    refuse_message: bool,
}

impl Handler for Recording {
    async fn on_rcpt_to(&self, _session: &Session, address: &str, _params: &[String]) -> Decision {
        if address == "nobody@local.test" {
            Decision::Reply(Reply::new(550, "5.1.1 No such list"))
        } else {
            Decision::Proceed
        }
    }

    async fn process_message(&self, message: &Message) -> Option<Reply> {
        self.asked.lock().unwrap().push(message.envelope.rcpt_to.clone());
        self.refuse_message
            .then(|| Reply::new(554, "5.7.1 Not on this list"))
    }

    fn message_accepted(&self, message: Message) {
        self.accepted.lock().unwrap().push(message);
    }
}

#[test]
fn routing_hands_the_local_part_to_the_local_handler() {
    let remote_server = TestSmtpServer::start();
    let routing = serve(
        Config::default(),
        RoutingProxy::new(remote_server.addr(), Recording::default(), |rcpt: &str| {
            rcpt.ends_with("@local.test")
        }),
    );
    let mut client = Client::ehloed(routing.addr);
    client.text("MAIL FROM:<ann@example.com>");
    assert_eq!(client.text("RCPT TO:<list@local.test>"), "250 OK");
    assert_eq!(
        client.text("RCPT TO:<nobody@local.test>"),
        "550 5.1.1 No such list"
    );
    assert_eq!(client.text("RCPT TO:<x@remote.test>"), "250 OK");
    let last = client.data(b"Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert!(last.starts_with("250 "), "{last}");
    assert_eq!(client.text("QUIT"), "221 Bye");

    let remote = remote_server.wait_for_messages(1).remove(0);
    assert_eq!(remote.envelope.rcpt_to, ["x@remote.test"]);
    let local = routing.handler.local();
    eventually("the local handler got the accepted message", || {
        !local.accepted.lock().unwrap().is_empty()
    });
    let accepted = local.accepted.lock().unwrap();
    assert_eq!(accepted[0].envelope.rcpt_to, ["list@local.test"]);
    assert_eq!(
        accepted[0].data, b"Subject: hi\r\n\r\nhello\r\n",
        "as received, no X-Peer"
    );
}

#[test]
fn a_local_refusal_is_named_and_not_accepted_locally() {
    let remote_server = TestSmtpServer::start();
    let local = Recording {
        refuse_message: true,
        ..Recording::default()
    };
    let routing = serve(
        Config::default(),
        RoutingProxy::new(remote_server.addr(), local, |rcpt: &str| {
            rcpt.ends_with("@local.test")
        }),
    );
    let mut client = Client::ehloed(routing.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<list@local.test>");
    client.text("RCPT TO:<x@remote.test>");
    let last = client.data(b"Subject: hi\r\n\r\nhello\r\n.\r\n");
    assert_eq!(
        last,
        "250-OK\n250-Not delivered to 1 of 2 recipients:\n250 <list@local.test> refused: 554 5.7.1 Not on this list"
    );
    assert_eq!(client.text("QUIT"), "221 Bye");
    remote_server.wait_for_messages(1);
    let local = routing.handler.local();
    assert_eq!(
        *local.asked.lock().unwrap(),
        [vec!["list@local.test".to_string()]]
    );
    assert!(local.accepted.lock().unwrap().is_empty());
}

#[test]
fn a_client_that_vanishes_leaves_no_upstream_session_open() {
    let upstream = TestSmtpServer::start();
    let proxy = proxy(PerRecipientProxy::new(upstream.addr()));

    // Gone after RCPT.
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert_eq!(proxy.handler.open_transactions(), 1);
    eventually("the upstream session is open", || {
        upstream.transcripts().len() == 1
    });
    drop(client);
    eventually("the upstream session closed", || all_sessions_closed(&upstream));
    assert_eq!(proxy.handler.open_transactions(), 0);
    assert!(upstream.transcripts()[0].client_lines().contains(&"QUIT"));

    // Gone in the middle of the message: the upstream never sees its end.
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert!(client.text("DATA").starts_with("354"));
    client.send(b"Subject: half\r\n\r\nthe first half\r\n");
    drop(client);
    eventually("both upstream sessions closed", || {
        upstream.transcripts().len() == 2 && all_sessions_closed(&upstream)
    });
    assert_eq!(proxy.handler.open_transactions(), 0);
    assert!(upstream.messages().is_empty(), "nothing delivered");
}

#[test]
fn rset_and_quit_end_the_upstream_transaction() {
    let upstream = TestSmtpServer::start();
    let proxy = proxy(PerRecipientProxy::new(upstream.addr()));
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert_eq!(client.text("RSET"), "250 OK");
    assert_eq!(proxy.handler.open_transactions(), 0);
    eventually("the upstream session closed", || {
        upstream.transcripts().len() == 1 && all_sessions_closed(&upstream)
    });

    // The next transaction gets a new upstream session.
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert_eq!(proxy.handler.open_transactions(), 1);
    assert_eq!(client.text("QUIT"), "221 Bye");
    eventually("the second upstream session closed", || {
        upstream.transcripts().len() == 2 && all_sessions_closed(&upstream)
    });
    assert_eq!(proxy.handler.open_transactions(), 0);
}

/// A wrapper built the one way there is ([`Wrapper`]): it sees every
/// question first, and writes out nothing about the session's end.
struct Watching {
    proxy: PerRecipientProxy,
    questions: AtomicUsize,
}

impl Wrapper for Watching {
    type Inner = PerRecipientProxy;
    fn inner(&self) -> &PerRecipientProxy {
        &self.proxy
    }
    async fn decide(&self, session: &Session, question: &Question) -> Decision {
        self.questions.fetch_add(1, Ordering::SeqCst);
        self.proxy.decide(session, question).await
    }
}

#[test]
fn a_wrapped_proxy_closes_the_upstream_session_of_a_vanished_client() {
    let upstream = TestSmtpServer::start();
    // Far beyond `eventually`'s bound: only `on_close` can end it in time.
    let relay = Upstream::new(upstream.addr().to_string()).idle_timeout(Duration::from_secs(600));
    let watching = Watching {
        proxy: PerRecipientProxy::new(relay),
        questions: AtomicUsize::new(0),
    };
    let proxy = serve(Config::default(), watching);
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    assert_eq!(proxy.handler.proxy.open_transactions(), 1);
    assert!(
        proxy.handler.questions.load(Ordering::SeqCst) >= 3,
        "the wrapper was asked"
    );
    drop(client);
    eventually("the upstream session closed", || {
        upstream.transcripts().len() == 1 && all_sessions_closed(&upstream)
    });
    assert_eq!(proxy.handler.proxy.open_transactions(), 0);
}

/// A wrapper that deliberately keeps the session's end from the proxy:
/// what is left is the proxy's own backstop.
struct ForgetsTheEnd(PerRecipientProxy);

impl Wrapper for ForgetsTheEnd {
    type Inner = PerRecipientProxy;
    fn inner(&self) -> &PerRecipientProxy {
        &self.0
    }
    fn on_close(&self, _session: &smtp_fixture::protocol::SessionInfo) {}
}

#[test]
fn the_idle_timeout_closes_an_upstream_session_nobody_ends() {
    let upstream = TestSmtpServer::start();
    let relay = Upstream::new(upstream.addr().to_string()).idle_timeout(Duration::from_millis(200));
    let proxy = serve(Config::default(), ForgetsTheEnd(PerRecipientProxy::new(relay)));
    let mut client = Client::ehloed(proxy.addr);
    client.text("MAIL FROM:<ann@example.com>");
    client.text("RCPT TO:<bob@example.com>");
    drop(client);
    eventually("the idle upstream session closed", || {
        upstream.transcripts().len() == 1 && all_sessions_closed(&upstream)
    });
    // The proxy never heard of the end: its handle stays until its next use.
    assert_eq!(proxy.handler.0.open_transactions(), 1);
}

#[tokio::test]
async fn routing_called_directly_asks_process_message_and_relays() {
    let remote_server = TestSmtpServer::start();
    let routing = RoutingProxy::new(remote_server.addr(), Recording::default(), |rcpt: &str| {
        rcpt.ends_with("@local.test")
    });
    let message = Message {
        session: smtp_fixture::protocol::SessionInfo {
            id: 1,
            peer: "192.0.2.7:40000".parse().unwrap(),
            proxy: None,
            hostname: "router.test".into(),
            helo: "client.test".into(),
            extended: true,
            tls: None,
            auth: None,
        },
        envelope: smtp_fixture::Envelope {
            mail_from: "ann@example.com".into(),
            rcpt_to: vec!["list@local.test".into(), "x@remote.test".into()],
            ..Default::default()
        },
        data: b"Subject: direct\r\n\r\nhi\r\n".to_vec(),
        unstuffed_dot_lines: 0,
    };
    let reply = Handler::process_message(&routing, &message).await;
    assert_eq!(reply.map(|r| r.code()), Some(250));
    assert_eq!(
        *routing.local().asked.lock().unwrap(),
        [vec!["list@local.test".to_string()]]
    );
    let remote = remote_server.wait_for_messages_async(1).await.remove(0);
    assert_eq!(remote.envelope.rcpt_to, ["x@remote.test"]);
    assert_eq!(remote.header("X-Peer").as_deref(), Some("192.0.2.7"));
    assert_eq!(remote.helo, "router.test");
}

#[tokio::test]
async fn the_stock_recording_handler_keeps_what_a_server_accepted() {
    let recording = smtp_fixture::handlers::Recording::default();
    let server =
        SmtpServer::new(smtp_fixture::protocol::Config::default(), recording.clone()).expect("a server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(listener, async {
        let _ = stopped.await;
    }));
    let sent = tokio::task::spawn_blocking(move || {
        lettre::SmtpTransport::builder_dangerous("127.0.0.1")
            .port(addr.port())
            .build()
            .send_raw(
                &lettre::address::Envelope::new(
                    Some("a@example.com".parse().expect("address")),
                    vec!["b@example.com".parse().expect("address")],
                )
                .expect("envelope"),
                b"Subject: kept\r\n\r\nhello\r\n",
            )
            .map(|_| ())
    })
    .await
    .expect("the client thread");
    sent.expect("sent");
    assert_eq!(recording.len(), 1);
    let message = recording.take().remove(0);
    assert_eq!(message.rcpt_tos(), ["b@example.com"]);
    assert!(recording.is_empty());
    let _ = stop.send(());
    task.await.expect("the server task").expect("the server");
}
