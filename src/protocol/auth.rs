//! SMTP AUTH (RFC 4954): the PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 exchanges,
//! decoded into [`Credentials`] that a handler checks.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use super::reply::{replies, Reply};

/// A SASL mechanism the server can offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mechanism {
    /// `PLAIN` (RFC 4616): authzid, user and password in one response.
    Plain,
    /// `LOGIN`: user name and password in two responses.
    Login,
    /// `CRAM-MD5` (RFC 2195): an HMAC-MD5 of a server challenge.
    CramMd5,
    /// `XOAUTH2`: a user name and an OAuth 2.0 bearer token.
    XOAuth2,
}

impl Mechanism {
    /// Every mechanism, in the order the EHLO reply lists them.
    pub const ALL: [Mechanism; 4] = [
        Mechanism::Plain,
        Mechanism::Login,
        Mechanism::CramMd5,
        Mechanism::XOAuth2,
    ];

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::Login => "LOGIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::XOAuth2 => "XOAUTH2",
        }
    }

    /// Looks a name up, case-insensitively.
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a client presented, for the handler to check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// `AUTH PLAIN`.
    Plain {
        /// The identity to act as; usually empty.
        authzid: String,
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// `AUTH LOGIN`.
    Login {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// `AUTH CRAM-MD5`: check with [`Credentials::check_password`].
    CramMd5 {
        /// The user name.
        username: String,
        /// The challenge the server sent.
        challenge: String,
        /// The client's HMAC-MD5 of the challenge, lower-case hex.
        digest: String,
    },
    /// `AUTH XOAUTH2`.
    XOAuth2 {
        /// The user name.
        username: String,
        /// The bearer token.
        token: String,
    },
}

impl Credentials {
    /// The user name, whatever the mechanism.
    pub fn username(&self) -> &str {
        match self {
            Credentials::Plain { username, .. }
            | Credentials::Login { username, .. }
            | Credentials::CramMd5 { username, .. }
            | Credentials::XOAuth2 { username, .. } => username,
        }
    }

    /// The mechanism used.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Credentials::Plain { .. } => Mechanism::Plain,
            Credentials::Login { .. } => Mechanism::Login,
            Credentials::CramMd5 { .. } => Mechanism::CramMd5,
            Credentials::XOAuth2 { .. } => Mechanism::XOAuth2,
        }
    }

    /// Whether the client proved knowledge of `password` (for XOAUTH2: the
    /// token equals it).
    ///
    /// ```
    /// use smtp_fixture::Credentials;
    /// let plain = Credentials::Plain { authzid: String::new(), username: "ann".into(), password: "s3cret".into() };
    /// assert!(plain.check_password("s3cret"));
    /// assert!(!plain.check_password("guess"));
    /// ```
    pub fn check_password(&self, password: &str) -> bool {
        match self {
            Credentials::Plain { password: given, .. } | Credentials::Login { password: given, .. } => {
                given == password
            }
            Credentials::XOAuth2 { token, .. } => token == password,
            Credentials::CramMd5 {
                challenge, digest, ..
            } => cram_md5_digest(password, challenge) == *digest,
        }
    }
}

/// HMAC-MD5 of `challenge` keyed with `password`, lower-case hex (RFC 2195).
pub fn cram_md5_digest(password: &str, challenge: &str) -> String {
    hmac_md5(password.as_bytes(), challenge.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// HMAC (RFC 2104) over MD5, written out: its dozen lines cost less to
/// build than the generic `hmac` + `digest` stack (ten crates) would.
fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    const BLOCK: usize = 64;
    let mut block_key = [0u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..16].copy_from_slice(&md5::compute(key).0);
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block_key.map(|k| k ^ byte);
    let mut inner = md5::Context::new();
    inner.consume(pad(0x36));
    inner.consume(message);
    let mut outer = md5::Context::new();
    outer.consume(pad(0x5c));
    outer.consume(inner.finalize().0);
    outer.finalize().0
}

/// The next move in an AUTH exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStep {
    /// Send `334 <text>` (already base64) and read the client's response.
    Challenge(String),
    /// The exchange is complete.
    Done(Credentials),
    /// The exchange failed with this reply.
    Failed(Reply),
}

