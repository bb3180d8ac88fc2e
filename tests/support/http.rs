//! A small HTTP/1.1 client over a real socket, for the service tests: one
//! request per connection, the answer read whole (or, for event streams,
//! line by line).

// Each test binary that includes this uses a different part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, headers (names lower-cased), body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (status {})", self.text(), self.status))
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the HTTP port");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("a read timeout");
    stream
}

fn write_request(stream: &mut TcpStream, method: &str, path: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("write the request");
    // A server may answer (413) and close before taking a large body.
    let _ = stream.write_all(body);
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).expect("the status line");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {line:?}"));
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a header line");
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (status, headers)
}

/// Sends one request and reads the whole answer.
pub fn request(addr: SocketAddr, method: &str, path: &str, content_type: &str, body: &[u8]) -> HttpResponse {
    let mut stream = connect(addr);
    write_request(&mut stream, method, path, content_type, body);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).expect("a chunk size");
            let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).expect("a chunk");
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        let _ = reader.read_to_end(&mut body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    request(addr, "GET", path, "text/plain", b"")
}

pub fn send_json(addr: SocketAddr, method: &str, path: &str, json: &str) -> HttpResponse {
    request(addr, method, path, "application/json", json.as_bytes())
}

/// An open event stream: its lines as they come.
pub struct EventStream {
    reader: BufReader<TcpStream>,
}

impl EventStream {
    pub fn open(addr: SocketAddr, path: &str) -> EventStream {
        let mut stream = connect(addr);
        write_request(&mut stream, "GET", path, "text/plain", b"");
        let mut reader = BufReader::new(stream);
        let (status, headers) = read_head(&mut reader);
        assert_eq!(status, 200);
        assert!(
            headers
                .iter()
                .any(|(n, v)| n == "content-type" && v.starts_with("text/event-stream")),
            "{headers:?}"
        );
        EventStream { reader }
    }

    /// Reads until an event called `name` and returns its data (the
    /// chunked framing's size lines are skipped as noise).
    pub fn next_event(&mut self, name: &str) -> String {
        let mut current = None::<String>;
        loop {
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).expect("an event line");
            assert!(read > 0, "the event stream ended before a {name:?} event");
            let line = line.trim_end();
            if let Some(event) = line.strip_prefix("event: ") {
                current = Some(event.to_string());
            } else if let Some(data) = line.strip_prefix("data: ") {
                if current.as_deref() == Some(name) {
                    return data.to_string();
                }
            }
        }
    }
}
