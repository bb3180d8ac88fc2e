//! The AUTH decoders (`protocol::auth`), alone and inside a session.
//!
//! Oracles: on any responses, a challenge is valid base64, a failure is a
//! 501, and decoded credentials encode back to themselves; credentials a
//! client encodes as RFC 4616 / RFC 4954 / the XOAUTH2 spec say decode to
//! exactly what it sent; and through a `Session`, with the lines arriving in
//! pieces: every line up to RFC 4954's 12 288 bytes is carried (the handler
//! gets those credentials), a longer one ends the exchange, and the next
//! command is a command.

#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use smtp_fixture::fuzzing::{cram_md5_digest, AuthStep, Exchange, AUTH_LINE_LIMIT};
use smtp_fixture::protocol::Config;
use smtp_fixture::protocol::Question;
use smtp_fixture::{Credentials, Mechanism};
use smtp_fixture_fuzz::conversation::Conversation;

#[derive(Arbitrary, Debug)]
struct AuthInput {
    mechanism: u8,
    /// Send the first response on the AUTH line (not for CRAM-MD5).
    initial_response: bool,
    authzid: String,
    username: String,
    password: String,
    /// The password is repeated this many times more: long lines.
    repeat: u8,
    /// Bytes per read when the lines go through a session.
    piece: u16,
    /// Responses as any client might send them.
    responses: Vec<String>,
}

const CHALLENGE: &str = "<1.0@localhost>";

fuzz_target!(|input: AuthInput| {
    let mechanism = Mechanism::ALL[usize::from(input.mechanism) % Mechanism::ALL.len()];
    check_any_responses(mechanism, &input);
    let password = input.password.repeat(1 + usize::from(input.repeat));
    let Some(credentials) = credentials(mechanism, &input, &password) else {
        return;
    };
    let lines = encode(&credentials, CHALLENGE, &password);
    assert_eq!(
        run_exchange(mechanism, None, &lines),
        Some(credentials.clone()),
        "{lines:?}"
    );
    check_in_session(mechanism, &input, &credentials, &password);
});

/// Runs an exchange over `lines` (the first on the AUTH line when
/// `initial` says so); `Some` when it completed.
fn run_exchange(mechanism: Mechanism, initial: Option<&str>, lines: &[String]) -> Option<Credentials> {
    let (mut exchange, mut step) = Exchange::start(mechanism, initial, CHALLENGE.to_string());
    let mut lines = lines.iter();
    loop {
        match step {
            AuthStep::Challenge(text) => {
                assert!(BASE64.decode(&text).is_ok(), "challenge {text:?} is not base64");
                step = exchange.respond(lines.next()?);
            }
            AuthStep::Done(credentials) => return Some(credentials),
            AuthStep::Failed(reply) => {
                assert_eq!(reply.code(), 501, "{reply}");
                return None;
            }
        }
    }
}

fn check_any_responses(mechanism: Mechanism, input: &AuthInput) {
    let (initial, rest) = match input.responses.split_first() {
        Some((first, rest)) if input.initial_response => (Some(first.as_str()), rest),
        _ => (None, &input.responses[..]),
    };
    let Some(credentials) = run_exchange(mechanism, initial, rest) else {
        return;
    };
    assert_eq!(credentials.mechanism(), mechanism);
    // CRAM-MD5's digest is what the client sent, not one of a password:
    // encode it as it came.
    let lines = match &credentials {
        Credentials::CramMd5 {
            username,
            digest,
            challenge,
        } => {
            assert_eq!(challenge, CHALLENGE);
            vec![BASE64.encode(format!("{username} {digest}"))]
        }
        other => encode(other, CHALLENGE, ""),
    };
    assert_eq!(
        run_exchange(mechanism, None, &lines),
        Some(credentials.clone()),
        "decoded credentials do not encode back to themselves"
    );
}

/// The credentials a client would send, when the strings can be sent.
fn credentials(mechanism: Mechanism, input: &AuthInput, password: &str) -> Option<Credentials> {
    let (user, authzid) = (input.username.clone(), input.authzid.clone());
    let password = password.to_string();
    Some(match mechanism {
        Mechanism::Plain if [&user, &authzid, &password].iter().any(|s| s.contains('\0')) => return None,
        Mechanism::Plain => Credentials::Plain {
            authzid,
            username: user,
            password,
        },
        Mechanism::Login => Credentials::Login {
            username: user,
            password,
        },
        Mechanism::CramMd5 => Credentials::CramMd5 {
            digest: cram_md5_digest(&password, CHALLENGE),
            username: user,
            challenge: CHALLENGE.to_string(),
        },
        Mechanism::XOAuth2 if user.contains('\x01') || password.contains('\x01') => return None,
        Mechanism::XOAuth2 => Credentials::XOAuth2 {
            username: user,
            token: password,
        },
        other => unimplemented!("this target does not encode {other:?} yet"),
    })
}

