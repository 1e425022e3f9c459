//! The layer in front of a plain hyper 1.x service, over real HTTP.

use std::convert::Infallible;
use std::sync::Arc;

use auth_layer::{
    AccessClaims, AuthLayer, Key, KeySet, ManualClock, NoClaims, TokenConfig, TokenIssuer,
};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};

async fn whoami(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let sub = request
        .extensions()
        .get::<AccessClaims>()
        .map(|c| c.sub().to_owned());
    Ok(Response::new(Full::from(sub.unwrap_or_default())))
}

/// Serves the layered hyper service on a free port; returns its base URL.
async fn serve(issuer: &TokenIssuer) -> String {
    let service = ServiceBuilder::new()
        .layer(AuthLayer::new(issuer.access_verifier::<NoClaims>()))
        .service(service_fn(whoami));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
        }
    });
    format!("http://{addr}")
}

fn issuer(clock: &ManualClock) -> TokenIssuer {
    let keys = |kid: &str| {
        KeySet::new(Key::hs256(kid, format!("{kid} secret for the plain hyper test")).unwrap())
            .unwrap()
    };
    let config = TokenConfig::new("hyper-test", "hyper-test");
    TokenIssuer::with_clock(keys("a"), keys("r"), config, Arc::new(clock.clone())).unwrap()
}

#[tokio::test]
async fn a_plain_hyper_service_sees_the_claims_of_a_valid_token() {
    let clock = ManualClock::new(1_700_000_000);
    let issuer = issuer(&clock);
    let base = serve(&issuer).await;
    let token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();

    let response = reqwest::Client::new()
        .get(&base)
        .bearer_auth(token.as_str())
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "alice");
}

#[tokio::test]
async fn a_plain_hyper_service_is_not_called_without_a_valid_token() {
    let clock = ManualClock::new(1_700_000_000);
    let issuer = issuer(&clock);
    let base = serve(&issuer).await;
    let token = issuer.issue_access("alice", "s1", &NoClaims {}).unwrap();
    let client = reqwest::Client::new();

    let anonymous = client.get(&base).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        r#"Bearer realm="api""#
    );

    clock.advance(std::time::Duration::from_secs(15 * 60 + 5));
    let expired = client
        .get(&base)
        .bearer_auth(token.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 401);
    let challenge = expired.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains(r#"error_description="the access token expired""#));
    let body: serde_json::Value = expired.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
}
