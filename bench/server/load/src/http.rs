//! The HTTP client: one keep-alive HTTP/1.1 connection per virtual user
//! (hyper), reopened after a failure, every request bounded by a timeout.

use crate::AnyError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// The JWKS path: the readiness probe and the `jwks` scenario.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// One keep-alive HTTP/1.1 connection, reopened after a failure.
pub struct Conn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

/// Why a request got no answer.
#[derive(Debug)]
pub enum Failure {
    Transport(String),
    Timeout,
}

impl Conn {
    pub async fn open(addr: SocketAddr, timeout: Duration) -> Result<Self, AnyError> {
        let sender = Some(Self::connect(addr).await?);
        Ok(Conn { addr, host: addr.to_string(), sender, timeout })
    }

    async fn connect(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, AnyError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// The status and full body of the answer; `body` is sent as JSON, and
    /// `bearer` as `Authorization: Bearer`.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        bearer: Option<&str>,
    ) -> Result<(u16, Bytes), Failure> {
        let result = tokio::time::timeout(self.timeout, self.send_inner(method, path, body, bearer)).await;
        // After a failure the connection's state is unknown: the next
        // request opens a new one.
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(e)) => {
                self.sender = None;
                Err(Failure::Transport(e.to_string()))
            }
            Err(_) => {
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        bearer: Option<&str>,
    ) -> Result<(u16, Bytes), AnyError> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.sender = Some(Self::connect(self.addr).await?);
        }
        let sender = self.sender.as_mut().expect("connected above");
        sender.ready().await?;
        let mut request = Request::builder().method(method).uri(path).header("host", &self.host);
        if let Some(bearer) = bearer {
            request = request.header("authorization", format!("Bearer {bearer}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Full::new(body)
            }
            None => Full::new(Bytes::new()),
        };
        let response = sender.send_request(request.body(body)?).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// For preparation steps: the 200 answer to `POST path` as an `A`;
    /// anything else is an error that quotes what came.
    pub async fn post<B: Serialize, A: DeserializeOwned>(&mut self, path: &str, body: &B) -> Result<A, AnyError> {
        let (status, bytes) = self
            .send(Method::POST, path, Some(json_body(body)), None)
            .await
            .map_err(|f| format!("POST {path}: {f:?}"))?;
        match serde_json::from_slice(&bytes) {
            Ok(answer) if status == 200 => Ok(answer),
            _ => Err(format!("{path} answered {status}: {}", String::from_utf8_lossy(&bytes)).into()),
        }
    }
}

/// `value` as a request body.
pub fn json_body<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("request types serialise"))
}

/// `n` connections, the `i`th to `addrs[i % addrs.len()]`.
pub async fn open_connections(addrs: &[SocketAddr], n: usize, timeout: Duration) -> Result<Vec<Conn>, AnyError> {
    let mut conns = Vec::with_capacity(n);
    for addr in addrs.iter().cycle().take(n) {
        conns.push(Conn::open(*addr, timeout).await?);
    }
    Ok(conns)
}

/// Waits (up to 30 s) until the server serves its JWKS, and returns it.
pub async fn wait_ready(addr: SocketAddr, timeout: Duration) -> Result<Value, AnyError> {
    let give_up = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut conn) = Conn::open(addr, timeout).await {
            if let Ok((200, body)) = conn.send(Method::GET, JWKS_PATH, None, None).await {
                return Ok(serde_json::from_slice(&body)?);
            }
        }
        if Instant::now() > give_up {
            return Err(format!("the server at {addr} did not answer within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