/// The client's responses (base64), as the mechanism's RFC encodes them.
fn encode(credentials: &Credentials, challenge: &str, password: &str) -> Vec<String> {
    let lines: Vec<Vec<u8>> = match credentials {
        Credentials::Plain {
            authzid,
            username,
            password,
        } => {
            vec![format!("{authzid}\0{username}\0{password}").into_bytes()]
        }
        Credentials::Login { username, password } => {
            vec![username.clone().into_bytes(), password.clone().into_bytes()]
        }
        Credentials::CramMd5 { username, .. } => {
            vec![format!("{username} {}", cram_md5_digest(password, challenge)).into_bytes()]
        }
        Credentials::XOAuth2 { username, token } => {
            vec![format!("user={username}\x01auth=Bearer {token}\x01\x01").into_bytes()]
        }
        other => unimplemented!("this target does not encode {other:?} yet"),
    };
    lines.iter().map(|line| BASE64.encode(line)).collect()
}

fn check_in_session(mechanism: Mechanism, input: &AuthInput, expected: &Credentials, password: &str) {
    let config = Config {
        auth_mechanisms: vec![mechanism],
        ..Config::default()
    };
    let mut conversation = Conversation::new(config);
    let piece = usize::from(input.piece).max(1);
    let ehlo = conversation.send(b"EHLO client\r\n", piece);
    assert_eq!(ehlo.replies.last().map(|r| r.code()), Some(250));

    let mut lines: Vec<String> = match expected {
        // The challenge is the session's own: sign that one.
        Credentials::CramMd5 { .. } => Vec::new(),
        _ => encode(expected, CHALLENGE, password),
    };
    let initial = input.initial_response && mechanism != Mechanism::CramMd5;
    let mut line = format!("AUTH {mechanism}");
    if initial {
        // RFC 4954 (4): an empty initial response is sent as "=".
        let first = lines.remove(0);
        line = format!("{line} {}", if first.is_empty() { "=" } else { &first });
    }
    let mut sent = vec![line.len()];
    let mut answer = conversation.send(format!("{line}\r\n").as_bytes(), piece);
    let mut questions = answer.questions.clone();
    let mut lines = lines.into_iter();
    while let Some(challenge) = answer.replies.last().filter(|r| r.code() == 334) {
        let response = match expected {
            Credentials::CramMd5 { username, .. } => {
                let challenge = BASE64.decode(challenge.text()).expect("a base64 challenge");
                let challenge = String::from_utf8(challenge).expect("a UTF-8 challenge");
                BASE64.encode(format!("{username} {}", cram_md5_digest(password, &challenge)))
            }
            _ => lines.next().expect("a challenge only while responses remain"),
        };
        sent.push(response.len());
        answer = conversation.send(format!("{response}\r\n").as_bytes(), piece);
        questions.extend(answer.questions.clone());
    }
    let outcome = answer.replies.last().cloned();
    let all_within_limit = sent.iter().all(|&len| len <= AUTH_LINE_LIMIT);
    let asked: Vec<&Credentials> = questions
        .iter()
        .filter_map(|q| match q {
            Question::Auth(credentials) => Some(credentials),
            _ => None,
        })
        .collect();
    if all_within_limit {
        let username = |c: &Credentials| c.username().to_string();
        assert_eq!(
            asked.len(),
            1,
            "lines of {sent:?} bytes (limit {AUTH_LINE_LIMIT}): got {outcome:?}"
        );
        match (asked[0], expected) {
            // The session's challenge differs from ours; the password must check.
            (got @ Credentials::CramMd5 { .. }, Credentials::CramMd5 { .. }) => {
                assert_eq!(username(got), username(expected));
                assert!(got.check_password(password), "CRAM-MD5 digest does not check");
            }
            (got, expected) => assert_eq!(got, expected),
        }
    } else {
        assert!(asked.is_empty(), "credentials from an over-long line: {sent:?}");
        let code = outcome.as_ref().map(|r| r.code());
        assert!(
            matches!(code, Some(500 | 501)),
            "an over-long AUTH line got {outcome:?}"
        );
    }
    let noop = conversation.send(b"NOOP\r\n", piece);
    assert_eq!(
        noop.replies.iter().map(|r| r.code()).collect::<Vec<_>>(),
        [250],
        "NOOP after the AUTH exchange (lines of {sent:?} bytes, in pieces of {piece}): {:?}",
        noop.replies
    );
}
