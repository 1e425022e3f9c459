//! The auth layer in front of a plain hyper 1.x service, with no axum.
//!
//! `cargo run --example hyper_server` listens on `127.0.0.1:3001` (or
//! `ADDR`), prints an access token for user `alice`, and answers
//! `GET /` with a greeting for whoever the token names.
//!
//! ```text
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3001/
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;

use auth_layer::{AccessClaims, AuthLayer, Key, KeySet, NoClaims, TokenConfig, TokenIssuer};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // The layer only lets requests through with verified claims.
    let greeting = match request.extensions().get::<AccessClaims>() {
        Some(claims) => format!("hello, {}\n", claims.sub()),
        None => "hello, stranger\n".to_owned(),
    };
    Ok(Response::new(Full::from(greeting)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TokenIssuer::new(
        KeySet::new(Key::hs256("access-1", auth_layer::random_id().repeat(2))?)?,
        KeySet::new(Key::hs256("refresh-1", auth_layer::random_id().repeat(2))?)?,
        TokenConfig::new("hyper-example", "hyper-example"),
    )?;
    let token = issuer.issue_access("alice", &auth_layer::random_id(), &NoClaims {})?;

    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(issuer.access_verifier::<NoClaims>()))
        .service(service_fn(hello));

    let addr: SocketAddr = std::env::var("ADDR")
        .unwrap_or_else(|_| "127.0.0.1:3001".into())
        .parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("TOKEN={}", token.as_str());

    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            if let Err(err) = connection.await {
                eprintln!("connection error: {err}");
            }
        });
    }
}
