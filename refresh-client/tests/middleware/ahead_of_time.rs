//! Refreshing before the token runs out, on the middleware's own clock.
//!
//! Every token lives 60 s by its `iat` and `exp`; with the default 30 s
//! margin it is due 30 s after the client received it.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    CallCounter, ISSUED_AT, LIFETIME, ManualClock, MockApi, RefreshAnswer, counts, middleware,
    send, tally, with_middleware,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_past_its_due_point_is_refreshed_before_the_request_is_sent() {
    let api = MockApi::start().await;
    let clock = ManualClock::at(ISSUED_AT);
    let auth = middleware(&api)
        .clock(clock.source())
        .margin(Duration::from_secs(30))
        .build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    clock.advance(29);
    let before_due = send(&client, &api.data_url()).await.expect("a request");
    clock.advance(1);
    let at_due = send(&client, &api.data_url()).await.expect("a request");

    assert_eq!((before_due.0, before_due.1.as_str()), (StatusCode::OK, "1"));
    assert_eq!((at_due.0, at_due.1.as_str()), (StatusCode::OK, "2"));
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(api.rejections(), 0);
    assert_eq!(api.protected_calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_margin_longer_than_half_the_lifetime_is_cut_to_half() {
    let api = MockApi::start().await;
    let clock = ManualClock::at(ISSUED_AT);
    let auth = middleware(&api)
        .clock(clock.source())
        .margin(Duration::from_secs(50))
        .build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    clock.advance(LIFETIME / 2 - 1);
    send(&client, &api.data_url()).await.expect("a request");
    let refreshes_before_half = api.refresh_calls();
    clock.advance(1);
    send(&client, &api.data_url()).await.expect("a request");

    assert_eq!(refreshes_before_half, 0);
    assert_eq!(api.refresh_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_clock_an_hour_ahead_of_the_issuer_refreshes_once_per_token() {
    let api = MockApi::start().await;
    let clock = ManualClock::at(ISSUED_AT + 3_600);
    let auth = middleware(&api).clock(clock.source()).build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    let mut outcomes = Vec::new();
    let mut refreshes = Vec::new();
    for _ in 0..3 {
        for _ in 0..5 {
            outcomes.push(send(&client, &api.data_url()).await);
        }
        refreshes.push(api.refresh_calls());
        clock.advance(30);
    }

    assert_eq!(tally(&outcomes), counts(&[("200", 15)]));
    assert_eq!(refreshes, [0, 1, 2]);
    assert_eq!(api.rejections(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_early_refresh_is_not_tried_again_for_the_same_token() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::INTERNAL_SERVER_ERROR));
    let clock = ManualClock::at(ISSUED_AT);
    let auth = middleware(&api).clock(clock.source()).build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    let client = with_middleware(&auth);

    clock.advance(45);
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        outcomes.push(send(&client, &api.data_url()).await);
    }

    assert_eq!(tally(&outcomes), counts(&[("200", 5)]));
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(auth.tokens(), Some(tokens));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_early_refresh_failed_does_not_refresh_again_on_its_401() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::INTERNAL_SERVER_ERROR));
    let clock = ManualClock::at(ISSUED_AT);
    let auth = middleware(&api).clock(clock.source()).build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    api.expire_access_token();
    let client = with_middleware(&auth);

    clock.advance(45);
    let _ = send(&client, &api.data_url()).await;

    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(auth.tokens(), Some(tokens));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_early_refresh_ends_the_session_before_the_request_is_sent() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::BAD_REQUEST));
    let clock = ManualClock::at(ISSUED_AT);
    let expired = CallCounter::default();
    let auth = middleware(&api)
        .clock(clock.source())
        .on_session_expired(expired.callback())
        .build();
    auth.set_tokens(api.issue_tokens());
    let client = with_middleware(&auth);

    clock.advance(45);
    let outcome = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[outcome]), counts(&[("session ended (400)", 1)]));
    assert_eq!(api.protected_calls(), 0);
    assert_eq!(expired.count(), 1);
    assert_eq!(auth.tokens(), None);
}
