//! `TestSmtpServer::builder().http_api()`: a fixture with service mode's
//! HTTP API beside it.

use crate::Builder;

impl Builder {
    /// Serve the HTTP API of service mode too (Mailpit's API v1, our routes
    /// and the web page, listed in the repository's `docs/service.md`), on a free port of
    /// the same address, over this fixture's store and rules:
    /// [`TestSmtpServer::http_url`](crate::TestSmtpServer::http_url) says where. Feature `http`.
    ///
    /// ```
    /// use smtp_fixture::TestSmtpServer;
    /// use std::io::{Read, Write};
    ///
    /// let server = TestSmtpServer::builder().http_api().start();
    /// let url = server.http_url().unwrap(); // hand it to a browser test
    /// let mut http = std::net::TcpStream::connect(server.http_addr().unwrap()).unwrap();
    /// http.write_all(b"GET /api/v1/messages HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    /// let mut answer = String::new();
    /// http.read_to_string(&mut answer).unwrap();
    /// assert!(answer.starts_with("HTTP/1.1 200"), "{url}: {answer}");
    /// assert!(answer.contains(r#""total":0"#));
    /// ```
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn http_api(mut self) -> Builder {
        self.http_api = Some(super::serve_for_fixture);
        self
    }
}
