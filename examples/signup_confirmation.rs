//! A small web app whose sign-up mails a confirmation link, and the test
//! that follows the link back into the app.
//!
//! ```sh
//! cargo run --example signup_confirmation
//! ```
//!
//! The first half is the app as it would be in your project: an axum
//! router, configured with the SMTP host and port it sends through. The
//! second half, [`sign_up_and_confirm`], is its test: start a
//! `TestSmtpServer`, point the app's config at it, sign up over HTTP, find
//! the link in the mail with `link_containing`, follow it, and check that
//! the account is confirmed. `tests/fixture/example_apps.rs` runs the same function
//! under `cargo test`.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use smtp_fixture::TestSmtpServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------- the app

/// What the app reads from its configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SMTP server the app sends through.
    pub smtp_host: String,
    /// Its port.
    pub smtp_port: u16,
    /// The app's address as users reach it, for links in mails.
    pub public_url: String,
    /// The sender of the app's mails.
    pub mail_from: Mailbox,
}

#[derive(Clone)]
struct AppState {
    config: Arc<Config>,
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    /// email -> account. A real app has a database.
    accounts: Arc<Mutex<HashMap<String, Account>>>,
}

struct Account {
    token: String,
    confirmed: bool,
}

#[derive(Deserialize)]
struct SignUp {
    email: String,
}

#[derive(Deserialize)]
struct Confirm {
    token: String,
    email: String,
}

#[derive(Deserialize)]
struct Lookup {
    email: String,
}

/// The app's routes: `POST /signup` (form field `email`), `GET /confirm`
/// (the link in the mail), `GET /account?email=` (`pending` or
/// `confirmed`).
pub fn app(config: Config) -> Router {
    // Plain SMTP to the configured relay; production would use TLS.
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.smtp_host)
        .port(config.smtp_port)
        .build();
    let state = AppState {
        config: Arc::new(config),
        mailer,
        accounts: Arc::default(),
    };
    Router::new()
        .route("/signup", post(sign_up))
        .route("/confirm", get(confirm))
        .route("/account", get(account))
        .with_state(state)
}

async fn sign_up(State(state): State<AppState>, Form(form): Form<SignUp>) -> (StatusCode, String) {
    let Ok(to) = form.email.parse::<Mailbox>() else {
        return (StatusCode::BAD_REQUEST, "not an email address\n".into());
    };
    let token = new_token();
    let link = format!(
        "{}/confirm?token={token}&email={}",
        state.config.public_url,
        percent_encode(&form.email)
    );
    let email = Message::builder()
        .from(state.config.mail_from.clone())
        .to(to)
        .subject("Confirm your address")
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(
            format!(
                "Welcome!\n\nConfirm your address: {link}\n\nIf you did not sign up, ignore this mail.\n"
            ),
            format!(
                "<p>Welcome!</p><p><a href=\"{}\">Confirm your address</a></p>\
                 <p>If you did not sign up, ignore this mail.</p>",
                link.replace('&', "&amp;")
            ),
        ));
    let email = match email {
        Ok(email) => email,
        Err(error) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")),
    };
    if let Err(error) = state.mailer.send(email).await {
        return (
            StatusCode::BAD_GATEWAY,
            format!("could not send the mail: {error}\n"),
        );
    }
    let account = Account {
        token,
        confirmed: false,
    };
    state
        .accounts
        .lock()
        .expect("accounts")
        .insert(form.email, account);
    (StatusCode::ACCEPTED, "check your inbox\n".into())
}

async fn confirm(State(state): State<AppState>, Query(query): Query<Confirm>) -> (StatusCode, &'static str) {
    let mut accounts = state.accounts.lock().expect("accounts");
    match accounts.get_mut(&query.email) {
        Some(account) if account.token == query.token => {
            account.confirmed = true;
            (StatusCode::OK, "confirmed\n")
        }
        _ => (StatusCode::NOT_FOUND, "unknown or expired link\n"),
    }
}

