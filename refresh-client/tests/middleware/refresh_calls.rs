//! What the refresh call sends and which answers it understands: the JSON
//! default, OAuth names, a server that does not rotate, cookie mode, and
//! the application's own function.

use std::sync::{Arc, Mutex};

use axum::http::HeaderValue;
use refresh_client::{RefreshError, RefreshMiddleware, Tokens};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, HeaderMap};

use crate::support::{
    CallCounter, MockApi, RefreshAnswer, TIMEOUT, counts, middleware, send, tally, with_middleware,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_call_posts_the_refresh_token_as_json() {
    let api = MockApi::start().await;
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcome = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[outcome]), counts(&[("200", 1)]));
    let sent = api.refresh_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(&sent[0].body[..], br#"{"refreshToken":"refresh-1"}"#);
    assert_eq!(
        auth.tokens().and_then(|t| t.refresh).as_deref(),
        Some("refresh-2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_does_not_rotate_keeps_the_original_refresh_token_for_three_expiries() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::AccessOnly);
    let auth = middleware(&api).build();
    let tokens = api.issue_tokens();
    let original = tokens.refresh.clone();
    auth.set_tokens(tokens);
    let client = with_middleware(&auth);

    let mut outcomes = Vec::new();
    for _ in 0..3 {
        api.expire_access_token();
        outcomes.push(send(&client, &api.data_url()).await);
    }

    assert_eq!(tally(&outcomes), counts(&[("200", 3)]));
    assert_eq!(api.refresh_calls(), 3);
    assert_eq!(api.presented_refresh_tokens(), vec![original.clone(); 3]);
    assert_eq!(auth.tokens().and_then(|t| t.refresh), original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_field_names_in_the_refresh_answer_are_read() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::OAuthNames);
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    let mut outcomes = Vec::new();
    for _ in 0..2 {
        api.expire_access_token();
        outcomes.push(send(&client, &api.data_url()).await);
    }

    assert_eq!(tally(&outcomes), counts(&[("200", 2)]));
    let presented = api.presented_refresh_tokens();
    assert_eq!(
        presented,
        [Some("refresh-1".into()), Some("refresh-2".into())]
    );
    assert_eq!(
        auth.tokens().and_then(|t| t.refresh).as_deref(),
        Some("refresh-3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_mode_posts_no_body_and_lets_the_cookie_carry_the_refresh_token() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::AccessOnly);
    // The reqwest `cookies` feature is off, so a default header stands in
    // for the cookie store holding the HttpOnly refresh cookie.
    let mut cookie_jar = HeaderMap::new();
    cookie_jar.insert(COOKIE, HeaderValue::from_static("refresh_token=refresh-1"));
    let refresh_client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .default_headers(cookie_jar)
        .build()
        .expect("build the cookie client");
    let auth = middleware(&api)
        .cookie_mode()
        .client(refresh_client)
        .build();
    let access = api.issue_tokens().access;
    auth.set_tokens(Tokens {
        access,
        refresh: None,
    });
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcome = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[outcome]), counts(&[("200", 1)]));
    let sent = api.refresh_requests();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.is_empty(), "cookie mode sent a body");
    assert_eq!(sent[0].cookie.as_deref(), Some("refresh_token=refresh-1"));
    assert_eq!(auth.tokens().map(|t| t.refresh), Some(None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_refresh_function_gets_the_refresh_token_and_replaces_the_endpoint() {
    let api = MockApi::start().await;
    let presented = Arc::new(Mutex::new(Vec::new()));
    let auth = middleware(&api)
        .refresh_with({
            let (api, presented) = (api.clone(), presented.clone());
            move |refresh| {
                presented.lock().unwrap().push(refresh);
                let tokens = api.issue_tokens();
                async move { Ok(tokens) }
            }
        })
        .build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcome = send(&client, &api.data_url()).await.expect("a request");

    assert_eq!((outcome.0, outcome.1.as_str()), (StatusCode::OK, "2"));
    assert_eq!(*presented.lock().unwrap(), [Some("refresh-1".to_owned())]);
    assert_eq!(auth.refresh_count(), 1);
    assert_eq!(api.refresh_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_refresh_function_decides_whether_the_session_ends() {
    let api = MockApi::start().await;
    let ending = CallCounter::default();
    let ends = middleware(&api)
        .refresh_with(|_| async {
            let status = StatusCode::UNAUTHORIZED;
            Err::<Tokens, _>(RefreshError::SessionEnded { status })
        })
        .on_session_expired(ending.callback())
        .build();
    let keeping = CallCounter::default();
    let keeps = middleware(&api)
        .refresh_with(|_| async { Err::<Tokens, _>(RefreshError::Custom("vault locked".into())) })
        .on_session_expired(keeping.callback())
        .build();
    let tokens = api.issue_tokens();
    ends.set_tokens(tokens.clone());
    keeps.set_tokens(tokens.clone());
    api.expire_access_token();

    let ended = send(&with_middleware(&ends), &api.data_url()).await;
    let kept = send(&with_middleware(&keeps), &api.data_url()).await;

    assert_eq!(tally(&[ended]), counts(&[("session ended (401)", 1)]));
    assert_eq!((ends.tokens(), ending.count()), (None, 1));
    assert_eq!(tally(&[kept]), counts(&[("custom: vault locked", 1)]));
    assert_eq!((keeps.tokens(), keeping.count()), (Some(tokens), 0));
}

#[test]
fn a_login_answer_in_either_field_names_signs_in() {
    let auth = RefreshMiddleware::builder("http://127.0.0.1:9/api/refresh")
        .expect("the refresh URL parses")
        .build();

    assert!(auth.set_tokens_from_json(br#"{"accessToken":"a1","refreshToken":"r1"}"#));
    let ours = auth.tokens();
    assert!(auth.set_tokens_from_json(br#"{"access_token":"a2","refresh_token":"r2"}"#));
    let oauth = auth.tokens();
    assert!(!auth.set_tokens_from_json(br#"{"refreshToken":"r3"}"#));

    let expected = |access: &str, refresh: &str| Tokens {
        access: access.into(),
        refresh: Some(refresh.into()),
    };
    assert_eq!(ours, Some(expected("a1", "r1")));
    assert_eq!(oauth, Some(expected("a2", "r2")));
    assert_eq!(auth.tokens(), Some(expected("a2", "r2")));
}
