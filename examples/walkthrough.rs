//! The whole mechanism, step by step, in one process and without waiting:
//! `cargo run --example walkthrough`.
//!
//! It drives the reference server's routes directly (no network), on a
//! clock it moves by hand, and prints what each step answers: login, a
//! call, the access token expiring, a refresh with rotation, the replay of
//! the spent refresh token inside and after the grace window (which ends
//! the session), and logout. Each step checks the status it expects, so a
//! change that breaks the flow makes the walk-through fail.

use std::sync::Arc;
use std::time::Duration;

use auth_layer::store::MemoryStore;
use auth_layer::{Clock, ManualClock, SystemClock};
use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tokenpair::reference::{Config, DEMO_PASSWORD, DEMO_USER, Server};
use tower::ServiceExt;

/// Sends one request, prints it with its answer, and checks the status.
struct Walk {
    router: Router,
    clock: ManualClock,
}

impl Walk {
    async fn step(&self, what: &str, request: Request<Body>, expect: StatusCode) -> String {
        let line = format!("{} {}", request.method(), request.uri());
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = String::from_utf8_lossy(&body).into_owned();
        println!("{what}\n    {line} -> {status}{}", refusal(&body));
        assert_eq!(status, expect, "{what}");
        body
    }

    fn wait(&self, seconds: u64, why: &str) {
        self.clock.advance(Duration::from_secs(seconds));
        println!("... {seconds} s later ({why})");
    }
}

/// The `error` and `error_description` a refusal's JSON body carries.
fn refusal(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else {
        return String::new();
    };
    match (json["error"].as_str(), json["error_description"].as_str()) {
        (Some(error), Some(description)) => format!(" {error}: {description}"),
        _ => String::new(),
    }
}

fn post_json(path: &str, json: serde_json::Value) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(json.to_string()))
        .expect("request")
}

fn with_bearer(method: &str, path: &str, access: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .expect("request")
}

fn field(json: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("json");
    value[name].as_str().expect(name).to_owned()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let clock = ManualClock::new(SystemClock.now());
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let store = Arc::new(MemoryStore::with_clock(Arc::clone(&shared)));
    let config = Config::from_lookup(|_| None).expect("defaults");
    let server = Server::with_store(&config, shared, store).expect("server");
    let walk = Walk {
        router: server.router(),
        clock,
    };
    let credentials = serde_json::json!({"username": DEMO_USER, "password": DEMO_PASSWORD});

    let login = walk
        .step(
            "1. Sign in",
            post_json("/api/login", credentials.clone()),
            StatusCode::OK,
        )
        .await;
    let (access, first_refresh) = (field(&login, "accessToken"), field(&login, "refreshToken"));
    let me = with_bearer("GET", "/api/me", &access);
    walk.step("2. Call the API with the access token", me, StatusCode::OK)
        .await;

    walk.wait(15 * 60 + 10, "the access token lives 15 minutes");
    let me = with_bearer("GET", "/api/me", &access);
    walk.step("3. The same call now", me, StatusCode::UNAUTHORIZED)
        .await;

    let body = serde_json::json!({"refreshToken": first_refresh});
    let rotated = walk
        .step(
            "4. Refresh: a new pair",
            post_json("/api/refresh", body.clone()),
            StatusCode::OK,
        )
        .await;
    let access = field(&rotated, "accessToken");
    let me = with_bearer("GET", "/api/me", &access);
    walk.step("5. Retry with the new access token", me, StatusCode::OK)
        .await;

    let replayed = walk
        .step(
            "6. A second tab refreshes with the spent token, inside the grace window",
            post_json("/api/refresh", body.clone()),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replayed, rotated, "the replay gets the very same pair");
    println!("    (the very same pair as step 4)");

    walk.wait(11, "the grace window is 10 s");
    walk.step(
        "7. The spent token again: reuse, taken for theft",
        post_json("/api/refresh", body),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let me = with_bearer("GET", "/api/me", &access);
    walk.step(
        "8. The newest access token of that session",
        me,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let login = walk
        .step(
            "9. Sign in again",
            post_json("/api/login", credentials),
            StatusCode::OK,
        )
        .await;
    let access = field(&login, "accessToken");
    let logout = with_bearer("POST", "/api/logout", &access);
    walk.step("10. Log out", logout, StatusCode::NO_CONTENT)
        .await;
    let me = with_bearer("GET", "/api/me", &access);
    walk.step(
        "11. The access token from before the logout",
        me,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
