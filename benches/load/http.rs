//! The load itself: keep-alive HTTP/1.1 connections that each send one
//! request, read the whole answer, and send the next, for a fixed time.
//!
//! Requests are written as bytes and answers read with `httparse`, so the
//! load costs little more than the system calls it makes, and the core it
//! runs on is not the bottleneck of a route that costs the server as much
//! or more than it costs the load.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What each connection sends.
#[derive(Clone)]
pub enum Load {
    /// `GET path`, with `Authorization: Bearer token` when one is given.
    Get {
        path: &'static str,
        bearer: Option<String>,
    },
    /// `POST /api/refresh` with each connection's own session, rotating its
    /// refresh token again and again as a client does.
    Refresh { tokens: Vec<String> },
}

/// Throughput and latency of one measured round.
#[derive(Clone, Copy, Default)]
pub struct Stats {
    pub requests: u64,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub errors: u64,
}

/// Drives `addr` with `concurrency` connections for `seconds`.
pub async fn drive(addr: SocketAddr, load: &Load, concurrency: usize, seconds: f64) -> Stats {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let load = load.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 14);
                // A connection that breaks counts as one error.
                let failed = connection(addr, &load, worker, deadline, &mut latencies)
                    .await
                    .unwrap_or(1);
                (failed, latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (failed, lat) = worker.await.unwrap_or((1, Vec::new()));
        errors += failed;
        latencies.extend(lat);
    }
    let elapsed = started.elapsed().as_secs_f64();

    latencies.sort_unstable();
    let at = |q: f64| {
        let i = (latencies.len() as f64 * q) as usize;
        latencies
            .get(i.min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
    };
    Stats {
        requests: latencies.len() as u64,
        rps: latencies.len() as f64 / elapsed,
        p50_us: at(0.50),
        p99_us: at(0.99),
        errors,
    }
}

/// One connection's requests until `deadline`, their latencies in
/// microseconds pushed to `latencies`. Returns how many answers were not
/// a success; an error ends the connection.
async fn connection(
    addr: SocketAddr,
    load: &Load,
    worker: usize,
    deadline: Instant,
    latencies: &mut Vec<u32>,
) -> io::Result<u64> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    // A GET is the same bytes every time; a refresh carries the token the
    // previous one got.
    let (fixed, mut refresh) = match load {
        Load::Get { path, bearer } => (Some(get_request(addr, path, bearer.as_deref())), None),
        Load::Refresh { tokens } => (None, Some(tokens[worker % tokens.len()].clone())),
    };
    let mut request = Vec::with_capacity(1024);
    let mut buf = Vec::with_capacity(8192);
    let mut failed = 0;

    while Instant::now() < deadline {
        let bytes = match (&fixed, &refresh) {
            (Some(fixed), _) => fixed.as_slice(),
            (None, Some(token)) => {
                refresh_request(addr, token, &mut request);
                request.as_slice()
            }
            (None, None) => break,
        };
        let started = Instant::now();
        stream.write_all(bytes).await?;
        let answer = read_response(&mut stream, &mut buf).await?;
        latencies.push(started.elapsed().as_micros().min(u32::MAX.into()) as u32);

        if !(200..300).contains(&answer.status) {
            failed += 1;
        } else if let Some(token) = &mut refresh {
            let body = &buf[answer.head..answer.end];
            match serde_json::from_slice::<Answer<'_>>(body) {
                Ok(a) => *token = a.refresh_token.to_owned(),
                Err(_) => failed += 1,
            }
        }
        buf.drain(..answer.end);
    }
    Ok(failed)
}

#[derive(Deserialize)]
struct Answer<'a> {
    #[serde(rename = "refreshToken", borrow)]
    refresh_token: &'a str,
}

fn get_request(addr: SocketAddr, path: &str, bearer: Option<&str>) -> Vec<u8> {
    let auth = bearer.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
    format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}\r\n").into_bytes()
}

fn refresh_request(addr: SocketAddr, token: &str, out: &mut Vec<u8>) {
    use std::io::Write as _;
    let body_len = token.len() + r#"{"refreshToken":""}"#.len();
    out.clear();
    let _ = write!(
        out,
        "POST /api/refresh HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {body_len}\r\n\r\n{{\"refreshToken\":\"{token}\"}}"
    );
}

/// Where one answer lies in the read buffer.
struct Answered {
    status: u16,
    /// Where the body starts.
    head: usize,
    /// Where the answer ends.
    end: usize,
}

/// Reads until `buf` holds one whole answer with a `content-length` body.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Answered> {
    loop {
        if let Some(answer) = parse(buf)? {
            return Ok(answer);
        }
        if stream.read_buf(buf).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
    }
}

fn parse(buf: &[u8]) -> io::Result<Option<Answered>> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(buf) {
        Ok(httparse::Status::Complete(head)) => head,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(err) => return Err(io::Error::new(io::ErrorKind::InvalidData, err)),
    };
    let length = response
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no content-length"))?;
    let end = head + length;
    Ok((buf.len() >= end).then(|| Answered {
        status: response.code.unwrap_or(0),
        head,
        end,
    }))
}
