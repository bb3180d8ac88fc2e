//! Properties of the sans-I/O session over arbitrary input: it never
//! panics, and how the bytes are chunked never changes what it answers or
//! which messages it accepts.

use std::net::SocketAddr;
use std::sync::Arc;

use proptest::prelude::*;
use smtp_fixture::protocol::Config;
use smtp_fixture::protocol::{Decision, Session, Step};

/// What a session did with one input stream.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    wire: Vec<u8>,
    messages: Vec<(String, Vec<String>, Vec<u8>)>,
    closed: bool,
}

/// Feeds `chunks` one after the other, as a server would, resolving every
/// question with `Proceed`.
fn run(config: &Arc<Config>, chunks: &[&[u8]]) -> Outcome {
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let mut session = Session::new(config.clone(), 1, peer);
    let mut outcome = Outcome {
        wire: Vec::new(),
        messages: Vec::new(),
        closed: false,
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut step = Some(session.start());
    let mut chunks = chunks.iter();
    loop {
        while let Some(current) = step.take() {
            match current {
                Step::Ask => step = Some(session.resolve(Decision::Proceed)),
                Step::Reply(reply) | Step::StartTls(reply) => reply.write_to(&mut outcome.wire),
                Step::Raw(bytes) => outcome.wire.extend_from_slice(&bytes),
                Step::Fault(_, inner) => step = Some(*inner),
                Step::Continue => {}
                Step::Accepted(reply, message) => {
                    reply.write_to(&mut outcome.wire);
                    let envelope = message.envelope;
                    outcome
                        .messages
                        .push((envelope.mail_from, envelope.rcpt_to, message.data));
                }
                Step::Close(reply) => {
                    if let Some(reply) = reply {
                        reply.write_to(&mut outcome.wire);
                    }
                    outcome.closed = true;
                    return outcome;
                }
                other => panic!("a step this test does not know: {other:?}"),
            }
            if step.is_none() {
                let progress = session.receive(&pending);
                assert!(progress.used <= pending.len());
                pending.drain(..progress.used);
                step = progress.step;
            }
        }
        match chunks.next() {
            Some(chunk) => pending.extend_from_slice(chunk),
            None => return outcome,
        }
        let progress = session.receive(&pending);
        pending.drain(..progress.used);
        step = progress.step;
    }
}

/// Pieces that reach deep into the dialogue, mixed with noise.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"EHLO client\r\n".to_vec()),
        Just(b"HELO client\r\n".to_vec()),
        Just(b"MAIL FROM:<a@example.com>\r\n".to_vec()),
        Just(b"MAIL FROM:<a@example.com> SIZE=40 BODY=8BITMIME\r\n".to_vec()),
        Just(b"RCPT TO:<b@example.com>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(b"BDAT 5\r\n".to_vec()),
        Just(b"BDAT 3 LAST\r\n".to_vec()),
        Just(b"BDAT 0 LAST\r\n".to_vec()),
        Just(b"BDAT 41\r\n".to_vec()),
        Just(b"MAIL FROM:<a@example.com> BODY=BINARYMIME\r\n".to_vec()),
        Just(b"RSET\r\n".to_vec()),
        Just(b"NOOP\r\n".to_vec()),
        Just(b".\r\n".to_vec()),
        Just(b"..\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n.\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b".".to_vec()),
        Just(b"line of text\r\n".to_vec()),
        Just(vec![0xff, 0x00, 0xc3]),
        Just(vec![b'x'; 600]),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

fn stream() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(token(), 0..40).prop_map(|tokens| tokens.concat())
}

fn configs() -> Vec<Arc<Config>> {
    vec![
        Arc::new(Config {
            data_size_limit: 40,
            max_invalid_commands: 0,
            ..Config::default()
        }),
        Arc::new(Config {
            enable_smtputf8: true,
            ..Config::default()
        }),
        Arc::new(Config {
            decode_data: true,
            data_size_limit: 0,
            ..Config::default()
        }),
    ]
}

proptest! {
    // PROPTEST_CASES=1000000 cargo test --release --test session_properties
    // runs the same properties as a long fuzzing session.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn chunking_never_changes_the_outcome(input in stream(), cuts in proptest::collection::vec(any::<usize>(), 0..12)) {
        for config in configs() {
            let whole = run(&config, &[&input]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
            points.sort_unstable();
            points.dedup();
            let mut chunks = Vec::new();
            let mut start = 0;
            for point in points {
                chunks.push(&input[start..point]);
                start = point;
            }
            chunks.push(&input[start..]);
            prop_assert_eq!(&run(&config, &chunks), &whole);
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            prop_assert_eq!(&run(&config, &bytes), &whole);
        }
    }

    #[test]
    fn arbitrary_bytes_get_replies_not_panics(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for config in configs() {
            let outcome = run(&config, &[&input]);
            // Every reply line is a code, a separator and CRLF-terminated text.
            for line in outcome.wire.split_inclusive(|&b| b == b'\n') {
                prop_assert!(line.len() >= 6 && line.ends_with(b"\r\n"), "{:?}", String::from_utf8_lossy(line));
                prop_assert!(line[..3].iter().all(u8::is_ascii_digit));
            }
        }
    }
}

#[test]
fn a_complete_dialogue_in_one_chunk_and_byte_by_byte() {
    let input = b"EHLO c\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n..y\r\n.\r\nQUIT\r\n";
    let config = Arc::new(Config::default());
    let whole = run(&config, &[input]);
    assert_eq!(
        whole.messages,
        [(
            "a@example.com".to_string(),
            vec!["b@example.com".to_string()],
            b"x\r\n.y\r\n".to_vec()
        )]
    );
    assert!(whole.closed);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&config, &bytes), whole);
}
