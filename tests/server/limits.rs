//! Limits and faults: each limit is answered with a reply, and clients that
//! vanish, stall or half-close leave the server serving.

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use smtp_fixture::protocol::Config;
use smtp_fixture::TestSmtpServer;
use support::Client;

use crate::support;

#[test]
fn too_many_recipients_get_452() {
    let server = TestSmtpServer::builder().max_recipients(3).start();
    let mut client = Client::greeted(server.addr());
    client.command("HELO c");
    client.command("MAIL FROM:<a@example.com>");
    for n in 0..3 {
        assert_eq!(
            client.command(&format!("RCPT TO:<r{n}@example.com>")),
            "250 OK\r\n"
        );
    }
    assert_eq!(
        client.command("RCPT TO:<r3@example.com>"),
        "452 Error: too many recipients\r\n"
    );
    client.command("DATA");
    assert_eq!(client.command("Subject: x\r\n\r\n."), "250 OK\r\n");
    assert_eq!(server.wait_for_messages(1)[0].envelope.rcpt_to.len(), 3);
}

#[test]
fn too_many_invalid_commands_get_421_and_close() {
    let config = Config {
        max_invalid_commands: 3,
        hostname: "mx.test".into(),
        ..Config::default()
    };
    let server = TestSmtpServer::builder().config(config).start();
    let mut client = Client::greeted(server.addr());
    for _ in 0..3 {
        assert!(client.command("BOGUS").starts_with("500"));
    }
    assert_eq!(
        client.command("BOGUS"),
        "421 mx.test Error: too many invalid commands, closing connection\r\n"
    );
    assert_eq!(client.rest(), "");
}

#[test]
fn connections_over_the_cap_get_421() {
    let server = TestSmtpServer::builder().max_connections(2).start();
    let _first = Client::greeted(server.addr());
    let _second = Client::greeted(server.addr());
    let mut third = Client::connect(server.addr());
    assert!(third.line().starts_with("421 "), "over the cap");
    assert_eq!(third.rest(), "");
    drop(_first);
    // A slot frees up once the first session has ended.
    support::eventually("the freed slot is reused", || {
        let mut client = Client::connect(server.addr());
        support::holds(client.line().starts_with("220"))
    });
}

#[test]
fn a_silent_client_gets_421_after_the_idle_timeout() {
    let server = TestSmtpServer::builder()
        .idle_timeout(Duration::from_millis(200))
        .hostname("mx.test")
        .start();
    let mut client = Client::greeted(server.addr());
    let started = Instant::now();
    assert_eq!(
        client.line(),
        "421 mx.test Error: timeout exceeded, closing connection\r\n"
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(client.rest(), "");
}

#[test]
fn a_slow_session_gets_421_at_its_total_time_limit() {
    let server = TestSmtpServer::builder()
        .session_timeout(Duration::from_millis(300))
        .start();
    let mut client = Client::greeted(server.addr());
    // Busy but never done: each NOOP resets the idle timer, not the total.
    support::eventually("the session times out with 421", || {
        support::holds(client.command("NOOP").starts_with("421"))
    });
}

#[test]
fn half_close_after_data_still_delivers_and_replies() {
    let server = TestSmtpServer::start();
    let mut client = Client::greeted(server.addr());
    client
        .writer
        .write_all(b"HELO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: half\r\n\r\n.\r\n")
        .expect("write");
    client.writer.shutdown(Shutdown::Write).expect("half-close");
    let replies = client.rest();
    assert_eq!(
        replies,
        "250 localhost\r\n250 OK\r\n250 OK\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 OK\r\n"
    );
    assert_eq!(server.wait_for_messages(1)[0].subject().as_deref(), Some("half"));
}

#[test]
fn a_reset_mid_data_records_nothing_and_the_server_goes_on() {
    let server = TestSmtpServer::start();
    {
        let mut client = Client::greeted(server.addr());
        client.command("HELO c");
        client.command("MAIL FROM:<a@example.com>");
        client.command("RCPT TO:<b@example.com>");
        client.command("DATA");
        client
            .writer
            .write_all(b"Subject: never finished\r\n\r\npart")
            .expect("write");
        // Dropping with unread data in flight makes the kernel send RST.
        client.writer.set_nonblocking(true).ok();
    }
    let mut next = Client::greeted(server.addr());
    assert_eq!(next.command("NOOP"), "250 OK\r\n");
    server.assert_no_new_messages(Duration::from_millis(100));
    assert!(server.messages().is_empty());
}

#[test]
fn an_empty_connection_is_harmless() {
    let server = TestSmtpServer::start();
    for _ in 0..20 {
        drop(TcpStream::connect(server.addr()).expect("connect"));
    }
    let mut client = Client::greeted(server.addr());
    assert_eq!(client.command("NOOP"), "250 OK\r\n");
    assert!(server.messages().is_empty());
}

#[test]
fn a_thousand_idle_connections_do_not_stop_a_new_client() {
    // Both ends of every connection are in this process: 2 000 descriptors
    // and some to spare, more than the common soft limit of 1 024.
    const NEEDED: u64 = 2_200;
    match rlimit::increase_nofile_limit(NEEDED) {
        Ok(limit) if limit >= NEEDED => {}
        outcome => {
            support::skip(&format!("1 000 idle connections need {NEEDED} open files; the limit allows {outcome:?} (raise the hard limit: ulimit -Hn)"));
            return;
        }
    }
    let server = TestSmtpServer::builder().max_connections(2000).start();
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(server.addr()).expect("connect"))
        .collect();
    let mut client = Client::greeted(server.addr());
    client.command("HELO c");
    client.command("MAIL FROM:<a@example.com>");
    client.command("RCPT TO:<b@example.com>");
    client.command("DATA");
    assert_eq!(client.command("Subject: still served\r\n\r\n."), "250 OK\r\n");
    assert_eq!(server.wait_for_messages(1).len(), 1);
    drop(idle);
}