/// An AUTH exchange in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    mechanism: Mechanism,
    challenge: String,
    username: Option<String>,
}

fn decode(text: &str) -> Result<Vec<u8>, Reply> {
    match text.trim() {
        "*" => Err(replies::auth_cancelled()),
        "=" => Ok(Vec::new()),
        text => BASE64
            .decode(text)
            .map_err(|_| replies::malformed_auth_response()),
    }
}

fn text(bytes: Vec<u8>) -> Result<String, Reply> {
    String::from_utf8(bytes).map_err(|_| replies::malformed_auth_response())
}

impl Exchange {
    /// Starts `mechanism`, with the initial response if the client sent one;
    /// `challenge` is the unique string CRAM-MD5 asks the client to sign.
    pub fn start(mechanism: Mechanism, initial: Option<&str>, challenge: String) -> (Exchange, AuthStep) {
        let mut exchange = Exchange {
            mechanism,
            challenge,
            username: None,
        };
        let step = match (mechanism, initial) {
            (Mechanism::CramMd5, Some(_)) => AuthStep::Failed(replies::malformed_auth_response()),
            (Mechanism::CramMd5, None) => AuthStep::Challenge(BASE64.encode(exchange.challenge.as_bytes())),
            (Mechanism::Login, None) => AuthStep::Challenge(BASE64.encode("Username:")),
            (_, None) => AuthStep::Challenge(String::new()),
            (_, Some(initial)) => exchange.respond(initial),
        };
        (exchange, step)
    }

    /// Takes the client's next response line.
    pub fn respond(&mut self, line: &str) -> AuthStep {
        match self.try_respond(line) {
            Ok(step) => step,
            Err(reply) => AuthStep::Failed(reply),
        }
    }

