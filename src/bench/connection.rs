//! A terminal's HTTP/1.1 keep-alive connection for the timed part of a run.
//!
//! The load generator shares the machine with the server it measures, so every microsecond
//! it spends per request is taken from the server. A terminal therefore talks HTTP/1.1 over
//! one hyper connection (no pool, no URL parsing per request), sends bodies it has already
//! serialised, and reads only the reply fields the run needs. The connection is reopened
//! after a transport error.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use std::time::Duration;

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a terminal connects, parsed once from `--target`.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    /// `host:port`, for connecting and for the `Host` header.
    authority: String,
    host_header: HeaderValue,
    key_header: HeaderValue,
}

impl Endpoint {
    pub(crate) fn new(base: &str, key: &str) -> anyhow::Result<Endpoint> {
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("--target must be an http:// URL, not {base}"))?;
        let authority = rest.split('/').next().unwrap_or_default();
        anyhow::ensure!(!authority.is_empty(), "--target has no host: {base}");
        let authority = if authority.contains(':') && !authority.ends_with(']') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Endpoint {
            host_header: HeaderValue::from_str(&authority)?,
            key_header: HeaderValue::from_str(key).map_err(|_| anyhow::anyhow!("the API key is not a header value"))?,
            authority,
        })
    }
}

/// One terminal's connection, opened lazily and reopened after an error.
pub(crate) struct Connection {
    endpoint: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub(crate) fn new(endpoint: Endpoint) -> Connection {
        Connection { endpoint, sender: None }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(&self.endpoint.authority)
            .await
            .map_err(|error| format!("connect: {error}"))?;
        stream.set_nodelay(true).map_err(|error| error.to_string())?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|error| format!("handshake: {error}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends one request and reads the whole response: its status and body.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> Result<(u16, Bytes), String> {
        self.send_as(method, path, body, None).await
    }

    /// As `send`, with a contact's access token (`Authorization: Bearer …`).
    pub(crate) async fn send_as(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        bearer: Option<&HeaderValue>,
    ) -> Result<(u16, Bytes), String> {
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(method, path, body, bearer))
            .await
            .unwrap_or_else(|_| Err("timed out".to_string()));
        if outcome.is_err() {
            self.sender = None;
        }
        outcome
    }

    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        bearer: Option<&HeaderValue>,
    ) -> Result<(u16, Bytes), String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.endpoint.host_header.clone())
            .header("api_key", self.endpoint.key_header.clone());
        if let Some(bearer) = bearer {
            request = request.header(hyper::header::AUTHORIZATION, bearer.clone());
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let mut request = request
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|error| error.to_string())?;
        // A kept-alive connection the server has closed is found out only when used; then
        // the request, not yet written, goes again on a new connection (as a pool would).
        loop {
            let reused = self.sender.is_some();
            let sender = match &mut self.sender {
                Some(sender) => sender,
                None => self.sender.insert(self.open().await?),
            };
            if let Err(error) = sender.ready().await {
                self.sender = None;
                if reused {
                    continue;
                }
                return Err(error.to_string());
            }
            let response = match sender.try_send_request(request).await {
                Ok(response) => response,
                Err(mut error) => {
                    self.sender = None;
                    match error.take_message() {
                        Some(unsent) if reused => {
                            request = unsent;
                            continue;
                        }
                        _ => return Err(error.into_error().to_string()),
                    }
                }
            };
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|error| error.to_string())?
                .to_bytes();
            return Ok((status, body));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_take_host_and_port_from_the_target() {
        assert_eq!(
            Endpoint::new("http://127.0.0.1:8080", "k").unwrap().authority,
            "127.0.0.1:8080"
        );
        assert_eq!(
            Endpoint::new("http://localhost/", "k").unwrap().authority,
            "localhost:80"
        );
        assert_eq!(
            Endpoint::new("http://[::1]:9000/x", "k").unwrap().authority,
            "[::1]:9000"
        );
        assert!(Endpoint::new("https://example.com", "k").is_err());
        assert!(Endpoint::new("http://", "k").is_err());
    }
}