async fn account(State(state): State<AppState>, Query(query): Query<Lookup>) -> (StatusCode, &'static str) {
    match state.accounts.lock().expect("accounts").get(&query.email) {
        Some(account) if account.confirmed => (StatusCode::OK, "confirmed\n"),
        Some(_) => (StatusCode::OK, "pending\n"),
        None => (StatusCode::NOT_FOUND, "no such account\n"),
    }
}

/// 128 random bits as hex. (A real app would use the `rand` or `getrandom`
/// crate; std's randomly seeded hasher keeps this example's dependencies
/// down.)
fn new_token() -> String {
    let random = RandomState::new();
    format!("{:016x}{:016x}", random.hash_one(1u8), random.hash_one(2u8))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

// --------------------------------------------------------------- the test

/// Signs Ann up, follows the link in her mail and checks that her account
/// is confirmed; says what went wrong otherwise.
pub async fn sign_up_and_confirm() -> Result<(), String> {
    let smtp = TestSmtpServer::start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|error| format!("cannot bind the app's port: {error}"))?;
    let web = listener.local_addr().map_err(|error| error.to_string())?;
    let config = Config {
        smtp_host: smtp.host(),
        smtp_port: smtp.port(),
        public_url: format!("http://{web}"),
        mail_from: "App <noreply@app.example>".parse().expect("a valid mailbox"),
    };
    let server = tokio::spawn(async move { axum::serve(listener, app(config)).await });
    println!("app on http://{web}, SMTP on {}", smtp.addr());

    let (status, body) = http(web, "POST", "/signup", Some("email=ann%40example.com")).await?;
    println!("POST /signup -> {status} {}", body.trim());
    expect(status == 202, format!("sign-up answered {status}: {body}"))?;

    let mail = smtp.wait_for_message_to_async("ann@example.com").await;
    println!("mail: {}", mail.summary());
    let link = mail.link_containing("/confirm");
    println!("link: {link}");
    let token = link.query("token").ok_or("the link has no token")?;
    println!(
        "token: {token} (path {}, email {:?})",
        link.path(),
        link.query("email")
    );

    let (_, before) = http(web, "GET", "/account?email=ann%40example.com", None).await?;
    expect(
        before.trim() == "pending",
        format!("before confirming, the account is {before:?}"),
    )?;

    let target =
        path_and_query(&link.url).ok_or_else(|| format!("the link {} is not into the app", link.url))?;
    let (status, body) = http(web, "GET", target, None).await?;
    println!("GET {target} -> {status} {}", body.trim());
    expect(
        status == 200,
        format!("following the link answered {status}: {body}"),
    )?;

    let (_, after) = http(web, "GET", "/account?email=ann%40example.com", None).await?;
    println!("account: {}", after.trim());
    expect(
        after.trim() == "confirmed",
        format!("after following the link, the account is {after:?}"),
    )?;

    server.abort();
    Ok(())
}

fn expect(condition: bool, otherwise: String) -> Result<(), String> {
    condition.then_some(()).ok_or(otherwise)
}

/// The path and query of an `http://` URL (what goes in the request line).
fn path_and_query(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    rest.find('/').map(|slash| &rest[slash..])
}

/// One HTTP/1.1 request over a fresh connection; returns status and body.
/// (A test in your project would use its HTTP client of choice, or
/// `tower::ServiceExt::oneshot` on the router.)
async fn http(
    addr: SocketAddr,
    method: &str,
    target: &str,
    form: Option<&str>,
) -> Result<(u16, String), String> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|error| format!("cannot reach the app: {error}"))?;
    let body = form.unwrap_or("");
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|error| error.to_string())?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {response:?}"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, body.to_string()))
}

#[tokio::main]
async fn main() -> ExitCode {
    match sign_up_and_confirm().await {
        Ok(()) => {
            println!("ok: the account was confirmed through the mailed link");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("FAILED: {problem}");
            ExitCode::FAILURE
        }
    }
}
