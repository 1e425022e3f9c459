//! Which requests get the token and which may be retried.

use std::sync::{Arc, Mutex};

use http::Extensions;
use refresh_client::SkipRefresh;
use reqwest::header::AUTHORIZATION;
use reqwest::{Body, Request, Response, StatusCode};
use reqwest_middleware::{Middleware, Next};

use crate::support::{
    ISSUED_AT, ManualClock, MockApi, Recorder, counts, http, middleware, send, tally,
    with_middleware,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_is_never_sent_to_another_origin() {
    let api = MockApi::start().await;
    let elsewhere = Recorder::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    let outcome = send(&client, &elsewhere.url("/api/data")).await;

    assert_eq!(tally(&[outcome]), counts(&[("200", 1)]));
    assert_eq!(elsewhere.authorizations(), [None]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_added_to_the_builder_gets_the_token() {
    let api = MockApi::start().await;
    let partner = Recorder::start().await;
    let auth = middleware(&api)
        .origin(&partner.origin())
        .expect("the partner's origin parses")
        .build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    let client = with_middleware(&auth);

    send(&client, &partner.url("/anything"))
        .await
        .expect("a request");

    assert_eq!(
        partner.authorizations(),
        [Some(format!("Bearer {}", tokens.access))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_its_own_authorization_header_is_left_alone() {
    let api = MockApi::start().await;
    let partner = Recorder::start().await;
    let auth = middleware(&api)
        .origin(&partner.origin())
        .expect("the partner's origin parses")
        .build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    let to_partner = client
        .get(partner.url("/anything"))
        .basic_auth("robot", Some("pw"));
    to_partner.send().await.expect("a request");
    let to_api = client
        .get(api.data_url())
        .bearer_auth("someone-elses-token");
    let answer = to_api.send().await.expect("a request");

    assert_eq!(
        partner.authorizations(),
        [Some("Basic cm9ib3Q6cHc=".to_owned())]
    );
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.refresh_calls(), 0);
    assert_eq!(api.protected_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_a_streaming_body_gets_its_401_back_without_a_refresh() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);
    let streaming = client
        .post(api.data_url())
        .body(Body::wrap(String::from("one pass only")))
        .build()
        .expect("build the request");
    assert!(
        streaming.try_clone().is_none(),
        "the body should not be cloneable"
    );

    let answer = client.execute(streaming).await.expect("a request");

    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.refresh_calls(), 0);
    assert_eq!(api.protected_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_with_a_byte_body_is_retried_after_the_refresh() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let posted = client.post(api.data_url()).body("many passes");
    let answer = posted.send().await.expect("a request");

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(api.protected_calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_marked_skip_refresh_gets_its_401_back_without_a_refresh() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let probe = client.get(api.data_url()).with_extension(SkipRefresh);
    let answer = probe.send().await.expect("a request");

    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.refresh_calls(), 0);
    assert_eq!(api.protected_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_marked_skip_refresh_is_not_refreshed_ahead_of_time() {
    let api = MockApi::start().await;
    let clock = ManualClock::at(ISSUED_AT);
    let auth = middleware(&api).clock(clock.source()).build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    clock.advance(45);
    let probe = client.get(api.data_url()).with_extension(SkipRefresh);
    let answer = probe.send().await.expect("a request");

    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(api.refresh_calls(), 0);
}

/// Writes down, for each request that reaches it, whether its
/// `Authorization` header is marked sensitive.
#[derive(Clone, Default)]
struct SensitivityProbe(Arc<Mutex<Vec<bool>>>);

#[async_trait::async_trait]
impl Middleware for SensitivityProbe {
    async fn handle(
        &self,
        request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        if let Some(value) = request.headers().get(AUTHORIZATION) {
            self.0.lock().unwrap().push(value.is_sensitive());
        }
        next.run(request, extensions).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_attached_authorization_header_is_marked_sensitive() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let probe = SensitivityProbe::default();
    let client = reqwest_middleware::ClientBuilder::new(http())
        .with(auth.clone())
        .with(probe.clone())
        .build();

    let outcome = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[outcome]), counts(&[("200", 1)]));
    assert_eq!(*probe.0.lock().unwrap(), [true, true]);
}
