//! Refreshes that fail: refused ones end the session, broken ones keep the
//! tokens, and neither loops.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::{
    CallCounter, MockApi, RefreshAnswer, SilentEndpoint, counts, middleware,
    middleware_refreshing_at, send, send_together, tally, unused_port, with_middleware,
};

/// Time for every client of a wave to read its `401` before the refresh
/// answers, so that the whole wave waits on that one refresh.
const SETTLE: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_refused_with_400_ends_the_session_once_for_every_waiting_request() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::BAD_REQUEST));
    api.hold_refresh_until_protected_calls(20, Duration::ZERO);
    let expired = CallCounter::default();
    let auth = middleware(&api)
        .on_session_expired(expired.callback())
        .build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcomes = send_together(&client, &api.data_url(), 20).await;

    assert_eq!(tally(&outcomes), counts(&[("session ended (400)", 20)]));
    assert_eq!(expired.count(), 1);
    assert_eq!(auth.tokens(), None);
    assert_eq!(api.refresh_calls(), 1);

    let later = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[later]), counts(&[("401", 1)]));
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(auth.refresh_count(), 1);
    assert_eq!(expired.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_refused_with_401_ends_the_session_and_the_next_wave_makes_no_refresh() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::UNAUTHORIZED));
    api.hold_refresh_until_protected_calls(10, Duration::ZERO);
    let expired = CallCounter::default();
    let auth = middleware(&api)
        .on_session_expired(expired.callback())
        .build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let first_wave = send_together(&client, &api.data_url(), 10).await;
    let second_wave = send_together(&client, &api.data_url(), 10).await;

    assert_eq!(tally(&first_wave), counts(&[("session ended (401)", 10)]));
    assert_eq!(tally(&second_wave), counts(&[("401", 10)]));
    assert_eq!(api.refresh_calls(), 1);
    assert_eq!(expired.count(), 1);
    assert_eq!(auth.tokens(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_answered_500_keeps_the_tokens_and_succeeds_once_the_server_recovers() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::INTERNAL_SERVER_ERROR));
    let expired = CallCounter::default();
    let auth = middleware(&api)
        .on_session_expired(expired.callback())
        .build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    api.expire_access_token();
    let client = with_middleware(&auth);

    api.hold_refresh_until_protected_calls(10, SETTLE);
    let first_wave = send_together(&client, &api.data_url(), 10).await;
    api.hold_refresh_until_protected_calls(20, SETTLE);
    let second_wave = send_together(&client, &api.data_url(), 10).await;

    assert_eq!(tally(&first_wave), counts(&[("server error (500)", 10)]));
    assert_eq!(tally(&second_wave), counts(&[("server error (500)", 10)]));
    assert_eq!(api.refresh_calls(), 2);
    assert_eq!(auth.tokens(), Some(tokens));

    api.answer_refresh_with(RefreshAnswer::Rotate);
    let recovered = send_together(&client, &api.data_url(), 10).await;

    assert_eq!(tally(&recovered), counts(&[("200", 10)]));
    assert_eq!(api.refresh_calls(), 3);
    assert_eq!(auth.refresh_count(), 3);
    assert_eq!(expired.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_refresh_endpoint_keeps_the_tokens_until_it_comes_back() {
    let api = MockApi::start().await;
    let refresh_addr = unused_port();
    let refresh_url = format!("http://{refresh_addr}/api/refresh");
    let auth = middleware_refreshing_at(&api, &refresh_url).build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let first = send(&client, &api.data_url()).await;
    let second = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[first, second]), counts(&[("transport", 2)]));
    assert_eq!(auth.refresh_count(), 2);
    assert_eq!(auth.tokens(), Some(tokens));

    api.serve_also_on(refresh_addr).await;
    let recovered = send(&client, &api.data_url()).await;

    assert_eq!(tally(&[recovered]), counts(&[("200", 1)]));
    assert_eq!(auth.refresh_count(), 3);
    assert_eq!(api.refresh_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_that_times_out_fails_the_whole_wave_once_and_keeps_the_tokens() {
    let api = MockApi::start().await;
    let silent = SilentEndpoint::start();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("build the refresh client");
    let auth = middleware_refreshing_at(&api, &silent.url("/api/refresh"))
        .client(impatient)
        .build();
    let tokens = api.issue_tokens();
    auth.set_tokens(tokens.clone());
    api.expire_access_token();
    let client = with_middleware(&auth);

    let outcomes = send_together(&client, &api.data_url(), 10).await;

    assert_eq!(tally(&outcomes), counts(&[("transport", 10)]));
    assert_eq!(auth.refresh_count(), 1);
    assert_eq!(auth.tokens(), Some(tokens));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_while_a_refused_refresh_is_in_flight_keeps_the_new_session() {
    let api = MockApi::start().await;
    api.answer_refresh_with(RefreshAnswer::Status(StatusCode::BAD_REQUEST));
    api.hold_refresh();
    let expired = CallCounter::default();
    let auth = middleware(&api)
        .on_session_expired(expired.callback())
        .build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);
    let url = api.data_url();
    let request = tokio::spawn(async move { send(&client, &url).await });
    api.wait_for_refresh_calls(1).await;

    let new_session = api.issue_tokens();
    auth.set_tokens(new_session.clone());
    api.release_refresh();
    let _ = request.await.expect("the request task");

    assert_eq!(auth.tokens(), Some(new_session));
    assert_eq!(expired.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_while_a_refresh_is_in_flight_is_not_undone_by_it() {
    let api = MockApi::start().await;
    api.hold_refresh();
    let auth = middleware(&api).build();
    auth.set_tokens(api.issue_tokens());
    api.expire_access_token();
    let client = with_middleware(&auth);
    let url = api.data_url();
    let request = tokio::spawn(async move { send(&client, &url).await });
    api.wait_for_refresh_calls(1).await;

    auth.clear();
    api.release_refresh();
    let _ = request.await.expect("the request task");

    assert_eq!(auth.tokens(), None);
}
