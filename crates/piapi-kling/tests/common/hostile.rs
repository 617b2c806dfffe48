//! A hostile HTTP server on loopback, for the security tests of the SDK and
//! the CLI (which includes this file): it answers each request with whatever
//! the test's function says, including what no honest server sends — bodies
//! larger than announced, endless streams, malformed bytes, redirects to
//! other hosts or schemes.
//!
//! Raw HTTP/1.1 over a `TcpListener`, one request per connection
//! (`connection: close`), so every byte on the wire is the test's choice.
#![allow(dead_code)] // each test binary uses a part of it

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Where an "endless" body gives up; far above every limit under test.
pub const ENDLESS_SAFETY_STOP: u64 = 256 * 1024 * 1024;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query, as sent.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to answer.
pub enum Reply {
    /// A complete response with a correct `content-length`.
    Full {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// A `content-length` of `length`, then `sent` bytes of it, then the
    /// connection stays open until the client gives up.
    Announced { length: u64, sent: Vec<u8> },
    /// A chunked body that does not end: `chunk` again and again until the
    /// client hangs up. As a safety net for a client that never would, the
    /// server stops after [`ENDLESS_SAFETY_STOP`] bytes by closing the
    /// connection mid-body (a body cut short).
    Endless { status: u16, chunk: Vec<u8> },
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::status_json(200, body)
    }

    /// `status` with a JSON body.
    pub fn status_json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
        }
    }

    /// 200 with `body` of type `content_type`.
    pub fn bytes(content_type: &str, body: Vec<u8>) -> Reply {
        Reply::Full {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body,
        }
    }

    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply::Full {
            status: 302,
            headers: vec![("location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// A running hostile server.
pub struct Hostile {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port, to address the same server under another name
    /// (`http://localhost:PORT`).
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Hostile {
    /// Starts a server answering each request with `reply(request, own base URL)`.
    pub async fn start<F>(reply: F) -> Hostile
    where
        F: Fn(&Seen, &str) -> Reply + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let reply = Arc::new(reply);
        let base = url.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    return;
                };
                let (log, reply, base) = (log.clone(), reply.clone(), base.clone());
                tokio::spawn(async move { serve(socket, &log, &*reply, &base).await });
            }
        });
        Hostile { url, port, seen }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve<F>(mut socket: TcpStream, log: &Mutex<Vec<Seen>>, reply: &F, base: &str)
where
    F: Fn(&Seen, &str) -> Reply,
{
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    log.lock().unwrap().push(request.clone());
    match reply(&request, base) {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} X\r\n");
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str(&format!(
                "content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            ));
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
            let _ = socket.shutdown().await;
        }
        Reply::Announced { length, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&sent).await;
            // Hold the connection until the client closes it.
            let mut sink = [0u8; 64];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Reply::Endless { status, chunk } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            );
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
            frame.extend_from_slice(&chunk);
            frame.extend_from_slice(b"\r\n");
            let mut sent = 0u64;
            while sent < ENDLESS_SAFETY_STOP && socket.write_all(&frame).await.is_ok() {
                sent += chunk.len() as u64;
            }
        }
    }
}

/// Reads the head and the body its `content-length` announces.
async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&buf[..n]);
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while bytes.len() < head_end + 4 + length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&buf[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
    })
}

/// PiAPI's envelope around a task: `{"code":200,"data":TASK,"message":"success"}`.
pub fn envelope(task: &serde_json::Value) -> String {
    serde_json::json!({"code": 200, "message": "success", "data": task}).to_string()
}

/// A task of id `task_id` in `status`, whose one video is at `video_url`.
pub fn task(task_id: &str, status: &str, video_url: &str) -> serde_json::Value {
    serde_json::json!({
        "task_id": task_id, "model": "kling", "task_type": "video_generation",
        "status": status, "input": {}, "meta": {}, "detail": null, "logs": [],
        "error": {"code": 0, "message": ""},
        "output": {"works": [{"video": {"resource": video_url}}]}
    })
}