    fn try_respond(&mut self, line: &str) -> Result<AuthStep, Reply> {
        let bytes = decode(line)?;
        Ok(match self.mechanism {
            Mechanism::Plain => {
                let mut parts = bytes.split(|&b| b == 0);
                let (Some(authzid), Some(username), Some(password), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(replies::malformed_auth_response());
                };
                AuthStep::Done(Credentials::Plain {
                    authzid: text(authzid.to_vec())?,
                    username: text(username.to_vec())?,
                    password: text(password.to_vec())?,
                })
            }
            Mechanism::Login => match self.username.take() {
                None => {
                    self.username = Some(text(bytes)?);
                    AuthStep::Challenge(BASE64.encode("Password:"))
                }
                Some(username) => AuthStep::Done(Credentials::Login {
                    username,
                    password: text(bytes)?,
                }),
            },
            Mechanism::CramMd5 => {
                let response = text(bytes)?;
                let (username, digest) = response
                    .rsplit_once(' ')
                    .ok_or_else(replies::malformed_auth_response)?;
                AuthStep::Done(Credentials::CramMd5 {
                    username: username.to_string(),
                    challenge: self.challenge.clone(),
                    digest: digest.to_ascii_lowercase(),
                })
            }
            Mechanism::XOAuth2 => {
                let response = text(bytes)?;
                let mut username = None;
                let mut token = None;
                for field in response.split('\x01') {
                    if let Some(user) = field.strip_prefix("user=") {
                        username = Some(user.to_string());
                    } else if let Some(auth) = field.strip_prefix("auth=") {
                        let bearer = auth
                            .strip_prefix("Bearer ")
                            .or_else(|| auth.strip_prefix("bearer "));
                        token = bearer.map(str::to_string);
                    }
                }
                match (username, token) {
                    (Some(username), Some(token)) => AuthStep::Done(Credentials::XOAuth2 { username, token }),
                    _ => return Err(replies::malformed_auth_response()),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(text: &str) -> String {
        BASE64.encode(text)
    }

    #[test]
    fn plain_with_and_without_initial_response() {
        let initial = b64("\0ann\0s3cret");
        let (_, step) = Exchange::start(Mechanism::Plain, Some(&initial), String::new());
        let expected = Credentials::Plain {
            authzid: String::new(),
            username: "ann".into(),
            password: "s3cret".into(),
        };
        assert_eq!(step, AuthStep::Done(expected.clone()));
        let (mut exchange, step) = Exchange::start(Mechanism::Plain, None, String::new());
        assert_eq!(step, AuthStep::Challenge(String::new()));
        assert_eq!(exchange.respond(&initial), AuthStep::Done(expected));
    }

    #[test]
    fn login_asks_for_user_then_password() {
        let (mut exchange, step) = Exchange::start(Mechanism::Login, None, String::new());
        assert_eq!(step, AuthStep::Challenge(b64("Username:")));
        assert_eq!(
            exchange.respond(&b64("ann")),
            AuthStep::Challenge(b64("Password:"))
        );
        assert_eq!(
            exchange.respond(&b64("pw")),
            AuthStep::Done(Credentials::Login {
                username: "ann".into(),
                password: "pw".into()
            })
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_md5_matches_rfc_2202() {
        // The HMAC-MD5 test cases of RFC 2202, section 2 (1, 2, 3, 6, 7:
        // short, text, binary, and keys longer than a block).
        let long_key = [0xaa; 80];
        let cases: [(&[u8], &[u8], &str); 5] = [
            (&[0x0b; 16], b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
            (
                b"Jefe",
                b"what do ya want for nothing?",
                "750c783e6ab0b503eaa86e310a5db738",
            ),
            (&[0xaa; 16], &[0xdd; 50], "56be34521d144c88dbb8c733f0e8b3f6"),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd",
            ),
            (
                &long_key,
                b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
                "6f630fad67cda0ee1fb1f562db3aa53e",
            ),
        ];
        for (key, data, expected) in cases {
            assert_eq!(hex(&hmac_md5(key, data)), expected, "key {key:02x?}");
        }
    }

    proptest::proptest! {
        /// Any key length (across the 64-byte block) and message: the same
        /// digest as the `hmac` and `md-5` crates.
        #[test]
        fn hmac_md5_agrees_with_the_hmac_crate(
            key in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            message in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            use hmac::{Hmac, KeyInit, Mac};
            let mut mac = Hmac::<md5_reference::Md5>::new_from_slice(&key).expect("any key length");
            mac.update(&message);
            proptest::prop_assert_eq!(hmac_md5(&key, &message).to_vec(), mac.finalize().into_bytes().to_vec());
        }
    }

    #[test]
    fn cram_md5_matches_rfc_2195() {
        // The example exchange of RFC 2195, section 2.
        let challenge = "<1896.697170952@postoffice.reston.mci.net>".to_string();
        let (mut exchange, step) = Exchange::start(Mechanism::CramMd5, None, challenge.clone());
        assert_eq!(step, AuthStep::Challenge(b64(&challenge)));
        let AuthStep::Done(credentials) = exchange.respond(&b64("tim b913a602c7eda7a495b4e6e7334d3890"))
        else {
            panic!("not done");
        };
        assert_eq!(credentials.username(), "tim");
        assert!(credentials.check_password("tanstaaftanstaaf"));
        assert!(!credentials.check_password("wrong"));
    }

    #[test]
    fn xoauth2() {
        let initial = b64("user=ann@example.com\x01auth=Bearer ya29.token\x01\x01");
        let (_, step) = Exchange::start(Mechanism::XOAuth2, Some(&initial), String::new());
        assert_eq!(
            step,
            AuthStep::Done(Credentials::XOAuth2 {
                username: "ann@example.com".into(),
                token: "ya29.token".into()
            })
        );
    }

    #[test]
    fn cancel_and_garbage() {
        let (mut exchange, _) = Exchange::start(Mechanism::Login, None, String::new());
        assert_eq!(exchange.respond("*"), AuthStep::Failed(replies::auth_cancelled()));
        for (mechanism, bad) in [
            (Mechanism::Plain, "not base64!"),
            (Mechanism::Plain, b64("only\0two").as_str()),
            (Mechanism::XOAuth2, b64("user=x").as_str()),
            (Mechanism::CramMd5, b64("nospace").as_str()),
        ] {
            let (mut exchange, _) = Exchange::start(mechanism, None, "c".into());
            assert!(
                matches!(exchange.respond(bad), AuthStep::Failed(r) if r.code() == 501),
                "{mechanism} {bad}"
            );
        }
    }
}
