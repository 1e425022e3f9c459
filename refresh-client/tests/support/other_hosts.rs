//! Hosts other than the API: one that records, one that never answers, and
//! a port where nothing listens.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use tokio::net::TcpListener;

/// A server on its own origin that answers `200` to anything and writes
/// down the `Authorization` header of every request (`None` for none).
pub struct Recorder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Option<String>>>>,
}

impl Recorder {
    pub async fn start() -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new().fallback(record).with_state(seen.clone());

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the recorder");
        let addr = listener.local_addr().expect("the recorder's address");
        tokio::spawn(axum::serve(listener, app).into_future());
        Self { addr, seen }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    pub fn authorizations(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(State(seen): State<Arc<Mutex<Vec<Option<String>>>>>, headers: HeaderMap) {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    seen.lock().unwrap().push(authorization);
}

/// A port that accepts connections and never answers: requests to it end
/// in the client's timeout.
pub struct SilentEndpoint {
    listener: std::net::TcpListener,
}

impl SilentEndpoint {
    pub fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a silent port");
        Self { listener }
    }

    pub fn url(&self, path: &str) -> String {
        let addr = self
            .listener
            .local_addr()
            .expect("the silent port's address");
        format!("http://{addr}{path}")
    }
}

/// An address where nothing listens (until a test serves something there).
pub fn unused_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a spare port");
    listener.local_addr().expect("the spare port's address")
}
